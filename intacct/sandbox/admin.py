"""The sandbox console: do in "Sage" what an accountant does (post, pay, void, select, reverse).

Every action is one service call; a refusal Sage would give becomes an error message.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from . import notify, services
from .engine.documents import PARTIALLY_PAID, POSTED, SELECTED
from .models import (
    SandboxBill,
    SandboxFaults,
    SandboxInvoice,
    SandboxNotificationDelivery,
    SandboxNotificationTarget,
    SandboxPayment,
    SandboxUser,
)


def _run(modeladmin, request, queryset, action, done: str):
    count = 0
    for record in queryset:
        try:
            action(record)
            count += 1
        except services.SandboxActionError as error:
            modeladmin.message_user(
                request, f"{record.object} {record.pk}: {error}", messages.ERROR
            )
    if count:
        modeladmin.message_user(request, f"{count} {done}.", messages.SUCCESS)


PAYABLE = (POSTED, PARTIALLY_PAID, SELECTED)
# The console's payment methods as people write them (ACH and EFT are initialisms).
METHOD_LABELS = {
    "check": "Check",
    "ach": "ACH",
    "eft": "EFT",
    "credit_card": "Credit card",
    "cash": "Cash",
}


class PaymentForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    method = forms.ChoiceField(choices=list(METHOD_LABELS.items()))
    check_number = forms.CharField(required=False, max_length=40)
    memo = forms.CharField(required=False, max_length=200)
    paid_on = forms.DateField(initial=timezone.localdate)


class ConsoleAdmin(admin.ModelAdmin):
    """Sage's records are changed only through the console's actions, never edited directly."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DocumentAdmin(ConsoleAdmin):
    list_display = [
        "pk",
        "number",
        "party",
        "state",
        "total",
        "paid",
        "due",
        "entity",
        "when_modified",
        "pay_link",
    ]
    list_filter = ["state", "entity"]
    search_fields = ["key", "data__RECORDID"]
    ordering = ["-pk"]
    actions = ["post", "pay_in_full", "reverse_documents"]
    party_field = "CUSTOMERID"

    @admin.display(description="Number")
    def number(self, obj):
        return obj.data.get("RECORDID") or "—"

    @admin.display(description="Customer / vendor")
    def party(self, obj):
        return obj.data.get(self.party_field, "")

    @admin.display(description="Total")
    def total(self, obj):
        return obj.data.get("TOTALENTERED")

    @admin.display(description="Paid")
    def paid(self, obj):
        return obj.data.get("TOTALPAID")

    @admin.display(description="Due")
    def due(self, obj):
        return obj.data.get("TOTALDUE")

    @admin.display(description="")
    def pay_link(self, obj):
        # Only a document Sage would take a payment on (posted, partly paid or selected, with
        # something due) offers one.
        if obj.state not in PAYABLE or Decimal(str(obj.data.get("TOTALDUE") or 0)) <= 0:
            return ""
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_pay", args=[obj.pk])
        return format_html('<a href="{}">Record a payment…</a>', url)

    @admin.action(description="Post the selected drafts")
    def post(self, request, queryset):
        _run(self, request, queryset, lambda r: services.sandbox_invoice_post(document=r), "posted")

    @admin.action(description="Record a payment of everything due")
    def pay_in_full(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda r: services.sandbox_payment_record(document=r),
            "paid in full",
        )

    @admin.action(description="Reverse (dated today)")
    def reverse_documents(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda r: services.sandbox_document_reverse(document=r),
            "reversed",
        )

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_pay"
        return [
            path("<int:pk>/pay/", self.admin_site.admin_view(self.pay_view), name=name),
            *super().get_urls(),
        ]

    def pay_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = get_object_or_404(self.model.objects, pk=pk)
        form = PaymentForm(request.POST or None, initial={"amount": document.data.get("TOTALDUE")})
        if request.method == "POST" and form.is_valid():
            try:
                services.sandbox_payment_record(document=document, **form.cleaned_data)
            except services.SandboxActionError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    f"Payment of {form.cleaned_data['amount']} recorded "
                    f"on {document.object} {document.pk}.",
                    messages.SUCCESS,
                )
                return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "document": document,
            "party": document.data.get(self.party_field, ""),
            "title": f"Record a payment on {document}",
        }
        return TemplateResponse(request, "admin/intacct_sandbox/record_payment.html", context)


