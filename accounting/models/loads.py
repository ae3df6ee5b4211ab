"""Loads and their charges (the AR side), and the summary invoice that bills many loads."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from .base import ZERO, ChargeLine, TimeStamped, TotalFromLines, TotalsQuerySet
from .equipment import Trailer, Truck
from .organization import Fleet, Office, Subsidiary
from .parties import Customer, Driver


class BillingStatus(models.TextChoices):
    RELEASED = "released", "Released"
    QUEUED = "queued", "Queued"
    INVOICED = "invoiced", "Invoiced"
    FINANCED = "financed", "Financed"
    COMPLETED = "completed", "Completed"


class Load(TotalFromLines, TimeStamped):
    number = models.CharField(max_length=30, unique=True)
    invoice_as_subsidiary = models.ForeignKey(
        Subsidiary,
        on_delete=models.PROTECT,
        related_name="invoiced_loads",
        blank=True,
        help_text="The subsidiary that invoices the customer.",
    )
    tender_as_subsidiary = models.ForeignKey(
        Subsidiary,
        on_delete=models.PROTECT,
        related_name="tendered_loads",
        null=True,
        blank=True,
        help_text="The subsidiary that hauls the load, when another one invoices it.",
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="loads")
    driver = models.ForeignKey(Driver, on_delete=models.SET_NULL, null=True, blank=True)
    truck = models.ForeignKey(Truck, on_delete=models.SET_NULL, null=True, blank=True)
    trailer = models.ForeignKey(Trailer, on_delete=models.SET_NULL, null=True, blank=True)
    office = models.ForeignKey(Office, on_delete=models.SET_NULL, null=True, blank=True)
    fleet = models.ForeignKey(Fleet, on_delete=models.SET_NULL, null=True, blank=True)
    dispatcher = models.CharField(max_length=80, blank=True)
    shipper_name = models.CharField(max_length=120, blank=True)
    consignee_name = models.CharField(max_length=120, blank=True)
    pickup_date = models.DateField(null=True, blank=True)
    delivery_date = models.DateField(null=True, blank=True)
    reference_number = models.CharField(max_length=40, blank=True)
    po_number = models.CharField("PO number", max_length=40, blank=True)
    notes = models.TextField(blank=True)
    billing_status = models.CharField(
        max_length=12, choices=BillingStatus.choices, default=BillingStatus.RELEASED, db_index=True
    )
    invoiced_at = models.DateTimeField(null=True, blank=True)
    summary_invoice = models.ForeignKey(
        "SummaryInvoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="loads"
    )

    objects = TotalsQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.number

    def clean(self):
        if not self.invoice_as_subsidiary_id:
            raise ValidationError({"invoice_as_subsidiary": LOAD_NEEDS_INVOICE_AS})
        if self.pickup_date and self.delivery_date and self.delivery_date < self.pickup_date:
            raise ValidationError({"delivery_date": "Delivery date is before the pickup date."})

    @property
    def is_cross_subsidiary(self) -> bool:
        return bool(
            self.tender_as_subsidiary_id
            and self.tender_as_subsidiary_id != self.invoice_as_subsidiary_id
        )


LOAD_NEEDS_INVOICE_AS = (
    "Choose the invoice-as subsidiary: every load is invoiced by one subsidiary."
)


class LoadCharge(ChargeLine):
    class Kind(models.TextChoices):
        LINEHAUL = "linehaul", "Linehaul"
        FUEL_SURCHARGE = "fuel_surcharge", "Fuel surcharge"
        ACCESSORIAL = "accessorial", "Accessorial"
        DRIVER_BILL = "driver_bill", "Driver bill"
        DEDUCTION = "deduction", "Deduction"

    CREDIT_KINDS = frozenset({Kind.DEDUCTION})

    load = models.ForeignKey(Load, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["id"]


class SummaryInvoice(TimeStamped):
    """One AR invoice for many loads (the loads export only through it)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"

    number = models.CharField(max_length=30, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="summary_invoices"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.number

    def get_total(self) -> Decimal:
        return sum((load.get_total() for load in self.loads.all()), ZERO)
