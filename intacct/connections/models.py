"""A subsidiary's Sage Intacct connection, its AR / AP / advanced settings and its mappings."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from intacct.messages import (
    CUSTOM_FIELD_TYPES_INCOMPATIBLE,
    DESTINATION_IMMUTABLE,
    TERM_NEEDS_ONE_PARTY,
)

from . import crypto


class Connection(models.Model):
    """One subsidiary's link to one Sage Intacct company and entity."""

    class Status(models.TextChoices):
        NOT_SET_UP = "not_set_up", "Not set up"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        DISCONNECTED = "disconnected", "Disconnected"

    class Destination(models.TextChoices):
        MATCHING_ENTITY = "matching_entity", "Matching child entities (Recommended)"
        TOP_LEVEL = "top_level", "Top-level entity"

    class Step(models.IntegerChoices):
        SUBSIDIARY = 1, "Subsidiary"
        DESTINATION = 2, "Posting destination"
        CREDENTIALS = 3, "Credentials"
        AP = 4, "AP Settings"
        AR = 5, "AR Settings"
        ADVANCED = 6, "Advanced"
        FINISH = 7, "Finish"

    subsidiary = models.OneToOneField(
        "accounting.Subsidiary", on_delete=models.PROTECT, related_name="intacct_connection"
    )
    company_id = models.CharField("Company ID", max_length=60, blank=True)
    user_id = models.CharField("Web Services User ID", max_length=60, blank=True)
    password_encrypted = models.TextField(blank=True, editable=False)
    # The API session Sage opened for these credentials at this destination, reused by every
    # run and command until Sage says it expired; encrypted like the password (`sage.py`).
    session_encrypted = models.TextField(blank=True, editable=False)
    posting_destination = models.CharField(max_length=20, choices=Destination.choices, blank=True)
    entity_id = models.CharField("Sage entity ID", max_length=40, blank=True)
    entity_name = models.CharField("Sage entity", max_length=120, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.NOT_SET_UP)
    primary_sync = models.BooleanField("Primary Sync", default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    wizard_step = models.PositiveSmallIntegerField(
        choices=Step.choices, default=Step.SUBSIDIARY, help_text="The last step completed."
    )
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_message = models.CharField(max_length=500, blank=True)
    sage_choices = models.JSONField(default=dict, blank=True, editable=False)
    sage_choices_refreshed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["subsidiary__name"]
        verbose_name = "Sage Intacct connection"

    def __str__(self):
        return f"{self.subsidiary} → Sage {self.company_id or '(not connected)'}"

    def __repr__(self):
        return f"<Connection {self.pk} {self.subsidiary_id} {self.company_id!r} {self.status}>"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._saved_destination = self.posting_destination

    def save(self, *args, **kwargs):
        self.full_clean_destination()
        super().save(*args, **kwargs)
        self._saved_destination = self.posting_destination

    def full_clean_destination(self) -> None:
        """The posting destination is permanent once the credentials step saved it."""
        if (
            self.pk
            and self._saved_destination
            and self.posting_destination != self._saved_destination
            and self.wizard_step >= self.Step.CREDENTIALS
            and self.status != self.Status.DISCONNECTED
        ):
            raise ValidationError({"posting_destination": DESTINATION_IMMUTABLE})

    def set_password(self, raw: str) -> None:
        """New credentials: the session opened with the old ones is not theirs."""
        self.password_encrypted = crypto.encrypt(raw)
        self.session_encrypted = ""

    def get_password(self) -> str:
        return crypto.decrypt(self.password_encrypted) if self.password_encrypted else ""

    @property
    def location_id(self) -> str:
        """The session's entity: the matched child entity, or '' for the top level."""
        if self.posting_destination == self.Destination.MATCHING_ENTITY:
            return self.entity_id
        return ""

    @property
    def is_syncing(self) -> bool:
        return self.status == self.Status.ACTIVE and self.primary_sync


class ARSettings(models.Model):
    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="ar_settings"
    )
    export_ar_invoices = models.BooleanField("Export AR Invoices", default=True)
    include_driver_bills = models.BooleanField("Include driver bills in AR", default=False)
    export_carrier_statements = models.BooleanField("Export Carrier Statements", default=False)
    export_echecks = models.BooleanField("Export E-check Transactions", default=False)
    export_deductions_as_credits = models.BooleanField(
        "Export deductions as credits on AR invoice", default=False
    )
    auto_create_customer = models.BooleanField("Auto Create Customer", default=False)
    name_matching_fallback = models.BooleanField("Name Matching Fallback", default=True)

    MASTER = "export_ar_invoices"
    INDIVIDUAL = (
        "include_driver_bills",
        "export_carrier_statements",
        "export_echecks",
        "export_deductions_as_credits",
    )

    class Meta:
        verbose_name = "AR settings"
        verbose_name_plural = "AR settings"

    def __str__(self):
        return f"AR settings of {self.connection.subsidiary}"


