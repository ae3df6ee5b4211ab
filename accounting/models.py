"""The TMS's accounting data: parties, equipment, and the documents the Sage integration exports.

Money is Decimal(14, 2). A line stores its own amount (quantity x rate, rounded once); a
document's total is always derived from its lines (`total` annotations), never stored twice.
Lines whose kind is a credit (deductions, escrow, fuel and tolls on a paystub, ...) keep a
positive amount and count negatively in the total.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NON_NEGATIVE = [MinValueValidator(Decimal("0"), message="Enter zero or a positive number.")]


def money(value) -> Decimal:
    """Round a Decimal (or a string) to cents, half up, the way the invoice shows it."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_field(**kwargs) -> DecimalField:
    return DecimalField(max_digits=14, decimal_places=2, **kwargs)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


# --- Organisation -------------------------------------------------------------------------


class Subsidiary(TimeStamped):
    """A TMS subsidiary: the unit that connects to one Sage Intacct entity."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "subsidiaries"
        permissions = [
            ("manage_company_profile", "Can manage the company profile (Sage Intacct connections)"),
            ("billing", "Can manage billing (Error Transactions)"),
        ]

    def __str__(self):
        return self.name


class Office(models.Model):
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.CASCADE, related_name="offices")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["subsidiary", "name"], name="office_unique_per_subsidiary"
            )
        ]

    def __str__(self):
        return self.name


class Fleet(models.Model):
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.CASCADE, related_name="fleets")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["subsidiary", "name"], name="fleet_unique_per_subsidiary"
            )
        ]

    def __str__(self):
        return self.name


# --- Parties ------------------------------------------------------------------------------


class Party(TimeStamped):
    name = models.CharField(max_length=120, db_index=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def external_accounting_id(self, subsidiary) -> str | None:
        """The Sage ID this party carries for `subsidiary`, or None. Uses prefetched IDs if any."""
        for row in self.external_ids.all():
            if row.subsidiary_id == subsidiary.pk:
                return row.external_id
        return None


class Customer(Party):
    """A customer or broker: the party an AR invoice is addressed to."""

    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)

    class Meta(Party.Meta):
        pass


class Carrier(Party):
    mc_number = models.CharField("MC number", max_length=20, blank=True)
    dot_number = models.CharField("DOT number", max_length=20, blank=True)

    class Meta(Party.Meta):
        pass


class Driver(Party):
    class DriverType(models.TextChoices):
        COMPANY_DRIVER = "company_driver", "Company driver"
        OWNER_OPERATOR = "owner_operator", "Owner operator"

    class ContractorType(models.TextChoices):
        W2 = "W2", "W-2 employee"
        C1099 = "1099", "1099 contractor"
        LEASE = "LEASE", "Lease operator"

    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="drivers")
    driver_type = models.CharField(max_length=20, choices=DriverType.choices)
    contractor_type = models.CharField(max_length=10, choices=ContractorType.choices, blank=True)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.SET_NULL, null=True, blank=True, related_name="drivers"
    )

    class Meta(Party.Meta):
        pass


class ExternalAccountingId(models.Model):
    """A party's Sage Customer ID / Vendor ID for one subsidiary (IDs are subsidiary-specific).

    Carriers and drivers are both Sage vendors, so an ID is unique within a subsidiary among
    customers, and among carriers and drivers together.
    """

    class Namespace(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        VENDOR = "vendor", "Vendor"

    subsidiary = models.ForeignKey(
        Subsidiary, on_delete=models.CASCADE, related_name="external_accounting_ids"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="external_ids"
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.CASCADE, null=True, blank=True, related_name="external_ids"
    )
    driver = models.ForeignKey(
        Driver, on_delete=models.CASCADE, null=True, blank=True, related_name="external_ids"
    )
    namespace = models.CharField(max_length=10, choices=Namespace.choices, editable=False)
    external_id = models.CharField("External Accounting ID", max_length=40)

    class Meta:
        verbose_name = "External Accounting ID"
        constraints = [
            models.CheckConstraint(
                name="external_id_exactly_one_party",
                condition=(
                    Q(customer__isnull=False, carrier__isnull=True, driver__isnull=True)
                    | Q(customer__isnull=True, carrier__isnull=False, driver__isnull=True)
                    | Q(customer__isnull=True, carrier__isnull=True, driver__isnull=False)
                ),
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "customer"], name="one_external_id_per_customer"
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "carrier"], name="one_external_id_per_carrier"
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "driver"], name="one_external_id_per_driver"
            ),
            models.UniqueConstraint(
                fields=["subsidiary", "namespace", "external_id"],
                name="external_id_unique_in_subsidiary",
            ),
        ]

    def __str__(self):
        return f"{self.external_id} ({self.subsidiary})"

    def save(self, *args, **kwargs):
        self.namespace = self.Namespace.CUSTOMER if self.customer_id else self.Namespace.VENDOR
        super().save(*args, **kwargs)

    @property
    def party(self):
        return self.customer or self.carrier or self.driver

    def clean(self):
        parties = [p for p in (self.customer_id, self.carrier_id, self.driver_id) if p]
        if len(parties) != 1:
            raise ValidationError("Choose exactly one customer, carrier or driver for this ID.")
        self.external_id = (self.external_id or "").strip()
        if not self.subsidiary_id or not self.external_id:
            return
        namespace = self.Namespace.CUSTOMER if self.customer_id else self.Namespace.VENDOR
        clash = (
            ExternalAccountingId.objects.filter(
                subsidiary_id=self.subsidiary_id,
                namespace=namespace,
                external_id__iexact=self.external_id,
            )
            .exclude(pk=self.pk)
            .select_related("customer", "carrier", "driver", "subsidiary")
            .first()
        )
        if clash:
            kind = "customer" if clash.customer_id else "carrier" if clash.carrier_id else "driver"
            raise ValidationError(
                {
                    "external_id": DUPLICATE_EXTERNAL_ID.format(
                        external_id=self.external_id,
                        kind=kind,
                        party=clash.party,
                        subsidiary=clash.subsidiary,
                    )
                }
            )


DUPLICATE_EXTERNAL_ID = (
    "External Accounting ID {external_id} is already used by {kind} {party} in subsidiary "
    "{subsidiary}. Each Sage ID can belong to one party per subsidiary: correct one of them."
)


# --- Equipment ----------------------------------------------------------------------------


class Truck(models.Model):
    number = models.CharField(max_length=20, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="trucks")
    fleet = models.ForeignKey(Fleet, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return self.number


class Trailer(models.Model):
    number = models.CharField(max_length=20, unique=True)
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, related_name="trailers")

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return self.number


# --- Lines and totals ---------------------------------------------------------------------


class LineKind:
    """A line with a `kind`; kinds in CREDIT_KINDS count negatively in the document total."""

    CREDIT_KINDS: frozenset[str] = frozenset()

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def is_credit(self) -> bool:
        return self.kind in self.CREDIT_KINDS

    @property
    def signed_amount(self) -> Decimal:
        return -self.amount if self.is_credit else self.amount


class ChargeLine(LineKind, models.Model):
    """A priced line. `amount` = quantity x rate, rounded to cents when saved."""

    CREDIT_KINDS: frozenset[str] = frozenset()

    item_code = models.CharField(max_length=30, blank=True, help_text="e.g. DETENTION, LUMPER")
    description = models.CharField(max_length=200, blank=True)
    quantity = models.DecimalField(
        max_digits=12, decimal_places=3, default=Decimal("1"), validators=NON_NEGATIVE
    )
    rate = models.DecimalField(max_digits=14, decimal_places=4, validators=NON_NEGATIVE)
    amount = money_field(editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.amount = money(Decimal(self.quantity) * Decimal(self.rate))
        super().save(*args, **kwargs)


class AmountLine(LineKind, models.Model):
    """An unpriced line (pay, deductions): just an amount, never negative."""

    CREDIT_KINDS: frozenset[str] = frozenset()

    item_code = models.CharField(max_length=30, blank=True)
    description = models.CharField(max_length=200, blank=True)
    amount = money_field(validators=NON_NEGATIVE)

    class Meta:
        abstract = True


def signed_total(lines: str, credit_kinds) -> Coalesce:
    """An aggregate: the sum of `lines`' amounts with credit kinds counted negatively."""
    return Coalesce(
        Sum(
            Case(
                When(**{f"{lines}__kind__in": list(credit_kinds)}, then=-F(f"{lines}__amount")),
                default=F(f"{lines}__amount"),
                output_field=money_field(),
            )
        ),
        Value(ZERO),
        output_field=money_field(),
    )


