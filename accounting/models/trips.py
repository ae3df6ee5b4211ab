"""Trips (the AP side of a load: a carrier or a driver hauls it) and their charges."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .base import NON_NEGATIVE, ChargeLine, TimeStamped, TotalFromLines, TotalsQuerySet
from .loads import Load
from .organization import Subsidiary
from .parties import Carrier, Driver


class Trip(TotalFromLines, TimeStamped):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_TRANSIT = "in_transit", "In transit"
        DELIVERED = "delivered", "Delivered"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"

    number = models.CharField(max_length=30, unique=True)
    load = models.ForeignKey(Load, on_delete=models.PROTECT, related_name="trips")
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="trips")
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="trips"
    )
    driver = models.ForeignKey(
        Driver, on_delete=models.PROTECT, null=True, blank=True, related_name="trips"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    carrier_invoice_number = models.CharField(max_length=40, blank=True)
    carrier_invoice_document = models.FileField(upload_to="carrier-invoices/", blank=True)
    carrier_invoice_uploaded_at = models.DateTimeField(null=True, blank=True)
    approved_for_payment_at = models.DateTimeField(null=True, blank=True)
    miles = models.DecimalField(
        max_digits=9, decimal_places=1, null=True, blank=True, validators=NON_NEGATIVE
    )
    carrier_settlement = models.ForeignKey(
        "CarrierSettlement", on_delete=models.SET_NULL, null=True, blank=True, related_name="trips"
    )

    objects = TotalsQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="trip_carrier_or_driver",
                condition=Q(carrier__isnull=False, driver__isnull=True)
                | Q(carrier__isnull=True, driver__isnull=False),
            )
        ]

    def __str__(self):
        return self.number

    def clean(self):
        if bool(self.carrier_id) == bool(self.driver_id):
            raise ValidationError("A trip is hauled by a carrier or by a driver: choose one.")


class TripCharge(ChargeLine):
    class Kind(models.TextChoices):
        LINEHAUL = "linehaul", "Linehaul"
        FUEL_SURCHARGE = "fuel_surcharge", "Fuel surcharge"
        ACCESSORIAL = "accessorial", "Accessorial"
        FUEL = "fuel", "Fuel"
        TOLL = "toll", "Toll"

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["id"]