class APSettings(models.Model):
    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="ap_settings"
    )
    export_ap_bills = models.BooleanField("Export AP Bills", default=True)
    export_driver_settlements = models.BooleanField("Export driver settlements", default=False)
    export_carrier_settlements = models.BooleanField("Export carrier settlements", default=False)
    export_echecks = models.BooleanField("Export E-check Transactions", default=False)
    include_fuel = models.BooleanField("Include fuel transactions", default=False)
    include_tolls = models.BooleanField("Include toll transactions", default=False)
    include_accessorials = models.BooleanField("Include accessorial expenses", default=True)
    export_carrier_statements = models.BooleanField("Export Carrier Statements", default=False)
    send_carrier_invoice_on_upload = models.BooleanField(
        "Send carrier invoice upon upload", default=False
    )
    auto_create_vendor = models.BooleanField("Auto Create Vendor", default=False)
    name_matching_fallback = models.BooleanField("Name Matching Fallback", default=True)

    MASTER = "export_ap_bills"
    INDIVIDUAL = (
        "export_driver_settlements",
        "export_carrier_settlements",
        "export_echecks",
        "include_fuel",
        "include_tolls",
        "include_accessorials",
        "export_carrier_statements",
        "send_carrier_invoice_on_upload",
    )

    class Meta:
        verbose_name = "AP settings"
        verbose_name_plural = "AP settings"

    def __str__(self):
        return f"AP settings of {self.connection.subsidiary}"


class AdvancedSettings(models.Model):
    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="advanced_settings"
    )
    default_payment_term = models.CharField(
        "Default Payment Terms", max_length=60, default="Net 30"
    )
    cross_subsidiary_billing = models.BooleanField("Cross Subsidiary Billing", default=False)
    payment_lookback_days = models.PositiveSmallIntegerField(
        default=8, help_text="How far back each payment import looks (days)."
    )

    class Meta:
        verbose_name = "advanced settings"
        verbose_name_plural = "advanced settings"

    def __str__(self):
        return f"Advanced settings of {self.connection.subsidiary}"


class CustomPaymentTerm(models.Model):
    """A payment term for one customer, carrier or driver, overriding the default."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="custom_terms"
    )
    customer = models.ForeignKey(
        "accounting.Customer", on_delete=models.CASCADE, null=True, blank=True
    )
    carrier = models.ForeignKey(
        "accounting.Carrier", on_delete=models.CASCADE, null=True, blank=True
    )
    driver = models.ForeignKey("accounting.Driver", on_delete=models.CASCADE, null=True, blank=True)
    term_name = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="custom_term_exactly_one_party",
                condition=(
                    Q(customer__isnull=False, carrier__isnull=True, driver__isnull=True)
                    | Q(customer__isnull=True, carrier__isnull=False, driver__isnull=True)
                    | Q(customer__isnull=True, carrier__isnull=True, driver__isnull=False)
                ),
            ),
            models.UniqueConstraint(fields=["connection", "customer"], name="term_per_customer"),
            models.UniqueConstraint(fields=["connection", "carrier"], name="term_per_carrier"),
            models.UniqueConstraint(fields=["connection", "driver"], name="term_per_driver"),
        ]

    def __str__(self):
        return f"{self.party}: {self.term_name}"

    @property
    def party(self):
        return self.customer or self.carrier or self.driver

    def clean(self):
        if sum(1 for p in (self.customer_id, self.carrier_id, self.driver_id) if p) != 1:
            raise ValidationError(TERM_NEEDS_ONE_PARTY)


class Side(models.TextChoices):
    AR = "ar", "AR (revenue)"
    AP = "ap", "AP (expense)"


class Category(models.TextChoices):
    """The nine GL categories; "" on a mapping means the side's master default."""

    LINEHAUL = "linehaul", "Linehaul"
    FUEL_SURCHARGE = "fuel_surcharge", "Fuel Surcharge"
    ACCESSORIALS = "accessorials", "Accessorials"
    DEDUCTIONS = "deductions", "Deductions"
    ECHECKS = "echecks", "E-checks"
    DRIVER_PAY = "driver_pay", "Driver Pay"
    FUEL = "fuel", "Fuel"
    TOLLS = "tolls", "Tolls"
    ESCROW = "escrow", "Escrow"


