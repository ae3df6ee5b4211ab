"""Load the demo trucking company (idempotent)."""

from django.core.management.base import BaseCommand

from accounting.services import demo_seed


class Command(BaseCommand):
    help = "Create the demo company: subsidiaries, parties, equipment, loads, trips, pay. Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("--loads", type=int, default=200, help="Number of loads (default 200).")

    def handle(self, *args, loads, **options):
        report = demo_seed(loads=loads)
        if not report.total:
            self.stdout.write("Demo data already present: nothing to create.")
            return
        summary = ", ".join(f"{count} {label}" for label, count in report.created.items() if count)
        self.stdout.write(self.style.SUCCESS(f"Demo data created: {summary}."))
