"""Admin for the TMS accounting data. Every list page costs a constant number of queries."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin

from intacct import error_transactions as errors_service

from . import models, resources, services
from .services import trip_carrier_invoice_record

BILLING = "accounting.billing"


class TotalsAdminMixin:
    """Annotates the document total from its lines in the list query (no per-row query)."""

    @admin.display(description="Total", ordering="total")
    def total_display(self, obj):
        return obj.get_total()

    def get_queryset(self, request):
        return super().get_queryset(request).with_totals()


# --- Organisation ---------------------------------------------------------------------------


class OfficeInline(admin.TabularInline):
    model = models.Office
    extra = 0


class FleetInline(admin.TabularInline):
    model = models.Fleet
    extra = 0


@admin.register(models.Subsidiary)
class SubsidiaryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    inlines = [OfficeInline, FleetInline]


@admin.register(models.Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "subsidiary"]
    list_filter = ["subsidiary"]
    list_select_related = ["subsidiary"]
    search_fields = ["name"]


@admin.register(models.Fleet)
class FleetAdmin(OfficeAdmin):
    pass


# --- Parties --------------------------------------------------------------------------------


class ExternalIdInline(admin.TabularInline):
    model = models.ExternalAccountingId
    extra = 1
    fields = ["subsidiary", "external_id"]
    verbose_name = "External Accounting ID"
    verbose_name_plural = (
        "External Accounting IDs (the Sage Customer ID / Vendor ID, one per subsidiary)"
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subsidiary")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Read the subsidiaries once per page, not once per row's select.
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "subsidiary" and field is not None:
            field.choices = list(field.choices)
        return field


class PartyAdmin(ImportExportModelAdmin):
    search_fields = ["name", "email", "external_ids__external_id"]
    list_filter = ["is_active"]
    inlines = [ExternalIdInline]

    @admin.display(description="External Accounting IDs")
    def external_ids_display(self, obj):
        return (
            ", ".join(f"{row.subsidiary.code}: {row.external_id}" for row in obj.external_ids.all())
            or "—"
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("external_ids__subsidiary")


@admin.register(models.Customer)
class CustomerAdmin(PartyAdmin):
    resource_classes = [resources.CustomerResource]
    list_display = ["name", "email", "city", "state", "external_ids_display", "is_active"]


@admin.register(models.Carrier)
class CarrierAdmin(PartyAdmin):
    resource_classes = [resources.CarrierResource]
    list_display = ["name", "mc_number", "dot_number", "external_ids_display", "is_active"]
    search_fields = [*PartyAdmin.search_fields, "mc_number", "dot_number"]


@admin.register(models.Driver)
class DriverAdmin(PartyAdmin):
    resource_classes = [resources.DriverResource]
    list_display = [
        "name",
        "subsidiary",
        "driver_type",
        "contractor_type",
        "external_ids_display",
        "is_active",
    ]
    list_filter = ["subsidiary", "driver_type", "contractor_type", "is_active"]
    list_select_related = ["subsidiary"]
    autocomplete_fields = ["carrier"]


@admin.register(models.ExternalAccountingId)
class ExternalAccountingIdAdmin(ImportExportModelAdmin):
    resource_classes = [resources.ExternalAccountingIdResource]
    list_display = ["external_id", "party_display", "namespace", "subsidiary"]
    list_filter = ["subsidiary", "namespace"]
    list_select_related = ["subsidiary", "customer", "carrier", "driver"]
    search_fields = ["external_id", "customer__name", "carrier__name", "driver__name"]
    autocomplete_fields = ["customer", "carrier", "driver"]

    @admin.display(description="Party")
    def party_display(self, obj):
        return obj.party


# --- Equipment ------------------------------------------------------------------------------


@admin.register(models.Truck)
class TruckAdmin(admin.ModelAdmin):
    list_display = ["number", "subsidiary", "fleet"]
    list_filter = ["subsidiary", "fleet"]
    list_select_related = ["subsidiary", "fleet"]
    search_fields = ["number"]


@admin.register(models.Trailer)
class TrailerAdmin(admin.ModelAdmin):
    list_display = ["number", "subsidiary"]
    list_filter = ["subsidiary"]
    list_select_related = ["subsidiary"]
    search_fields = ["number"]


# --- Loads and trips ------------------------------------------------------------------------


class LoadChargeInline(admin.TabularInline):
    model = models.LoadCharge
    extra = 0
    fields = ["kind", "item_code", "description", "quantity", "rate", "amount"]
    readonly_fields = ["amount"]


class TripInline(admin.TabularInline):
    model = models.Trip
    extra = 0
    fields = ["number", "carrier", "driver", "status", "carrier_invoice_number"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("carrier", "driver")


class PaymentInline(admin.TabularInline):
    model = models.Payment
    extra = 0
    fields = ["paid_on", "amount", "method", "check_number", "reference", "note", "source"]


class LoadPaymentInline(PaymentInline):
    fk_name = "load"


@admin.register(models.Load)
class LoadAdmin(TotalsAdminMixin, ImportExportModelAdmin):
    resource_classes = [resources.LoadChargeResource]
    list_display = [
        "number",
        "customer",
        "invoice_as_subsidiary",
        "tender_as_subsidiary",
        "billing_status",
        "total_display",
        "pickup_date",
        "delivery_date",
        "created_at",
    ]
    list_filter = ["billing_status", "invoice_as_subsidiary", "tender_as_subsidiary", "fleet"]
    list_select_related = ["customer", "invoice_as_subsidiary", "tender_as_subsidiary"]
    search_fields = [
        "number",
        "reference_number",
        "po_number",
        "customer__name",
        "shipper_name",
        "consignee_name",
    ]
    date_hierarchy = "created_at"
    autocomplete_fields = ["customer", "driver", "truck", "trailer"]
    raw_id_fields = ["summary_invoice"]
    inlines = [LoadChargeInline, TripInline, LoadPaymentInline]
    actions = ["invoice_selected"]

    @admin.action(description="Invoice selected loads (batch invoicing)", permissions=["change"])
    def invoice_selected(self, request, queryset):
        # Counted before invoicing: a list filtered by billing status no longer holds them after.
        selected = list(queryset.values_list("pk", flat=True))
        invoiced = services.loads_invoice(load_ids=selected)
        skipped = len(selected) - len(invoiced)
        self.message_user(
            request,
            f"{len(invoiced)} load(s) invoiced, one invoice each; they are sent to Sage "
            "Intacct now where the subsidiary syncs."
            + (
                f" {skipped} skipped: only Released or Queued loads can be invoiced."
                if skipped
                else ""
            ),
            messages.SUCCESS if invoiced else messages.WARNING,
        )

    fieldsets = [
        (None, {"fields": ["number", "customer", "billing_status", "invoiced_at"]}),
        (
            "Subsidiaries",
            {"fields": ["invoice_as_subsidiary", "tender_as_subsidiary", "office", "fleet"]},
        ),
        ("Equipment and people", {"fields": ["driver", "truck", "trailer", "dispatcher"]}),
        (
            "Stops and references",
            {
                "fields": [
                    "shipper_name",
                    "consignee_name",
                    "pickup_date",
                    "delivery_date",
                    "reference_number",
                    "po_number",
                    "notes",
                    "summary_invoice",
                ]
            },
        ),
    ]


class TripChargeInline(LoadChargeInline):
    model = models.TripCharge


class TripPaymentInline(PaymentInline):
    fk_name = "trip"


@admin.register(models.Trip)
class TripAdmin(TotalsAdminMixin, admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        previous = form.initial.get("carrier_invoice_document")
        super().save_model(request, obj, form, change)
        if "carrier_invoice_document" in form.changed_data:
            trip_carrier_invoice_record(trip=obj, previous_document=str(previous or ""))

    list_display = [
        "number",
        "load",
        "subsidiary",
        "carrier",
        "driver",
        "status",
        "carrier_invoice_number",
        "total_display",
        "created_at",
    ]
    list_filter = ["status", "subsidiary"]
    list_select_related = ["load", "subsidiary", "carrier", "driver"]
    search_fields = [
        "number",
        "load__number",
        "carrier__name",
        "driver__name",
        "carrier_invoice_number",
    ]
    autocomplete_fields = ["carrier", "driver"]
    raw_id_fields = ["load", "carrier_settlement"]
    inlines = [TripChargeInline, TripPaymentInline]


# --- Driver pay -----------------------------------------------------------------------------


class PaystubLineInline(admin.TabularInline):
    model = models.PaystubLine
    extra = 0
    fields = ["kind", "item_code", "description", "amount"]


class PaystubPaymentInline(PaymentInline):
    fk_name = "paystub"


@admin.register(models.Paystub)
class PaystubAdmin(TotalsAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "driver",
        "subsidiary",
        "period_start",
        "period_end",
        "status",
        "total_display",
    ]
    list_filter = ["status", "subsidiary"]
    list_select_related = ["driver", "subsidiary"]
    search_fields = ["number", "driver__name"]
    autocomplete_fields = ["driver"]
    raw_id_fields = ["driver_settlement"]
    inlines = [PaystubLineInline, PaystubPaymentInline]


@admin.register(models.ECheck)
class ECheckAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "subsidiary",
        "reason",
        "amount",
        "payee_display",
        "export_ar",
        "export_ap",
        "status",
        "issued_at",
    ]
    list_filter = ["status", "reason", "subsidiary", "export_ar", "export_ap"]
    list_select_related = ["subsidiary", "payee_driver", "payee_carrier"]
    search_fields = ["number", "payee_driver__name", "payee_carrier__name"]
    raw_id_fields = ["load", "trip"]
    autocomplete_fields = ["payee_driver", "payee_carrier"]

    @admin.display(description="Payee")
    def payee_display(self, obj):
        return obj.payee


class TransactionAdmin(admin.ModelAdmin):
    list_filter = ["subsidiary"]
    list_select_related = ["subsidiary", "driver"]
    search_fields = ["driver__name"]
    date_hierarchy = "date"
    raw_id_fields = ["trip", "paystub"]
    autocomplete_fields = ["driver", "truck"]


@admin.register(models.FuelTransaction)
class FuelTransactionAdmin(TransactionAdmin):
    list_display = ["date", "subsidiary", "driver", "location", "gallons", "amount"]


@admin.register(models.TollTransaction)
class TollTransactionAdmin(TransactionAdmin):
    list_display = ["date", "subsidiary", "driver", "plaza", "amount"]


@admin.register(models.EscrowTransaction)
class EscrowTransactionAdmin(admin.ModelAdmin):
    list_display = ["date", "subsidiary", "driver", "kind", "amount"]
    list_filter = ["kind", "subsidiary"]
    list_select_related = ["subsidiary", "driver"]
    search_fields = ["driver__name"]
    raw_id_fields = ["paystub"]
    autocomplete_fields = ["driver"]


# --- Grouped documents ----------------------------------------------------------------------


class SummaryLoadInline(admin.TabularInline):
    model = models.Load
    fields = ["number", "billing_status", "total_display"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Total")
    def total_display(self, obj):
        return obj.get_total()

    def get_queryset(self, request):
        return super().get_queryset(request).with_totals()


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
        report = errors_service.documents_retry_export(
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


@admin.register(models.SummaryInvoice)
class SummaryInvoiceAdmin(RetryExportMixin, admin.ModelAdmin):
    document_type = "summary_invoice"
    list_display = ["number", "customer", "subsidiary", "status", "load_count", "issued_at"]
    list_filter = ["status", "subsidiary"]
    list_select_related = ["customer", "subsidiary"]
    search_fields = ["number", "customer__name"]
    autocomplete_fields = ["customer"]
    inlines = [SummaryLoadInline]

    @admin.display(description="Loads", ordering="load_count")
    def load_count(self, obj):
        return obj.load_count

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(load_count=Count("loads"))


class SettlementAdmin(admin.ModelAdmin):
    """A settlement of one party's documents (`members`: the related name, e.g. "trips")."""

    party = ""
    members = ""
    list_filter = ["status", "subsidiary"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.list_display = [
            "number",
            self.party,
            "subsidiary",
            "period_start",
            "period_end",
            "status",
            "member_count",
        ]
        self.list_select_related = [self.party, "subsidiary"]
        self.search_fields = ["number", f"{self.party}__name"]
        self.autocomplete_fields = [self.party]

    @admin.display(description="Documents")
    def member_count(self, obj):
        return obj.member_count

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count(self.members))


