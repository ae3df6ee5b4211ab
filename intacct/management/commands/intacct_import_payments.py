"""Import payments from Sage Intacct now (what the schedule does), or backfill an older range."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from intacct.connections.models import Connection
from intacct.payments import payments_import
from intacct.payments.models import PaymentImportRun


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not a date: use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Import AR and AP payments recorded in Sage Intacct for active connections: the "
        "lookback window by default, or any range with --since / --until."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subsidiary", help="Only this subsidiary code.")
        parser.add_argument(
            "--since",
            type=_date,
            help="Backfill from this day (YYYY-MM-DD) instead of the lookback.",
        )
        parser.add_argument(
            "--until", type=_date, help="Backfill up to and including this day (YYYY-MM-DD)."
        )

    def handle(self, *args, subsidiary=None, since=None, until=None, **options):
        if since and until and until < since:
            raise CommandError("--until is before --since.")
        connections = Connection.objects.select_related("subsidiary").filter(
            status=Connection.Status.ACTIVE, primary_sync=True
        )
        if subsidiary:
            connections = connections.filter(subsidiary__code=subsidiary)
            if not connections:
                raise CommandError(f"No active Sage Intacct connection for {subsidiary}.")
        failed = []
        for connection in connections:
            run = payments_import(
                connection=connection,
                since=since,
                until=until,
                trigger=PaymentImportRun.Trigger.COMMAND,
            )
            label = f"{connection.subsidiary.code} {connection.subsidiary.name}"
            self.stdout.write(
                f"{label} payments {run.window_start:%Y-%m-%d %H:%M} → "
                f"{run.window_end:%Y-%m-%d %H:%M}: {run.get_status_display().lower()}, "
                f"{run.fetched} fetched, {run.applied} applied, {run.duplicates} duplicates, "
                f"{run.skipped} skipped, {run.unmatched} unmatched, {run.voided} voided "
                f"(flagged), {run.closed} closed, {run.requests} requests"
            )
            for reason, count in run.skipped_reasons.items():
                self.stdout.write(f"  - skipped {count}: {reason}")
            if run.error:
                self.stdout.write(f"  - error: {run.error}")
                failed.append(connection.subsidiary.code)
        if failed:
            raise CommandError(f"Payment import failed for {', '.join(failed)}.")
