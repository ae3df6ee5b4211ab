"""Settlements (trips or paystubs paid as one AP bill) and carrier statements."""

from decimal import Decimal

from django.db import models

from .base import ZERO, AmountLine, TimeStamped, TotalFromLines, TotalsQuerySet
from .organization import Subsidiary
from .parties import Carrier, Driver


class Settlement(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    number = models.CharField(max_length=30, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-period_end"]

    def __str__(self):
        return self.number


class CarrierSettlement(Settlement):
    """A carrier's approved trips paid as one AP bill."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="settlements")

    def get_total(self) -> Decimal:
        return sum((trip.get_total() for trip in self.trips.all()), ZERO)


class DriverSettlement(Settlement):
    """A driver's finalized paystubs paid as one AP bill."""

    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="settlements")

    def get_total(self) -> Decimal:
        return sum((stub.get_total() for stub in self.paystubs.all()), ZERO)


class CarrierStatement(TotalFromLines, TimeStamped):
    """A statement of charges with a carrier: AR (what the carrier owes) or AP (what we owe)."""

    class Direction(models.TextChoices):
        AR = "ar", "AR (carrier revenue)"
        AP = "ap", "AP (carrier cost)"

    number = models.CharField(max_length=30, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="statements")
    direction = models.CharField(max_length=2, choices=Direction.choices)
    statement_date = models.DateField()

    objects = TotalsQuerySet.as_manager()

    class Meta:
        ordering = ["-statement_date"]

    def __str__(self):
        return self.number


class CarrierStatementLine(AmountLine):
    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        CREDIT = "credit", "Credit"

    CREDIT_KINDS = frozenset({Kind.CREDIT})

    statement = models.ForeignKey(CarrierStatement, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHARGE)

    class Meta:
        ordering = ["id"]
