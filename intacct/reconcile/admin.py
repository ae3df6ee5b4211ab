"""Reconcile with Sage in the admin: the report page of a connection (grouped findings, each
with its links and suggested fix; Reconcile now, Link, Import payments) and the last result on
the connection's page. Each view is one service call; errors become messages."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from intacct.client import errors
from intacct.connections.admin import NOT_SYNCING
from intacct.connections.crypto import CredentialDecryptError
from intacct.errors import drift
from intacct.export import DOCUMENT_TYPES
from intacct.payments.admin import IMPORT_FAILED, payment_run_message

from .models import ReconcileFinding, ReconcileRun
from .services import (
    ReconcileError,
    connection_reconcile,
    findings_by_kind,
    reconcile_last,
    reconcile_link,
    reconcile_payments_import,
)

RECONCILED = "Reconcile with Sage: {verdict}."
RECONCILE_FAILED = "Reconcile with Sage failed: {error}"
LINK_DONE = "{label} is now linked to {document} in the ledger; the TMS will not send it again."
LINK_FAILED = "Sage Intacct could not be read to check the document before linking it: {error}"
THEN_RECONCILED = "The report below is a new reconcile."
NO_RUN = "Nothing to act on: run Reconcile with Sage first."

# What the page says of each kind, and what fixes it.
KIND_HELP = {
    ReconcileFinding.Kind.UNLINKED: "Sage has them, but the ledger has no RECORDNO, so the "
    "TMS could send them again. Link the ones that are these documents.",
    ReconcileFinding.Kind.MISSING: "Exported, then deleted in Sage Intacct.",
    ReconcileFinding.Kind.REVERSED: "Exported, then reversed in Sage Intacct; the TMS still "
    "bills them.",
    ReconcileFinding.Kind.DIFFERS: "Edited in Sage Intacct after the export.",
    ReconcileFinding.Kind.PAID: "Paid in full in Sage Intacct; the TMS has not imported the "
    "payments yet. Import payments brings them in.",
    ReconcileFinding.Kind.FOREIGN: "Created in Sage Intacct with a Ledgerline number; "
    "Ledgerline did not export them.",
}


def summary(run: ReconcileRun | None) -> dict:
    """What the connection page shows of the last run."""
    if run is None:
        return {"run": None}
    labels = dict(ReconcileFinding.Kind.choices)
    counts = [
        (labels[k], run.counts[k]) for k, _ in ReconcileFinding.Kind.choices if run.counts.get(k)
    ]
    return {"run": run, "counts": counts}


def verdict(run: ReconcileRun) -> str:
    if run.error:
        return f"failed: {run.error}"
    if run.in_agreement:
        return f"in agreement ({run.ledger_documents} documents compared)"
    counts = summary(run)["counts"]
    return "drift found: " + ", ".join(f"{label}: {n}" for label, n in counts)


def _document_url(finding: ReconcileFinding) -> str:
    if not finding.document_type or finding.document_id is None:
        return ""
    kind = DOCUMENT_TYPES.get(finding.document_type)
    if kind is None:
        return ""
    meta = kind.model._meta
    try:
        return reverse(
            f"admin:{meta.app_label}_{meta.model_name}_change", args=[finding.document_id]
        )
    except NoReverseMatch:
        return ""


class ReconcilePages:
    """Adds Reconcile with Sage to the connection's admin (URLs at the end of its list)."""

    def connection_views(self) -> list[tuple]:
        return [
            *super().connection_views(),
            (self.reconcile, "reconcile", "<int:pk>/reconcile/"),
            (require_POST(self.reconcile_now), "reconcile_now", "<int:pk>/reconcile/run/"),
            (
                require_POST(self.reconcile_link),
                "reconcile_link",
                "<int:pk>/reconcile/link/",
            ),
            (
                require_POST(self.reconcile_import_payments),
                "reconcile_import_payments",
                "<int:pk>/reconcile/import-payments/",
            ),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.model.objects.filter(pk=object_id).first() if object_id else None
        extra = {"reconcile": summary(reconcile_last(connection=connection))} if connection else {}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def reconcile(self, request, pk):
        """The report: the last run's findings, grouped by kind."""
        connection = self._connection(pk)
        run = reconcile_last(connection=connection)
        groups = []
        if run is not None:
            for kind, label, findings in findings_by_kind(run=run):
                rows = [
                    {
                        "finding": f,
                        "document_url": _document_url(f),
                        "error_url": reverse(
                            "admin:accounting_errortransaction_change", args=[f.error_id]
                        )
                        if f.error_id
                        else "",
                    }
                    for f in findings
                ]
                groups.append({"kind": kind, "label": label, "help": KIND_HELP[kind], "rows": rows})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": connection,
            "connection": connection,
            "title": f"Reconcile with Sage: {connection.subsidiary}",
            "run": run,
            "verdict": verdict(run) if run else "",
            "groups": groups,
            "drift_description": drift.DRIFT_DESCRIPTION,
        }
        return TemplateResponse(request, "admin/intacct/reconcile.html", context)

    def reconcile_now(self, request, pk):
        connection = self._connection(pk)
        if not connection.is_syncing:
            self.message_user(request, NOT_SYNCING, messages.WARNING)
            return redirect("admin:intacct_reconcile", pk)
        try:
            run = connection_reconcile(connection=connection, trigger=ReconcileRun.Trigger.PAGE)
        except CredentialDecryptError as error:
            self.message_user(request, RECONCILE_FAILED.format(error=error), messages.ERROR)
        else:
            level = (
                messages.ERROR
                if run.error
                else messages.SUCCESS
                if run.in_agreement
                else messages.WARNING
            )
            self.message_user(request, RECONCILED.format(verdict=verdict(run)), level)
        return redirect("admin:intacct_reconcile", pk)

    def reconcile_link(self, request, pk):
        """Link the finding named in the form (`finding`) to its ledger row."""
        connection = self._connection(pk)
        finding_id = request.POST.get("finding", "")
        finding = get_object_or_404(
            ReconcileFinding.objects.select_related("run__connection", "record"),
            pk=int(finding_id) if finding_id.isdigit() else 0,
            run__connection=connection,
        )
        try:
            reconcile_link(finding=finding, user=request.user)
        except ReconcileError as error:
            self.message_user(request, str(error), messages.ERROR)
        except (errors.IntacctError, CredentialDecryptError) as error:
            self.message_user(request, LINK_FAILED.format(error=error), messages.ERROR)
        else:
            self.message_user(
                request,
                LINK_DONE.format(
                    label=f"{finding.sage_object} {finding.sage_number}",
                    document=finding.document_label,
                ),
                messages.SUCCESS,
            )
        return redirect("admin:intacct_reconcile", pk)

    def reconcile_import_payments(self, request, pk):
        connection = self._connection(pk)
        run = reconcile_last(connection=connection)
        if run is None:
            self.message_user(request, NO_RUN, messages.WARNING)
            return redirect("admin:intacct_reconcile", pk)
        try:
            imported = reconcile_payments_import(run=run)
        except ReconcileError as error:
            self.message_user(request, str(error), messages.WARNING)
            return redirect("admin:intacct_reconcile", pk)
        except CredentialDecryptError as error:
            self.message_user(request, IMPORT_FAILED.format(error=error), messages.ERROR)
            return redirect("admin:intacct_reconcile", pk)
        self.message_user(request, *payment_run_message(imported, then=THEN_RECONCILED))
        if not imported.error:
            connection_reconcile(connection=connection, trigger=ReconcileRun.Trigger.PAGE)
        return redirect("admin:intacct_reconcile", pk)