class TotalsQuerySet(models.QuerySet):
    """Documents annotate `total` from their lines in one query (`.with_totals()`)."""

    lines_name = "lines"

    def with_totals(self):
        credit_kinds = self.model._meta.get_field(self.lines_name).related_model.CREDIT_KINDS
        return self.annotate(total=signed_total(self.lines_name, credit_kinds))


class TotalFromLines:
    """`document.total`: the annotation when present, else summed from its lines."""

    def _lines_total(self) -> Decimal:
        return sum((line.signed_amount for line in self.lines.all()), ZERO)

    def get_total(self) -> Decimal:
        # SQLite hands back sums unquantized (1234.5): round once here, for every backend.
        annotated = self.__dict__.get("total")
        return money(annotated if annotated is not None else self._lines_total())


# --- Loads ----------------------------------------------------------------------------------


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


# --- Trips ----------------------------------------------------------------------------------


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


# --- Driver pay -----------------------------------------------------------------------------


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

    def clean(self):
        if bool(self.payee_driver_id) == bool(self.payee_carrier_id):
            raise ValidationError("An e-check is paid to a driver or to a carrier: choose one.")


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


# --- Grouped documents ----------------------------------------------------------------------


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


# --- Payments -------------------------------------------------------------------------------


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


# --- Sync ledger and Error Transactions -------------------------------------------------------


