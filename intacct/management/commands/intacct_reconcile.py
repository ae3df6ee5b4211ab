"""Reconcile with Sage now (what the daily schedule does): compare each active connection's
ledger with Sage and print what differs."""

from django.core.management.base import BaseCommand, CommandError

from intacct.connections.models import Connection
from intacct.reconcile.models import ReconcileRun
from intacct.reconcile.services import connection_reconcile, findings_by_kind

NO_CONNECTION = (
    "No active Sage Intacct connection for {code}: check the subsidiary code, and that its "
    "connection is Active with Primary Sync on (Sage Intacct → Connections)."
)


class Command(BaseCommand):
    help = (
        "Compare every document exported to Sage Intacct with what Sage holds now (deleted, "
        "reversed, edited or paid there, or created with our numbers) and report the drift."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subsidiary", help="Only this subsidiary code.")

    def handle(self, *args, subsidiary=None, **options):
        connections = Connection.objects.select_related("subsidiary").filter(
            status=Connection.Status.ACTIVE, primary_sync=True
        )
        if subsidiary:
            connections = connections.filter(subsidiary__code=subsidiary)
            if not connections:
                raise CommandError(NO_CONNECTION.format(code=subsidiary))
        failed = []
        for connection in connections:
            run = connection_reconcile(connection=connection, trigger=ReconcileRun.Trigger.COMMAND)
            label = f"{connection.subsidiary.code} {connection.subsidiary.name}"
            if run.error:
                self.stdout.write(f"{label}: failed: {run.error}")
                failed.append(connection.subsidiary.code)
                continue
            verdict = "in agreement" if run.in_agreement else "drift found"
            self.stdout.write(
                f"{label}: {verdict} ({run.ledger_documents} ledger rows, "
                f"{run.sage_documents} Sage documents, {run.requests} requests)"
            )
            for _kind, title, findings in findings_by_kind(run=run):
                self.stdout.write(f"  {title}: {len(findings)}")
                for finding in findings:
                    self.stdout.write(f"    - {finding.message}")
        if failed:
            raise CommandError(f"Reconcile with Sage failed for {', '.join(failed)}.")
