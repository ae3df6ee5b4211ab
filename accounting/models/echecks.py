"""E-checks paid to a driver or carrier for a load or trip, optionally billed to the customer."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from .base import NON_NEGATIVE, TimeStamped, money_field
from .loads import Load
from .organization import Subsidiary
from .parties import Carrier, Driver
from .trips import Trip


class ECheck(TimeStamped):
    class Reason(models.TextChoices):
        ADVANCE = "advance", "Advance"
        FUEL_SURCHARGE = "fuel_surcharge", "Fuel Surcharge"
        LUMPER = "lumper", "Lumper"
        TOLLS = "tolls", "Tolls"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        VOID = "void", "Void"

    number = models.CharField(max_length=30, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="echecks")
    load = models.ForeignKey(
        Load, on_delete=models.SET_NULL, null=True, blank=True, related_name="echecks"
    )
    trip = models.ForeignKey(
        Trip, on_delete=models.SET_NULL, null=True, blank=True, related_name="echecks"
    )
    payee_driver = models.ForeignKey(Driver, on_delete=models.PROTECT, null=True, blank=True)
    payee_carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, null=True, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    amount = money_field(validators=NON_NEGATIVE)
    export_ar = models.BooleanField("Bill the customer (AR)", default=False)
    export_ap = models.BooleanField("Pay the payee (AP)", default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "e-check"
        ordering = ["-created_at"]

    def __str__(self):
        return self.number

    @property
    def payee(self):
        return self.payee_driver or self.payee_carrier

    def get_total(self) -> Decimal:
        """What the e-check is for, like every other document's total (it has no lines)."""
        return self.amount

    def clean(self):
        if bool(self.payee_driver_id) == bool(self.payee_carrier_id):
            raise ValidationError("An e-check is paid to a driver or to a carrier: choose one.")
