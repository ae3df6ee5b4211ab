"""Admin for the TMS accounting data. Every list page costs a constant number of queries."""

import os

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, TextField
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin

from config.validators import plain_text

from . import models, resources, services
from .services import trip_carrier_invoice_record

BILLING = "accounting.billing"
IMPORT_FILE_GONE = (
    "The file to import is no longer on the server (it was imported already, or too long "
    "ago): choose it again."
)


class PlainTextAdmin:
    """Free text typed here reaches Sage Intacct or a log: a control character is refused,
    naming the field, when the form is saved (config/validators.py)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            plain_text(formfield, multiline=isinstance(db_field, TextField))
        return formfield


class ModelAdmin(PlainTextAdmin, admin.ModelAdmin):
    pass


class TabularInline(PlainTextAdmin, admin.TabularInline):
    pass


class CsvAdmin(PlainTextAdmin, ImportExportModelAdmin):
    """A model admin with CSV import (previewed) and export. A preview that finds problems
    says first how many rows failed and which is the first; a confirmation whose file is
    gone asks for the file again instead of failing."""

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        result = (getattr(response, "context_data", None) or {}).get("result")
        problem = resources.import_problem(result) if result is not None else ""
        if problem:
            self.message_user(request, problem, messages.ERROR)
        return response

    def process_import(self, request, **kwargs):
        form = self.create_confirm_form(request)
        if form.is_valid() and not self._confirmed_file_exists(form.cleaned_data):
            self.message_user(request, IMPORT_FILE_GONE, messages.ERROR)
            opts = self.model._meta
            return redirect(f"admin:{opts.app_label}_{opts.model_name}_import")
        return super().process_import(request, **kwargs)

    def _confirmed_file_exists(self, data) -> bool:
        formats = self.get_import_formats()
        index = data["format"]
        if not (index.isdigit() and int(index) < len(formats)):
            return False
        storage = self.get_tmp_storage_class()(
            name=data["import_file_name"], **self.get_tmp_storage_class_kwargs()
        )
        return os.path.isfile(storage.get_full_path())


class TotalsAdminMixin:
    """Annotates the document total from its lines in the list query (no per-row query)."""

    @admin.display(description="Total", ordering="total")
    def total_display(self, obj):
        return obj.get_total()

    def get_queryset(self, request):
        return super().get_queryset(request).with_totals()


# --- Organisation ---------------------------------------------------------------------------


class OfficeInline(TabularInline):
    model = models.Office
    extra = 0


class FleetInline(TabularInline):
    model = models.Fleet
    extra = 0


@admin.register(models.Subsidiary)
class SubsidiaryAdmin(ModelAdmin):
    list_display = ["name", "code", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    inlines = [OfficeInline, FleetInline]


@admin.register(models.Office)
class OfficeAdmin(ModelAdmin):
    list_display = ["name", "subsidiary"]
    list_filter = ["subsidiary"]
    list_select_related = ["subsidiary"]
    search_fields = ["name"]


@admin.register(models.Fleet)
class FleetAdmin(OfficeAdmin):
    pass


# --- Parties --------------------------------------------------------------------------------


class ExternalIdInline(TabularInline):
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


class PartyAdmin(CsvAdmin):
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
class ExternalAccountingIdAdmin(CsvAdmin):
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
class TruckAdmin(ModelAdmin):
    list_display = ["number", "subsidiary", "fleet"]
    list_filter = ["subsidiary", "fleet"]
    list_select_related = ["subsidiary", "fleet"]
    search_fields = ["number"]


@admin.register(models.Trailer)
class TrailerAdmin(ModelAdmin):
    list_display = ["number", "subsidiary"]
    list_filter = ["subsidiary"]
    list_select_related = ["subsidiary"]
    search_fields = ["number"]


# --- Loads and trips ------------------------------------------------------------------------


class LoadChargeInline(TabularInline):
    model = models.LoadCharge
    extra = 0
    fields = ["kind", "item_code", "description", "quantity", "rate", "amount"]
    readonly_fields = ["amount"]


class TripInline(TabularInline):
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


IMPORTED = models.Payment.Source.IMPORTED
IMPORTED_PAYMENT_READ_ONLY = (
    "Payments imported from Sage Intacct are Sage's record: they are read-only here and "
    "change only through the payment import (a payment voided in Sage is marked voided by the "
    "next import). To correct one, change or void it in Sage Intacct, then import payments "
    "again (the connection page's Import payments now)."
)


def sage_payment_link(payment):
    """Where the imported payment is in Sage: the built-in sandbox's console page when the
    sandbox is on, otherwise Sage's record number (Sage's own pages have no stable link)."""
    if not payment.sage_payment_id:
        return "—"
    label = f"Sage payment {payment.sage_payment_id}"
    if settings.INTACCT_SANDBOX:
        try:
            url = reverse(
                "admin:intacct_sandbox_sandboxpayment_change", args=[payment.sage_payment_id]
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)
    return label


class PaymentInline(TabularInline):
    """Payments entered in the TMS (by hand or from a factoring report): editable. Imported
    payments are listed by ImportedPaymentInline and are not in this formset's queryset, so a
    form posted with an imported payment's id saves nothing to it (Django skips a row outside
    the queryset), and "Imported" is not a source anyone can choose."""

    model = models.Payment
    extra = 0
    verbose_name_plural = "Payments"
    fields = ["paid_on", "amount", "method", "check_number", "reference", "note", "source"]
    formfield_overrides = {TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})}}

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(source=IMPORTED)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "source":  # "Imported" is the import's to set, never a person's
            kwargs["choices"] = [c for c in db_field.choices if c[0] != IMPORTED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


class ImportedPaymentInline(TabularInline):
    """Payments imported from Sage Intacct: read-only, with a link to the Sage payment."""

    model = models.Payment
    extra = 0
    verbose_name = "Payment imported from Sage Intacct"
    verbose_name_plural = "Payments imported from Sage Intacct (read-only)"
    fields = [
        "paid_on",
        "amount",
        "method",
        "check_number",
        "reference",
        "note",
        "sage_payment",
        "voided_in_sage_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(source=IMPORTED)

    @admin.display(description="In Sage")
    def sage_payment(self, obj):
        return sage_payment_link(obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentInlinesMixin:
    """A document page lists its imported payments (read-only) only when it has some, so a
    page without any posts no empty formset for them."""

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and obj.payments.filter(source=IMPORTED).exists():
            return inlines
        return [i for i in inlines if not isinstance(i, ImportedPaymentInline)]


class LoadPaymentInline(PaymentInline):
    fk_name = "load"


class LoadImportedPaymentInline(ImportedPaymentInline):
    fk_name = "load"


@admin.register(models.Load)
class LoadAdmin(PaymentInlinesMixin, TotalsAdminMixin, CsvAdmin):
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
        "created_on",
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
    inlines = [LoadChargeInline, TripInline, LoadPaymentInline, LoadImportedPaymentInline]
    actions = ["invoice_selected"]

    @admin.display(description="Created", ordering="created_at")
    def created_on(self, obj):
        # The day only: the time would push the list past a laptop screen's width.
        return date_format(timezone.localtime(obj.created_at), "DATE_FORMAT")

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


class TripImportedPaymentInline(ImportedPaymentInline):
    fk_name = "trip"


@admin.register(models.Trip)
class TripAdmin(PaymentInlinesMixin, TotalsAdminMixin, ModelAdmin):
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
    inlines = [TripChargeInline, TripPaymentInline, TripImportedPaymentInline]


# --- Driver pay -----------------------------------------------------------------------------


class PaystubLineInline(TabularInline):
    model = models.PaystubLine
    extra = 0
    fields = ["kind", "item_code", "description", "amount"]


class PaystubPaymentInline(PaymentInline):
    fk_name = "paystub"


class PaystubImportedPaymentInline(ImportedPaymentInline):
    fk_name = "paystub"


@admin.register(models.Paystub)
class PaystubAdmin(PaymentInlinesMixin, TotalsAdminMixin, ModelAdmin):
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
    inlines = [PaystubLineInline, PaystubPaymentInline, PaystubImportedPaymentInline]


@admin.register(models.ECheck)
class ECheckAdmin(ModelAdmin):
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


class TransactionAdmin(ModelAdmin):
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
class EscrowTransactionAdmin(ModelAdmin):
    list_display = ["date", "subsidiary", "driver", "kind", "amount"]
    list_filter = ["kind", "subsidiary"]
    list_select_related = ["subsidiary", "driver"]
    search_fields = ["driver__name"]
    raw_id_fields = ["paystub"]
    autocomplete_fields = ["driver"]


# --- Grouped documents ----------------------------------------------------------------------


class SummaryLoadInline(TabularInline):
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


@admin.register(models.SummaryInvoice)
class SummaryInvoiceAdmin(ModelAdmin):
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


class SettlementAdmin(ModelAdmin):
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
class CarrierSettlementAdmin(SettlementAdmin):
    party, members = "carrier", "trips"


@admin.register(models.DriverSettlement)
class DriverSettlementAdmin(SettlementAdmin):
    party, members = "driver", "paystubs"


class CarrierStatementLineInline(PaystubLineInline):
    model = models.CarrierStatementLine


@admin.register(models.CarrierStatement)
class CarrierStatementAdmin(TotalsAdminMixin, ModelAdmin):
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
class PaymentAdmin(ModelAdmin):
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

    # Imported payments are Sage's record: refused here whatever the page shows (a crafted
    # POST included); only the payment import changes them.
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.source == IMPORTED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.source == IMPORTED:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if any(getattr(obj, "source", "") == IMPORTED for obj in objs):
            perms_needed = {*perms_needed, "payments imported from Sage Intacct"}
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request, queryset):
        if queryset.filter(source=IMPORTED).exists():
            raise PermissionDenied(IMPORTED_PAYMENT_READ_ONLY)
        super().delete_queryset(request, queryset)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payment = self.get_object(request, object_id)
        if payment is not None and payment.source == IMPORTED:
            self.message_user(request, IMPORTED_PAYMENT_READ_ONLY, messages.INFO)
        return super().change_view(request, object_id, form_url, extra_context)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "source":
            kwargs["choices"] = [c for c in db_field.choices if c[0] != IMPORTED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)