AR_CATEGORIES = (
    Category.LINEHAUL,
    Category.FUEL_SURCHARGE,
    Category.ACCESSORIALS,
    Category.DEDUCTIONS,
    Category.ECHECKS,
)


class AccountMapping(models.Model):
    """specific item (category + item code) → category default (no item) → master (no category)."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="account_mappings"
    )
    side = models.CharField(max_length=2, choices=Side.choices)
    category = models.CharField(
        max_length=20,
        choices=Category.choices,
        blank=True,
        help_text="Blank: the master default for the side.",
    )
    item_code = models.CharField(
        max_length=30, blank=True, help_text="Blank: the category default."
    )
    gl_account_no = models.CharField("Sage GL account", max_length=24)

    class Meta:
        ordering = ["side", "category", "item_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "side", "category", "item_code"],
                name="one_account_per_mapping_level",
            ),
        ]

    def __str__(self):
        level = self.item_code or (self.get_category_display() if self.category else "Master")
        return f"{self.get_side_display()} {level} → {self.gl_account_no}"

    def clean(self):
        if self.item_code and not self.category:
            raise ValidationError({"category": "A specific item mapping needs its category."})
        if self.side == Side.AR and self.category and self.category not in AR_CATEGORIES:
            raise ValidationError(
                {"category": f"{self.get_category_display()} is an AP (expense) category only."}
            )


class Dimension(models.TextChoices):
    """The 11 standard Sage dimensions (no Platform Apps custom dimensions)."""

    LOCATION = "location", "Location"
    DEPARTMENT = "department", "Department"
    PROJECT = "project", "Project"
    TASK = "task", "Task"
    CUSTOMER = "customer", "Customer"
    VENDOR = "vendor", "Vendor"
    EMPLOYEE = "employee", "Employee"
    ITEM = "item", "Item"
    CLASS = "class", "Class"
    CONTRACT = "contract", "Contract"
    WAREHOUSE = "warehouse", "Warehouse"


class DimensionSource(models.TextChoices):
    SUBSIDIARY = "subsidiary", "Subsidiary"
    FLEET = "fleet", "Fleet"
    OFFICE = "office", "Office"
    DRIVER = "driver", "Driver"
    TRUCK = "truck", "Truck"
    TRAILER = "trailer", "Trailer"
    CONTRACTOR_TYPE = "contractor_type", "Contractor type"
    CUSTOMER = "customer", "Customer"
    CARRIER = "carrier", "Carrier"


class DimensionMapping(models.Model):
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="dimension_mappings"
    )
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    source = models.CharField("TMS field", max_length=20, choices=DimensionSource.choices)
    default_value = models.CharField(
        max_length=60, blank=True, help_text="Sage ID used when the TMS field is empty."
    )
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "dimension"], name="one_mapping_per_dimension"
            )
        ]

    def __str__(self):
        return f"{self.get_dimension_display()} ← {self.get_source_display()}"


class DimensionValueMap(models.Model):
    mapping = models.ForeignKey(
        DimensionMapping, on_delete=models.CASCADE, related_name="value_maps"
    )
    tms_value = models.CharField("TMS value", max_length=120)
    sage_value = models.CharField("Sage ID", max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mapping", "tms_value"], name="one_sage_value_per_tms_value"
            )
        ]

    def __str__(self):
        return f"{self.tms_value} → {self.sage_value}"


class CustomFieldTarget(models.TextChoices):
    AR_INVOICE = "ar_invoice", "AR invoice"
    AR_INVOICE_LINE = "ar_invoice_line", "AR invoice line"
    AP_BILL = "ap_bill", "AP bill"
    AP_BILL_LINE = "ap_bill_line", "AP bill line"


SAGE_OBJECT_OF_TARGET = {
    "ar_invoice": "ARINVOICE",
    "ar_invoice_line": "ARINVOICEITEM",
    "ap_bill": "APBILL",
    "ap_bill_line": "APBILLITEM",
}

# The TMS fields a custom field can take its value from, with their types.
TMS_FIELDS = {
    "load_number": ("Load number", "text"),
    "trip_number": ("Trip number", "text"),
    "reference_number": ("Reference number", "text"),
    "po_number": ("PO number", "text"),
    "shipper": ("Shipper", "text"),
    "consignee": ("Consignee", "text"),
    "dispatcher": ("Dispatcher", "text"),
    "driver_name": ("Driver name", "text"),
    "truck_number": ("Truck number", "text"),
    "trailer_number": ("Trailer number", "text"),
    "notes": ("Notes", "text"),
    "charge_code": ("Charge item code", "text"),
    "miles": ("Miles", "number"),
    "pickup_date": ("Pickup date", "date"),
    "delivery_date": ("Delivery date", "date"),
}


class CustomFieldMapping(models.Model):
    """A Sage custom field filled from a TMS field. Label, type, required flag and max length
    are copied from what Sage's inspect reported (the connection's cached choices)."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="custom_field_mappings"
    )
    target = models.CharField(max_length=16, choices=CustomFieldTarget.choices)
    sage_field_id = models.CharField("Sage custom field", max_length=60)
    sage_label = models.CharField(max_length=120, blank=True)
    sage_type = models.CharField(
        max_length=10,
        default="text",
        choices=[("text", "Text"), ("number", "Number"), ("date", "Date")],
    )
    required = models.BooleanField(default=False, help_text="Read from Sage.")
    max_length = models.PositiveIntegerField(null=True, blank=True, help_text="Read from Sage.")
    source = models.CharField(
        "TMS field", max_length=20, choices=[(k, label) for k, (label, _) in TMS_FIELDS.items()]
    )

    class Meta:
        ordering = ["target", "sage_field_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "target", "sage_field_id"],
                name="one_mapping_per_custom_field",
            )
        ]

    def __str__(self):
        return f"{self.get_target_display()} {self.sage_field_id} ← {self.get_source_display()}"

    def fill_from_sage(self) -> None:
        """Copy label, type, required flag and max length from Sage's cached inspect."""
        if not self.connection_id or not self.connection.sage_choices:
            return
        sage_object = SAGE_OBJECT_OF_TARGET.get(self.target, self.target)
        known = {
            f["id"]: f
            for f in self.connection.sage_choices.get("custom_fields", {}).get(sage_object, [])
        }
        field = known.get(self.sage_field_id)
        if field is None:
            raise ValidationError(
                {
                    "sage_field_id": (
                        f"Sage has no custom field {self.sage_field_id} on {sage_object}: choose one of "
                        f"{', '.join(sorted(known)) or '(none)'}, or Refresh from Sage if it is new."
                    )
                }
            )
        self.sage_label, self.sage_type = field["label"], field["type"]
        self.required, self.max_length = field["required"], field["max_length"]

    def clean(self):
        self.fill_from_sage()
        if self.source not in TMS_FIELDS:
            return
        label, tms_type = TMS_FIELDS[self.source]
        if self.sage_type != "text" and tms_type != self.sage_type:
            raise ValidationError(
                {
                    "source": CUSTOM_FIELD_TYPES_INCOMPATIBLE.format(
                        field=self.sage_label or self.sage_field_id,
                        sage_type=self.sage_type,
                        tms_field=label,
                        tms_type=tms_type,
                    )
                }
            )
