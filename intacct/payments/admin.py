"""The payment import in the admin: the run log (read-only, one row per run) and Import
payments now on the connection's page."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from intacct.connections.admin import NOT_SYNCING, ConnectionLogAdmin

from .models import PaymentImportRun
from .services import payments_import

IMPORT_DONE = (
    "Payments imported from Sage Intacct: {applied} applied, {closed} document(s) closed, "
    "{duplicates} already imported, {skipped} skipped, {unmatched} not ours."
)
IMPORT_FAILED = "The payment import failed: {error}"


def payment_run_message(run: PaymentImportRun, then: str = "") -> tuple[str, int]:
    """What a page says of a payment import it ran, and at which level: its error, or what it
    applied (and `then`, what the page does next)."""
    if run.error:
        return IMPORT_FAILED.format(error=run.error), messages.ERROR
    return f"{IMPORT_DONE.format(**run.counts())} {then}".strip(), messages.SUCCESS


class PaymentImportPages:
    """Adds Import payments now to the connection's admin."""

    def connection_views(self) -> list[tuple]:
        return [
            *super().connection_views(),
            (
                require_POST(self.import_payments_now),
                "import_payments_now",
                "<int:pk>/import-payments-now/",
            ),
        ]

    def import_payments_now(self, request, pk):
        """Import the payments Sage recorded in the lookback window now, as the schedule would."""
        connection = self._connection(pk)
        if not connection.is_syncing:
            self.message_user(request, NOT_SYNCING, messages.WARNING)
        else:
            run = payments_import(connection=connection, trigger=PaymentImportRun.Trigger.COMMAND)
            self.message_user(request, *payment_run_message(run))
        return redirect("admin:intacct_connection_change", pk)


@admin.register(PaymentImportRun)
class PaymentImportRunAdmin(ConnectionLogAdmin):
    """The payment import log: read-only, one row per run."""

    list_display = [
        "started_at",
        "subsidiary",
        "window",
        "status",
        "trigger",
        "fetched",
        "applied",
        "duplicates",
        "skipped",
        "unmatched",
        "voided",
        "closed",
        "requests",
        "short_error",
    ]
    list_filter = ["status", "trigger", "backfill", "connection__subsidiary"]
    list_select_related = ["connection__subsidiary"]
    date_hierarchy = "started_at"
    search_fields = ["connection__subsidiary__code", "connection__subsidiary__name", "error"]
    fields = [
        "connection",
        "trigger",
        "backfill",
        "window_start",
        "window_end",
        "started_at",
        "finished_at",
        "status",
        "fetched",
        "applied",
        "duplicates",
        "skipped",
        "reasons",
        "unmatched",
        "voided",
        "closed",
        "requests",
        "error",
    ]
    readonly_fields = fields

    @admin.display(description="window")
    def window(self, run):
        tail = " (backfill)" if run.backfill else ""
        return f"{run.window_start:%Y-%m-%d %H:%M} → {run.window_end:%Y-%m-%d %H:%M}{tail}"

    @admin.display(description="error")
    def short_error(self, run):
        return run.error[:80]

    @admin.display(description="skipped reasons")
    def reasons(self, run):
        if not run.skipped_reasons:
            return "—"
        items = format_html_join(
            "", "<li>{}: {}</li>", ((n, reason) for reason, n in run.skipped_reasons.items())
        )
        return format_html("<ul>{}</ul>", items)
