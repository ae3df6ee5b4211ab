"""Create (or reset) the demo admin user and print how to log in."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # development only: bin/run refuses nothing, so keep it obvious


class Command(BaseCommand):
    help = "Create the demo superuser (admin / admin) if missing and print the credentials."

    def handle(self, *args, **options):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            self.stdout.write(
                f"Created the admin user. Log in as {DEMO_USERNAME} / {DEMO_PASSWORD}"
            )
        else:
            self.stdout.write(f"Admin user exists. Log in as {DEMO_USERNAME} (password unchanged).")
