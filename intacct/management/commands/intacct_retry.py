"""Retry failed exports from the command line: Sync All, or Retry Sync for given rows."""

from django.core.management.base import BaseCommand, CommandError

from accounting.models import ErrorTransaction
from intacct.errors import services as error_transactions


class Command(BaseCommand):
    help = (
        "Sync All (re-validate, then resend every failed Load, Trip, E-check and Paystub), or "
        "Retry Sync for the Error Transactions given with --id."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subsidiary", help="Only this subsidiary code.")
        parser.add_argument(
            "--id",
            dest="ids",
            type=int,
            action="append",
            help="Retry this Error Transaction now, without re-validating (repeatable).",
        )

    def handle(self, *args, subsidiary=None, ids=None, **options):
        rows = ErrorTransaction.objects.filter(status=ErrorTransaction.Status.FAILED)
        if subsidiary:
            rows = rows.filter(subsidiary__code=subsidiary)
        rows = rows.select_related("subsidiary")
        if ids:
            chosen = list(rows.filter(pk__in=ids))
            missing = sorted(set(ids) - {row.pk for row in chosen})
            if missing:
                raise CommandError(
                    f"No failed Error Transaction with id {', '.join(map(str, missing))}"
                    + (f" in {subsidiary}" if subsidiary else "")
                    + ": see Admin → Accounting → Error Transactions."
                )
            report = error_transactions.error_transactions_retry(errors=chosen)
        else:
            report = error_transactions.error_transactions_sync_all(errors=rows)
        self.stdout.write(report.summary)
        for reason, count in report.reasons.most_common():
            self.stdout.write(f"  {count} skipped: {reason}")
        if report.failed:
            raise CommandError(f"{report.failed} still failing: see the Error Transactions page.")
