"""The integration's pages under Accounting: Error Transactions (why each export failed, how to
fix it, Retry Sync, Sync All, Mark as Synced), the sync ledger, and Retry export on the summary
invoice and settlement lists.

The TMS's admin knows nothing of Sage: the integration registers these models' admins and
extends the TMS's summary invoice and settlement admins with its action, so they stay under
Accounting in the menu, at the same URLs.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounting import admin as tms
from accounting import models as am
from accounting.admin import BILLING
from intacct.export.admin import GroupMembersLeftOut

from . import kinds, listing, services
from .fixes import error_transaction_detail
from .kinds import RETRYABLE_ENTITY_TYPES


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the integration writes; people read them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(am.SyncRecord)
class SyncRecordAdmin(ReadOnlyAdmin):
    def has_delete_permission(self, request, obj=None):
        # A deleted row would forget which Sage document a TMS document is: never from here.
        return False

    list_display = [
        "reference",
        "document_type",
        "sage_object",
        "record_no",
        "state",
        "connection",
        "synced_at",
    ]
    list_filter = ["state", "document_type", "sage_object"]
    list_select_related = ["connection__subsidiary"]
    search_fields = ["reference", "record_no", "controlid"]


# --- Error Transactions ---------------------------------------------------------------------


@admin.register(am.ErrorTransaction)
class ErrorTransactionAdmin(ReadOnlyAdmin):
    """Admin → Accounting → Error Transactions: why each export failed, how to fix it, Retry
    Sync, Sync All and Mark as Synced. Only users with the "billing" permission see it."""

    list_display = [
        "entity_type_column",
        "transaction_type_column",
        "class_column",
        "message_column",
        "status_column",
        "reference_column",
        "total_column",
        "created_column",
    ]
    list_display_links = ["entity_type_column", "reference_column"]
    list_filter = [
        "status",
        ("entity_type", listing.IndexedValuesFilter),
        ("transaction_type", listing.IndexedValuesFilter),
        "subsidiary",
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["subsidiary"]
    search_fields = ["reference", "message"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["retry_sync", "mark_as_synced"]
    fieldsets = [
        (
            None,
            {
                # The columns, not the model fields: a read-only value needs no help text
                # under it saying what kind of value it is.
                "fields": [
                    "entity_type_column",
                    "transaction_type_column",
                    "subsidiary",
                    "reference",
                    "total",
                    "status",
                    "message",
                    "created_at",
                    "updated_at",
                    "attempts",
                ]
            },
        ),
        ("Resolution", {"fields": ["resolution", "resolved_at", "resolved_by_column"]}),
    ]

    # --- who may use it -----------------------------------------------------------------------

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_perm(BILLING)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_billing_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail stays; Mark as Synced clears a row

    # --- the list -----------------------------------------------------------------------------

    @admin.display(description="Entity Type", ordering="entity_type")
    def entity_type_column(self, obj):
        return kinds.entity_type_label(obj.entity_type)

    @admin.display(description="Resolved by")
    def resolved_by_column(self, obj):
        return obj.resolved_by or "—"

    @admin.display(description="Transaction Type", ordering="transaction_type")
    def transaction_type_column(self, obj):
        return obj.transaction_type

    @admin.display(description="Class", ordering="subsidiary__name")
    def class_column(self, obj):
        return obj.subsidiary

    @admin.display(description="Error Message")
    def message_column(self, obj):
        short = obj.message if len(obj.message) <= 140 else obj.message[:139] + "…"
        return format_html('<span title="{}">{}</span>', obj.message, short)

    @admin.display(description="Status", ordering="status")
    def status_column(self, obj):
        if obj.status == am.ErrorTransaction.Status.FAILED:
            return format_html('<strong style="color:#c62828">{}</strong>', "Failed")
        how = " (marked as synced)" if obj.resolution == "marked_synced" else ""
        return format_html('<span style="color:#2e7d32">Resolved{}</span>', how)

    @admin.display(description="Reference", ordering="reference")
    def reference_column(self, obj):
        return obj.reference

    @admin.display(description="Transaction Total", ordering="total")
    def total_column(self, obj):
        return obj.total

    @admin.display(description="Date Created", ordering="created_at")
    def created_column(self, obj):
        return obj.created_at

    def get_changelist(self, request, **kwargs):
        return listing.ErrorChangeList

    def get_paginator(self, request, queryset, per_page, *args, **kwargs):
        if getattr(request, "error_transactions_span_counted", False):
            paginator = listing.CountAndSpan(queryset, per_page, *args, **kwargs)
        else:
            paginator = super().get_paginator(request, queryset, per_page, *args, **kwargs)
        request.error_transactions_paginator = paginator  # its count is the total (unfiltered)
        return paginator

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["error_groups"] = services.error_transactions_group(
                queryset=context["cl"].queryset
            )
            context["error_dates"] = date_hierarchy(listing.PeriodsFound(context["cl"]))
            context["error_rows"] = listing.result_list(context["cl"])
        return response

    def get_search_results(self, request, queryset, search_term):
        """Each word is a reference's beginning (an index finds it) or a part of the message
        (PostgreSQL: a trigram index finds it; SQLite reads the messages)."""
        for word in search_term.split():
            queryset = queryset.filter(listing.reference_starts(word) | Q(message__icontains=word))
        return queryset, False

    # --- the detail page ----------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        error = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if error is not None and self.has_view_permission(request, error):
            extra["detail"] = error_transaction_detail(error=error)
            extra["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
        return super().change_view(request, object_id, form_url, extra)

    # --- actions: each is a POST, confirmed on a second page ----------------------------------

    @admin.action(description="Retry Sync", permissions=["billing"])
    def retry_sync(self, request, queryset):
        queryset = queryset.select_related("subsidiary")
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, "retry_sync")
        report = services.error_transactions_retry(errors=queryset, user=request.user)
        self._report(request, "Retry Sync", report)
        return None

    @admin.action(description="Mark as Synced", permissions=["billing"])
    def mark_as_synced(self, request, queryset):
        queryset = queryset.select_related("subsidiary")
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, "mark_as_synced")
        count = services.error_transactions_mark_synced(errors=queryset, user=request.user)
        self.message_user(
            request,
            f"Marked {count} transaction(s) as synced; they will not be exported again unless "
            "they change in the TMS.",
            messages.SUCCESS,
        )
        return None

    CONFIRMATIONS = {
        "retry_sync": (
            "Retry Sync",
            "The documents of these transactions are sent to Sage Intacct again now. Make the "
            "corrections first: a transaction that still has the problem fails again.",
            "Yes, retry sync",
        ),
        "mark_as_synced": (
            "Mark as Synced",
            services.MARK_AS_SYNCED_WARNING,
            "Yes, mark as synced",
        ),
    }

    def _confirm(self, request, queryset, action):
        title, warning, button = self.CONFIRMATIONS[action]
        rows = list(queryset)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{title}: are you sure?",
            "action": action,
            "warning": warning,
            "button": button,
            "rows": rows,
            "open_rows": [row for row in rows if row.status == "failed"],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/accounting/errortransaction/confirm_action.html", context
        )

    def _report(self, request, title, report):
        level = messages.SUCCESS if not (report.failed or report.skipped) else messages.WARNING
        self.message_user(request, f"{title}: {report.summary}", level)
        reasons = report.reasons.most_common()
        for reason, count in reasons[:8]:
            self.message_user(request, f"{count} skipped: {reason}", messages.WARNING)
        if len(reasons) > 8:
            self.message_user(
                request, f"… and {len(reasons) - 8} more reasons for skipping.", messages.WARNING
            )

    # --- Sync All -----------------------------------------------------------------------------

    def get_urls(self):
        sync_all = self.admin_site.admin_view(self.sync_all_view)
        return [
            path("sync-all/", sync_all, name="accounting_errortransaction_sync_all"),
            *super().get_urls(),
        ]

    def sync_all_view(self, request):
        """GET: what Sync All will do; POST: do it, then show the report on the list."""
        if not self.has_billing_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            report = services.error_transactions_sync_all(user=request.user)
            self._report(request, "Sync All", report)
            return redirect("admin:accounting_errortransaction_changelist")
        failed = am.ErrorTransaction.objects.filter(status=am.ErrorTransaction.Status.FAILED)
        retryable = failed.filter(entity_type__in=RETRYABLE_ENTITY_TYPES).count()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Sync All: are you sure?",
            "failed": failed.count(),
            "retryable": retryable,
            "warning": services.SYNC_ALL_WARNING,
            "entity_types": ", ".join(RETRYABLE_ENTITY_TYPES),
            "changelist_url": reverse("admin:accounting_errortransaction_changelist"),
        }
        return TemplateResponse(request, "admin/accounting/errortransaction/sync_all.html", context)


class RetryExportMixin:
    """ "Retry export" on a document's own page: sends the selected documents to Sage now.

    Summary invoices, carrier settlements and driver settlements are not re-synced from the
    Error Transactions page (the seeds): this is where their failures are retried."""

    document_type = ""
    actions = ["retry_export"]

    def has_billing_permission(self, request):
        return request.user.is_active and request.user.has_perm(BILLING)

    @admin.action(description="Retry export to Sage Intacct", permissions=["billing"])
    def retry_export(self, request, queryset):
        report = services.documents_retry_export(
            document_type=self.document_type,
            documents=queryset.select_related("subsidiary"),
            user=request.user,
        )
        level = messages.SUCCESS if not (report.failed or report.skipped) else messages.WARNING
        self.message_user(
            request,
            f"Retry export: {report.exported} exported, {report.failed} failed (see Error "
            f"Transactions), {report.skipped} skipped.",
            level,
        )
        for reason, count in report.reasons.most_common():
            self.message_user(request, f"{count} skipped: {reason}", messages.WARNING)


# --- Retry export (and the members billed on their own) on the TMS's own group pages --------

admin.site.unregister([am.SummaryInvoice, am.CarrierSettlement, am.DriverSettlement])


@admin.register(am.SummaryInvoice)
class SummaryInvoiceAdmin(RetryExportMixin, GroupMembersLeftOut, tms.SummaryInvoiceAdmin):
    document_type = "summary_invoice"


@admin.register(am.CarrierSettlement)
class CarrierSettlementAdmin(RetryExportMixin, GroupMembersLeftOut, tms.CarrierSettlementAdmin):
    document_type = "carrier_settlement"


@admin.register(am.DriverSettlement)
class DriverSettlementAdmin(RetryExportMixin, GroupMembersLeftOut, tms.DriverSettlementAdmin):
    document_type = "driver_settlement"
