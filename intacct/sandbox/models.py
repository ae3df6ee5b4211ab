"""The sandbox's own tables: a small Sage Intacct, stored so a standalone server and the app share it.

Records of every object live in one table (`SandboxRecord`): a JSON payload in Sage's field names
plus indexed columns for what reads filter on. RECORDNO is the row's primary key.
"""

from django.db import models


class SandboxCompany(models.Model):
    company_id = models.CharField(max_length=60, unique=True)
    web_services_subscribed = models.BooleanField(default=True)

    class Meta:
        verbose_name = "sandbox company"
        verbose_name_plural = "sandbox companies"

    def __str__(self):
        return self.company_id


class SandboxSender(models.Model):
    """A Web Services sender (the integration's own ID) and the companies that authorized it."""

    sender_id = models.CharField(max_length=60, unique=True)
    password = models.CharField(max_length=128)
    authorized_companies = models.ManyToManyField(SandboxCompany, blank=True)

    def __str__(self):
        return self.sender_id


class SandboxUser(models.Model):
    """A Web Services user. `modules`: the Sage modules its role grants "All" on."""

    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE, related_name="users")
    user_id = models.CharField(max_length=60)
    password = models.CharField(max_length=128)
    is_active = models.BooleanField(default=True)
    modules = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "user_id"], name="sandbox_user_unique")
        ]

    def __str__(self):
        return f"{self.user_id}@{self.company}"


class SandboxSession(models.Model):
    session_id = models.CharField(max_length=80, unique=True)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    location_id = models.CharField(max_length=40, blank=True)  # "" = top level
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"Session of {self.user_id} until {self.expires_at:%H:%M}"


class SandboxRecord(models.Model):
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE, related_name="records")
    object = models.CharField(max_length=40)
    key = models.CharField(max_length=120, blank=True)  # the object's ID field (CUSTOMERID, ...)
    entity = models.CharField(max_length=40, blank=True)  # MEGAENTITYID, "" = top level
    state = models.CharField(max_length=30, blank=True)
    when_modified = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["company", "object", "key"]),
            models.Index(fields=["company", "object", "when_modified"]),
        ]

    def __str__(self):
        return f"{self.object} {self.key or self.pk}"


class SandboxCustomField(models.Model):
    company = models.ForeignKey(
        SandboxCompany, on_delete=models.CASCADE, related_name="custom_fields"
    )
    object = models.CharField(max_length=40)  # ARINVOICE, ARINVOICEITEM, APBILL, APBILLITEM
    field_id = models.CharField(max_length=60)
    label = models.CharField(max_length=120)
    datatype = models.CharField(max_length=20, default="text")
    max_length = models.PositiveIntegerField(null=True, blank=True)
    required = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "object", "field_id"], name="sandbox_custom_field_unique"
            )
        ]

    def __str__(self):
        return f"{self.object}.{self.field_id}"


class SandboxAppliedControl(models.Model):
    """Function controlids already applied under uniqueid=true (Sage refuses them again)."""

    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE)
    sender_id = models.CharField(max_length=60)
    controlid = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "sender_id", "controlid"], name="sandbox_control_unique"
            )
        ]

    def __str__(self):
        return self.controlid


class SandboxResultSet(models.Model):
    """A readByQuery cursor that readMore continues."""

    result_id = models.CharField(max_length=60, unique=True)
    company = models.ForeignKey(SandboxCompany, on_delete=models.CASCADE)
    location_id = models.CharField(max_length=40, blank=True)
    object = models.CharField(max_length=40)
    query = models.TextField(blank=True)
    fields = models.TextField(default="*")
    page_size = models.PositiveIntegerField()
    offset = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.result_id


class SandboxFaults(models.Model):
    """Fault knobs (one row): consumed atomically by each request that meets them."""

    latency_ms = models.PositiveIntegerField(default=0, help_text="Added to every request.")
    fail_next = models.PositiveIntegerField(
        default=0, help_text="How many next requests fail with the status below."
    )
    fail_status = models.PositiveIntegerField(
        default=503, help_text="500, 502, 503, 429 (with Retry-After) or 524."
    )
    retry_after = models.PositiveIntegerField(default=1, help_text="Seconds, for 429.")
    drop_next = models.PositiveIntegerField(
        default=0,
        help_text="How many next requests are applied and then answered with 524 (no answer).",
    )

    class Meta:
        verbose_name = "sandbox fault knobs"
        verbose_name_plural = "sandbox fault knobs"

    def __str__(self):
        return "Fault knobs"


class ObjectManager(models.Manager):
    """Records of some Sage objects only (the console's invoices, bills, payments)."""

    def __init__(self, *objects):
        super().__init__()
        self.sage_objects = objects

    def get_queryset(self):
        return super().get_queryset().filter(object__in=self.sage_objects)


class SandboxInvoice(SandboxRecord):
    objects = ObjectManager("ARINVOICE")

    class Meta:
        proxy = True
        verbose_name = "Sage AR invoice"


class SandboxBill(SandboxRecord):
    objects = ObjectManager("APBILL")

    class Meta:
        proxy = True
        verbose_name = "Sage AP bill"


class SandboxPayment(SandboxRecord):
    objects = ObjectManager("ARPYMT", "APPYMT")

    class Meta:
        proxy = True
        verbose_name = "Sage payment"


# The HTTP post body of the Smart Events the connection's Advanced step asks for (Sage fills in
# the {!OBJECT.FIELD!} tokens). The sandbox keeps its own copy, since it imports nothing of the
# integration; tests/intacct/test_notifications.py holds the two together.
def smart_event_body(sage_object: str) -> str:
    return (
        f'{{"object": "{sage_object}", "recordno": "{{!{sage_object}.RECORDNO!}}", '
        f'"whenmodified": "{{!{sage_object}.WHENMODIFIED!}}"}}'
    )


def _ar_body() -> str:
    return smart_event_body("ARPYMT")


def _ap_body() -> str:
    return smart_event_body("APPYMT")


class SandboxNotificationTarget(models.Model):
    """The sandbox company's Smart Events on AR and AP payments (action HTTP Post, events Add
    and Set): on or off, the URL they post to, and their bodies."""

    company = models.OneToOneField(
        SandboxCompany, on_delete=models.CASCADE, related_name="notification_target"
    )
    enabled = models.BooleanField(
        "Send payment notifications",
        default=True,
        help_text="Post to the URL when a payment is recorded or voided in the console.",
    )
    url = models.URLField(
        "URL",
        max_length=500,
        help_text="The connection's notification URL (its Advanced step, Create the "
        "notification URL).",
    )
    ar_body = models.TextField("AR payment (ARPYMT) body", default=_ar_body)
    ap_body = models.TextField("AP payment (APPYMT) body", default=_ap_body)

    class Meta:
        verbose_name = "sandbox payment notification setting"

    def __str__(self):
        return f"Payment notifications of {self.company}"


class SandboxNotificationDelivery(models.Model):
    """One notification the sandbox sent (or tried to): the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Gave up (left to the 12-hour import)"

    target = models.ForeignKey(
        SandboxNotificationTarget, on_delete=models.CASCADE, related_name="deliveries"
    )
    sage_object = models.CharField(max_length=10)
    record_no = models.CharField(max_length=20)
    event = models.CharField(max_length=10, default="Add")
    url = models.CharField(max_length=500)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_answer = models.TextField(blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "sandbox notification delivery"
        verbose_name_plural = "sandbox notification deliveries"

    def __str__(self):
        return f"{self.sage_object} {self.record_no} ({self.get_status_display()})"
