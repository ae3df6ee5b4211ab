"""Test each connection's sign-in and run the reconciliation check; non-zero exit on problems."""

from django.core.management.base import BaseCommand, CommandError

from intacct.connections import services
from intacct.connections.models import Connection


class Command(BaseCommand):
    help = "Check Sage Intacct connections: sign-in test and reconciliation against Sage."

    def add_arguments(self, parser):
        parser.add_argument("--subsidiary", help="Only the connection of this subsidiary code.")

    def handle(self, *args, subsidiary=None, **options):
        connections = Connection.objects.select_related("subsidiary").exclude(
            status=Connection.Status.DISCONNECTED
        )
        if subsidiary:
            connections = connections.filter(subsidiary__code=subsidiary)
            if not connections:
                raise CommandError(f"No Sage Intacct connection for subsidiary {subsidiary}.")
        failing = 0
        for connection in connections:
            ok, message = services.connection_test(connection=connection)
            problems = services.connection_reconcile(connection=connection) if ok else []
            label = f"{connection.subsidiary.code} {connection.subsidiary.name}"
            if ok and not problems:
                self.stdout.write(self.style.SUCCESS(f"{label}: OK"))
                continue
            failing += 1
            self.stdout.write(self.style.ERROR(f"{label}: {len(problems) or 1} problem(s)"))
            if not ok:
                self.stdout.write(f"  - {message}")
            for problem in problems:
                step = Connection.Step(problem.step).label
                self.stdout.write(f"  - {problem.message} (fix it in the {step} step)")
        if failing:
            raise CommandError(f"{failing} connection(s) need attention.")
