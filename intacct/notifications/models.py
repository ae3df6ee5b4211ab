"""A connection's notification secret and the log of the notifications it received."""

from django.db import models

from intacct.connections import crypto
from intacct.connections.models import Connection
from intacct.payments.models import PaymentImportRun


class NotificationEndpoint(models.Model):
    """The secret that authenticates a connection's payment notification URL, encrypted at
    rest like the Sage password (`connections.crypto`); rotating it replaces it at once."""

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="notification_endpoint"
    )
    secret_encrypted = models.TextField(editable=False)
    rotated_at = models.DateTimeField()

    class Meta:
        verbose_name = "payment notification endpoint"

    def __str__(self):
        return f"Payment notifications of {self.connection.subsidiary}"

    def get_secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)


class PaymentNotification(models.Model):
    """One notification accepted from Sage (or sent by Send test notification): which payments
    it names, and what the narrow import that followed did. Written before the import is
    queued, so a notification whose import never ran is visible (status Queued)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        IMPORTED = "imported", "Imported"
        NOT_FOUND = "not_found", "No such payment in Sage"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"
        TEST = "test", "Test"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="payment_notifications"
    )
    received_at = models.DateTimeField()
    # Sage's idempotency key when it sends one, else a digest of the body: a replay inside
    # `DEDUPE_WINDOW` is answered without a second import.
    dedupe_key = models.CharField(max_length=64)
    sage_object = models.CharField("Sage object", max_length=10, blank=True)
    record_keys = models.JSONField(
        default=list, blank=True, help_text="The payment RECORDNOs the notification named."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(
        PaymentImportRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "payment notification"
        indexes = [
            models.Index(fields=["connection", "received_at"], name="notification_recent"),
            models.Index(fields=["connection", "dedupe_key"], name="notification_dedupe"),
        ]

    def __str__(self):
        keys = ", ".join(self.record_keys) or "—"
        return f"{self.sage_object or 'Notification'} {keys} ({self.get_status_display()})"
