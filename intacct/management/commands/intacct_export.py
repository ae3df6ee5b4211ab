"""Export invoiced loads to Sage Intacct now (what the schedule does), with a summary."""

import xml.etree.ElementTree as ET

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intacct import export
from intacct.models import Connection
from intacct.sage import client_for


class Command(BaseCommand):
    help = "Export AR invoices for invoiced loads of active connections to Sage Intacct."

    def add_arguments(self, parser):
        parser.add_argument("--subsidiary", help="Only this subsidiary code.")
        parser.add_argument("--limit", type=int, help="At most this many loads per connection.")
        parser.add_argument("--batch-size", type=int, default=settings.INTACCT_BATCH_SIZE)
        parser.add_argument(
            "--dry-run", action="store_true", help="Print each payload and send nothing."
        )

    def handle(self, *args, subsidiary=None, limit=None, batch_size, dry_run, **options):
        connections = Connection.objects.select_related("subsidiary").filter(
            status=Connection.Status.ACTIVE, primary_sync=True
        )
        if subsidiary:
            connections = connections.filter(subsidiary__code=subsidiary)
            if not connections:
                raise CommandError(f"No active Sage Intacct connection for {subsidiary}.")
        for connection in connections:
            label = f"{connection.subsidiary.code} {connection.subsidiary.name}"
            if dry_run:
                self._dry_run(connection, limit, label)
                continue
            for what, run in (("invoices", export.loads_export), ("bills", export.trips_export)):
                summary = run(connection=connection, batch_size=batch_size, limit=limit)
                self.stdout.write(
                    f"{label} {what}: {summary.created} created, {summary.failed} failed, "
                    f"{summary.skipped} skipped, {summary.requests} requests"
                )
                for error in summary.errors:
                    self.stdout.write(f"  - {error}")

    def _dry_run(self, connection, limit, label):
        client = client_for(connection)
        data = export.run_data(connection, client, dry_run=True)
        loads = export.loads_eligible(connection=connection)
        for load in loads[:limit] if limit else loads:
            try:
                function = export.load_invoice_function(
                    data=data, load=load, controlid=f"dry-run-{load.pk}"
                )
            except export.ExportError as error:
                self.stdout.write(f"{label} load {load.number}: would fail: {error}")
                continue
            self.stdout.write(f"{label} load {load.number}:")
            self.stdout.write(ET.tostring(function.body, encoding="unicode"))