@admin.register(models.CarrierSettlement)
class CarrierSettlementAdmin(RetryExportMixin, SettlementAdmin):
    party, members = "carrier", "trips"
    document_type = "carrier_settlement"


@admin.register(models.DriverSettlement)
class DriverSettlementAdmin(RetryExportMixin, SettlementAdmin):
    party, members = "driver", "paystubs"
    document_type = "driver_settlement"


class CarrierStatementLineInline(PaystubLineInline):
    model = models.CarrierStatementLine


@admin.register(models.CarrierStatement)
class CarrierStatementAdmin(TotalsAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "carrier",
        "subsidiary",
        "direction",
        "statement_date",
        "total_display",
    ]
    list_filter = ["direction", "subsidiary"]
    list_select_related = ["carrier", "subsidiary"]
    search_fields = ["number", "carrier__name"]
    autocomplete_fields = ["carrier"]
    inlines = [CarrierStatementLineInline]


@admin.register(models.Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "paid_on",
        "amount",
        "method",
        "check_number",
        "reference",
        "document",
        "source",
    ]
    list_filter = ["source", "method"]
    list_select_related = ["load", "summary_invoice", "trip", "paystub"]
    search_fields = ["reference", "check_number", "load__number", "trip__number", "paystub__number"]
    date_hierarchy = "paid_on"
    raw_id_fields = ["load", "summary_invoice", "trip", "paystub"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the integration writes; people read them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.SyncRecord)
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