@admin.register(SandboxInvoice)
class SandboxInvoiceAdmin(DocumentAdmin):
    pass


@admin.register(SandboxBill)
class SandboxBillAdmin(DocumentAdmin):
    party_field = "VENDORID"
    actions = [*DocumentAdmin.actions, "select_for_payment"]

    @admin.action(description="Select for payment (payment request)")
    def select_for_payment(self, request, queryset):
        _run(self, request, queryset, lambda r: services.sandbox_bill_select(bill=r), "selected")


@admin.register(SandboxPayment)
class SandboxPaymentAdmin(ConsoleAdmin):
    list_display = ["pk", "object", "party", "method", "reference", "amount", "state", "date"]
    list_filter = ["object", "state"]
    ordering = ["-pk"]
    actions = ["void"]

    @admin.display(description="Customer / vendor")
    def party(self, obj):
        return obj.data.get("CUSTOMERID") or obj.data.get("VENDORID")

    @admin.display(description="Method")
    def method(self, obj):
        return obj.data.get("PAYMENTMETHOD")

    @admin.display(description="Check / reference")
    def reference(self, obj):
        return obj.data.get("DOCNUMBER")

    @admin.display(description="Amount")
    def amount(self, obj):
        return obj.data.get("TOTALPAID")

    @admin.display(description="Date")
    def date(self, obj):
        return obj.data.get("WHENCREATED")

    @admin.action(description="Void the selected payments")
    def void(self, request, queryset):
        _run(self, request, queryset, lambda r: services.sandbox_payment_void(payment=r), "voided")


@admin.register(SandboxFaults)
class SandboxFaultsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "latency_ms", "fail_next", "fail_status", "drop_next"]
    actions = ["clear", "expire_sessions"]

    def has_add_permission(self, request):
        return not SandboxFaults.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Clear every fault")
    def clear(self, request, queryset):
        services.sandbox_faults_clear()
        self.message_user(request, "Faults cleared.", messages.SUCCESS)

    @admin.action(description="Expire every Sage session")
    def expire_sessions(self, request, queryset):
        count = services.sandbox_sessions_expire()
        self.message_user(request, f"{count} session(s) expired.", messages.SUCCESS)


@admin.register(SandboxUser)
class SandboxUserAdmin(admin.ModelAdmin):
    list_display = ["user_id", "company", "is_active"]
    list_select_related = ["company"]
    fields = ["company", "user_id", "is_active", "modules"]
    readonly_fields = ["company", "user_id"]
    actions = ["revoke", "restore"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke (sign-in fails)")
    def revoke(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(request, f"{count} user(s) revoked.", messages.SUCCESS)

    @admin.action(description="Restore")
    def restore(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(request, f"{count} user(s) restored.", messages.SUCCESS)


@admin.register(SandboxNotificationTarget)
class SandboxNotificationTargetAdmin(admin.ModelAdmin):
    """The sandbox company's payment Smart Events: on or off, and where they post."""

    list_display = ["company", "enabled", "url"]
    list_select_related = ["company"]
    fields = ["company", "enabled", "url", "ar_body", "ap_body"]
    formfield_overrides = {models.URLField: {"assume_scheme": "http"}}  # the sandbox runs on http


@admin.register(SandboxNotificationDelivery)
class SandboxNotificationDeliveryAdmin(ConsoleAdmin):
    """The delivery log: what the sandbox posted, its answers, retries and give-ups."""

    list_display = [
        "created_at",
        "sage_object",
        "record_no",
        "event",
        "status",
        "attempts",
        "last_status",
        "short_answer",
        "next_attempt_at",
    ]
    list_filter = ["status", "sage_object"]
    fields = [
        "target",
        "sage_object",
        "record_no",
        "event",
        "url",
        "body",
        "status",
        "attempts",
        "last_status",
        "last_answer",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    ]
    readonly_fields = fields
    actions = ["deliver_again"]

    @admin.display(description="Answer")
    def short_answer(self, obj):
        return obj.last_answer[:120]

    @admin.action(description="Deliver again now")
    def deliver_again(self, request, queryset):
        count = 0
        for delivery in queryset:
            notify.sandbox_delivery_retry(delivery=delivery)
            count += 1
        self.message_user(request, f"{count} notification(s) queued again.", messages.SUCCESS)
