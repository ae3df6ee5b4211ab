"""Create or update the task cluster's schedules from code (idempotent)."""

from django.core.management.base import BaseCommand

from intacct.connections.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Create or update every django-q2 schedule declared in code."

    def handle(self, *args, **options):
        count = schedules_ensure()
        self.stdout.write(self.style.SUCCESS(f"{count} export schedule(s) in place."))
