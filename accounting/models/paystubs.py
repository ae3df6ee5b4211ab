"""Driver pay: paystubs and their lines."""

from django.core.exceptions import ValidationError
from django.db import models

from .base import AmountLine, TimeStamped, TotalFromLines, TotalsQuerySet
from .organization import Subsidiary
from .parties import Driver


class Paystub(TotalFromLines, TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINALIZED = "finalized", "Finalized"
        PAID = "paid", "Paid"

    number = models.CharField(max_length=30, unique=True)
    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="paystubs")
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="paystubs")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    finalized_at = models.DateTimeField(null=True, blank=True)
    driver_settlement = models.ForeignKey(
        "DriverSettlement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="paystubs",
    )

    objects = TotalsQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "number"]

    def __str__(self):
        return self.number

    def clean(self):
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "The period ends before it starts."})


class PaystubLine(AmountLine):
    class Kind(models.TextChoices):
        PAY = "pay", "Pay"
        BONUS = "bonus", "Bonus"
        HOURLY = "hourly", "Hourly"
        PER_DIEM = "per_diem", "Per diem"
        REIMBURSEMENT = "reimbursement", "Reimbursement"
        DEDUCTION = "deduction", "Deduction"
        FUEL = "fuel", "Fuel"
        TOLL = "toll", "Toll"
        ESCROW = "escrow", "Escrow"

    CREDIT_KINDS = frozenset({Kind.DEDUCTION, Kind.FUEL, Kind.TOLL, Kind.ESCROW})

    paystub = models.ForeignKey(Paystub, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["id"]
