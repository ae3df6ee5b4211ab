"""Create or update the task cluster's schedules from code (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from intacct.connections.schedules import schedules_ensure

# A fresh demo has no connection yet: nothing is wrong, say so and what creates them.
NONE_YET = (
    "No schedules yet: no subsidiary is connected to Sage Intacct. Connecting one (Sage "
    "Intacct → Sage Intacct connections → Connect a subsidiary) creates its export and payment "
    "import schedules; pausing or disconnecting it removes them."
)


class Command(BaseCommand):
    help = "Create or update every django-q2 schedule declared in code."

    def handle(self, *args, **options):
        count = schedules_ensure()
        if not count:
            self.stdout.write(NONE_YET)
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{count} export schedule(s) in place: each syncing connection exports every "
                f"{settings.INTACCT_EXPORT_INTERVAL_MINUTES} minutes and imports payments every "
                "12 hours."
            )
        )
