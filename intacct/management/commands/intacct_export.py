"""Export ready documents to Sage Intacct now (what the schedule does), with a summary."""

import xml.etree.ElementTree as ET

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intacct import export
from intacct.connections.models import Connection
from intacct.connections.sage import client_for


class Command(BaseCommand):
    help = (
        "Export AR invoices and AP bills (loads, summary invoices, trips, paystubs, "
        "settlements, e-checks, carrier statements, intercompany) of active connections."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subsidiary", help="Only this subsidiary code.")
        parser.add_argument(
            "--limit", type=int, help="At most this many documents per type and connection."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=settings.INTACCT_BATCH_SIZE,
            help=(
                "Documents sent to Sage in one request (default: INTACCT_BATCH_SIZE, "
                f"now {settings.INTACCT_BATCH_SIZE})."
            ),
        )
        parser.add_argument(
            "--type",
            dest="document_types",
            action="append",
            choices=list(export.DOCUMENT_TYPES),
            help="Only this document type (repeatable).",
        )
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
        document_types = options["document_types"] or list(export.DOCUMENT_TYPES)
        for connection in connections:
            label = f"{connection.subsidiary.code} {connection.subsidiary.name}"
            client = client_for(connection)
            if dry_run:
                for document_type in document_types:
                    self._dry_run(connection, client, document_type, limit, label)
                continue
            total = export.ExportSummary()
            summaries = export.connection_export(
                connection=connection,
                batch_size=batch_size,
                limit=limit,
                client=client,
                document_types=document_types,
            )
            for document_type, summary in summaries.items():
                total.add(summary)
                self._report(f"{label} {document_type}", summary, quiet=True)
            self._report(f"{label} total", total, quiet=False)

    def _report(self, label, summary, *, quiet):
        counts = (
            summary.created,
            summary.updated,
            summary.reversed,
            summary.deleted,
            summary.failed,
            summary.skipped,
        )
        if quiet and not any(counts) and not (summary.errors or summary.unexpected_errors):
            return
        self.stdout.write(
            f"{label}: {summary.created} created, {summary.updated} updated, "
            f"{summary.reversed} reversed, {summary.deleted} deleted, {summary.failed} failed, "
            f"{summary.skipped} skipped, {summary.requests} requests"
            + (f", {summary.unexpected} unexpected errors" if summary.unexpected else "")
        )
        for error in summary.errors + summary.unexpected_errors:
            self.stdout.write(f"  - {error}")

    def _dry_run(self, connection, client, document_type, limit, label):
        data = export.run_data(connection, client, dry_run=True)
        docs = export.documents_eligible(connection=connection, document_type=document_type)
        for doc in docs[:limit] if limit else docs:
            name = f"{label} {document_type} {doc.number}"
            try:
                function = export.document_function(
                    data=data,
                    document_type=document_type,
                    doc=doc,
                    controlid=f"dry-run-{doc.pk}",
                )
            except export.ExportError as error:
                self.stdout.write(f"{name}: would fail: {error}")
                continue
            self.stdout.write(f"{name}:")
            self.stdout.write(ET.tostring(function.body, encoding="unicode"))
