"""Fuel card and toll charges, and driver escrow, as they land on paystubs and trips."""

from django.db import models

from .base import NON_NEGATIVE, TimeStamped, money_field
from .equipment import Truck
from .organization import Subsidiary
from .parties import Driver
from .paystubs import Paystub
from .trips import Trip


class CardTransaction(TimeStamped):
    """A fuel card or toll transponder charge, charged back on a paystub or trip."""

    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT)
    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, null=True, blank=True)
    truck = models.ForeignKey(Truck, on_delete=models.SET_NULL, null=True, blank=True)
    trip = models.ForeignKey(Trip, on_delete=models.SET_NULL, null=True, blank=True)
    paystub = models.ForeignKey(Paystub, on_delete=models.SET_NULL, null=True, blank=True)
    date = models.DateField()
    amount = money_field(validators=NON_NEGATIVE)

    class Meta:
        abstract = True
        ordering = ["-date"]


class FuelTransaction(CardTransaction):
    location = models.CharField(max_length=120, blank=True)
    card_number = models.CharField(max_length=30, blank=True)
    gallons = models.DecimalField(max_digits=9, decimal_places=3, validators=NON_NEGATIVE)

    class Meta(CardTransaction.Meta):
        pass

    def __str__(self):
        return f"Fuel {self.date} {self.amount}"


class TollTransaction(CardTransaction):
    plaza = models.CharField(max_length=120, blank=True)
    transponder = models.CharField(max_length=30, blank=True)

    class Meta(CardTransaction.Meta):
        pass

    def __str__(self):
        return f"Toll {self.date} {self.amount}"


class EscrowTransaction(TimeStamped):
    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", "Contribution"
        RELEASE = "release", "Release"

    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT)
    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="escrow")
    paystub = models.ForeignKey(Paystub, on_delete=models.SET_NULL, null=True, blank=True)
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = money_field(validators=NON_NEGATIVE)

    class Meta:
        ordering = ["-date"]

    def __str__(self):
        return f"Escrow {self.get_kind_display()} {self.amount}"