@admin.register(models.ErrorTransaction)
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
        "entity_type",
        "transaction_type",
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
                "fields": [
                    "entity_type",
                    "transaction_type",
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
        ("Resolution", {"fields": ["resolution", "resolved_at", "resolved_by"]}),
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
        return obj.entity_type

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
        if obj.status == models.ErrorTransaction.Status.FAILED:
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

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["error_groups"] = errors_service.error_transactions_group(
                queryset=context["cl"].queryset
            )
        return response

    # --- the detail page ----------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        error = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if error is not None and self.has_view_permission(request, error):
            extra["detail"] = errors_service.error_transaction_detail(error=error)
            extra["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
        return super().change_view(request, object_id, form_url, extra)

    # --- actions: each is a POST, confirmed on a second page ----------------------------------

    @admin.action(description="Retry Sync", permissions=["billing"])
    def retry_sync(self, request, queryset):
        queryset = queryset.select_related("subsidiary")
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, "retry_sync")
        report = errors_service.error_transactions_retry(errors=queryset, user=request.user)
        self._report(request, "Retry Sync", report)
        return None

    @admin.action(description="Mark as Synced", permissions=["billing"])
    def mark_as_synced(self, request, queryset):
        queryset = queryset.select_related("subsidiary")
        if request.POST.get("post") != "yes":
            return self._confirm(request, queryset, "mark_as_synced")
        count = errors_service.error_transactions_mark_synced(errors=queryset, user=request.user)
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
            errors_service.MARK_AS_SYNCED_WARNING,
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
            report = errors_service.error_transactions_sync_all(user=request.user)
            self._report(request, "Sync All", report)
            return redirect("admin:accounting_errortransaction_changelist")
        failed = models.ErrorTransaction.objects.filter(
            status=models.ErrorTransaction.Status.FAILED
        )
        retryable = failed.filter(entity_type__in=errors_service.RETRYABLE_ENTITY_TYPES).count()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Sync All: are you sure?",
            "failed": failed.count(),
            "retryable": retryable,
            "warning": errors_service.SYNC_ALL_WARNING,
            "entity_types": ", ".join(errors_service.RETRYABLE_ENTITY_TYPES),
            "changelist_url": reverse("admin:accounting_errortransaction_changelist"),
        }
        return TemplateResponse(request, "admin/accounting/errortransaction/sync_all.html", context)