class SyncRecord(models.Model):
    """One TMS document's Sage document for one connection, written before it is sent.

    The stable `controlid` (sent with uniqueid=true) makes every resend of the same version
    idempotent; `record_no` is Sage's RECORDNO once known.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Sent, answer pending"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Outcome unknown (look up before resending)"
        REMOVED = "removed", "Removed from the TMS (deleted or reversed in Sage)"

    connection = models.ForeignKey(
        "intacct.Connection", on_delete=models.PROTECT, related_name="sync_records"
    )
    document_type = models.CharField(max_length=30)
    document_id = models.PositiveBigIntegerField()
    role = models.CharField(
        max_length=30,
        blank=True,
        help_text="Which of a document's Sage documents (cross-subsidiary).",
    )
    reference = models.CharField(max_length=60)
    sage_object = models.CharField(max_length=20)
    controlid = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    record_no = models.CharField(max_length=30, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    payload_hash = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(
        max_length=40, blank=True, help_text="The export run that is sending it now."
    )
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "document_type", "document_id", "role"],
                name="one_sage_document_per_role",
            ),
            models.UniqueConstraint(
                fields=["connection", "controlid"], name="controlid_unique_per_connection"
            ),
        ]

    def __str__(self):
        return f"{self.sage_object} for {self.document_type} {self.reference}"


class ErrorTransaction(models.Model):
    """A document that failed to export, with Sage's message; resolved by a later success or by
    Mark as Synced (who and when are kept). `payload` is the last function sent to Sage, with
    secrets masked; `history` holds every attempt."""

    class Status(models.TextChoices):
        FAILED = "failed", "Failed"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        NONE = "", "—"
        SYNCED = "synced", "A later export succeeded"
        MARKED_SYNCED = "marked_synced", "Marked as synced"

    entity_type = models.CharField(
        "entity type", max_length=30, help_text="Load, Trip, Paystub, E-check, ..."
    )
    transaction_type = models.CharField(
        "transaction type", max_length=30, help_text="Invoice, Bill, ..."
    )
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, verbose_name="class")
    document_type = models.CharField(max_length=30)
    document_id = models.PositiveBigIntegerField()
    reference = models.CharField(max_length=60)
    total = money_field(verbose_name="transaction total", default=ZERO)
    message = models.TextField("error message")
    errorno = models.CharField(max_length=40, blank=True)
    support_id = models.CharField("Support ID", max_length=80, blank=True)
    details = models.JSONField(default=list, blank=True)
    payload = models.TextField(
        "payload sent", blank=True, help_text="The last function sent to Sage, secrets masked."
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.FAILED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField("date created", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(
        max_length=16, choices=Resolution.choices, default=Resolution.NONE, blank=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who marked it as synced.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subsidiary", "document_type", "document_id"],
                condition=Q(status="failed"),
                name="one_open_error_per_document",
            )
        ]

    def __str__(self):
        return f"{self.entity_type} {self.reference}: {self.message[:60]}"


class ErrorAttempt(models.Model):
    """One attempt at an Error Transaction's document: a failed export, the export that
    resolved it, or Mark as Synced."""

    class Outcome(models.TextChoices):
        FAILED = "failed", "Failed"
        SYNCED = "synced", "Synced"
        MARKED_SYNCED = "marked_synced", "Marked as synced"

    class Trigger(models.TextChoices):
        EXPORT = "export", "Export run"
        RETRY_SYNC = "retry_sync", "Retry Sync"
        SYNC_ALL = "sync_all", "Sync All"
        RETRY_EXPORT = "retry_export", "Retry export (document page)"
        MARK_AS_SYNCED = "mark_as_synced", "Mark as Synced"

    error = models.ForeignKey(ErrorTransaction, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    trigger = models.CharField(max_length=14, choices=Trigger.choices, default=Trigger.EXPORT)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent = models.BooleanField(default=False, help_text="Whether this attempt reached Sage.")
    message = models.TextField(blank=True)
    errorno = models.CharField(max_length=40, blank=True)
    support_id = models.CharField("Support ID", max_length=80, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "error transaction attempt"

    def __str__(self):
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M}"
