"""Payments received or paid against one load, summary invoice, trip or paystub."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from .base import CENT, money_field
from .loads import Load, SummaryInvoice
from .paystubs import Paystub
from .trips import Trip


class Payment(models.Model):
    """Money received for a load or summary invoice, or paid for a trip or paystub."""

    class Method(models.TextChoices):
        CHECK = "check", "Check"
        CREDIT_CARD = "credit_card", "Credit card"
        ACH = "ach", "ACH"
        EFT = "eft", "EFT"
        CASH = "cash", "Cash"
        WIRE = "wire", "Wire"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        FACTORING_REPORT = "factoring_report", "Factoring report"
        IMPORTED = "imported", "Imported from Sage Intacct"

    load = models.ForeignKey(
        Load, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    summary_invoice = models.ForeignKey(
        SummaryInvoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    trip = models.ForeignKey(
        Trip, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    paystub = models.ForeignKey(
        Paystub, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    amount = money_field(
        validators=[MinValueValidator(CENT, message="A payment is at least 0.01.")]
    )
    paid_on = models.DateField()
    method = models.CharField(max_length=20, choices=Method.choices)
    check_number = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=80, blank=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    # Set on payments imported from Sage: the payment detail line they came from.
    connection = models.ForeignKey(
        "intacct.Connection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="imported_payments",
    )
    sage_payment_id = models.CharField("Sage payment RECORDNO", max_length=30, blank=True)
    sage_detail_id = models.CharField("Sage payment detail RECORDNO", max_length=30, blank=True)
    voided_in_sage_at = models.DateTimeField(
        null=True, blank=True, help_text="When an import found this payment voided in Sage."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "sage_detail_id"],
                condition=~Q(sage_detail_id=""),
                name="one_payment_per_sage_detail",
            ),
            models.CheckConstraint(
                name="payment_exactly_one_document",
                condition=(
                    Q(
                        load__isnull=False,
                        summary_invoice__isnull=True,
                        trip__isnull=True,
                        paystub__isnull=True,
                    )
                    | Q(
                        load__isnull=True,
                        summary_invoice__isnull=False,
                        trip__isnull=True,
                        paystub__isnull=True,
                    )
                    | Q(
                        load__isnull=True,
                        summary_invoice__isnull=True,
                        trip__isnull=False,
                        paystub__isnull=True,
                    )
                    | Q(
                        load__isnull=True,
                        summary_invoice__isnull=True,
                        trip__isnull=True,
                        paystub__isnull=False,
                    )
                ),
            ),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount} on {self.paid_on}"

    @property
    def document(self):
        return self.load or self.summary_invoice or self.trip or self.paystub

    def clean(self):
        documents = [self.load_id, self.summary_invoice_id, self.trip_id, self.paystub_id]
        if sum(1 for d in documents if d) != 1:
            raise ValidationError(
                "Apply the payment to exactly one load, summary invoice, trip or paystub."
            )
