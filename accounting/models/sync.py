"""The Sage sync ledger and Error Transactions, kept in this app (tables and admin URLs stay)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .base import ZERO, money_field
from .organization import Subsidiary


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


class SyncMember(models.Model):
    """A document billed inside a group's Sage document (a load on a summary invoice, a trip in
    a carrier settlement, a paystub in a driver settlement), as the group's last synced version
    bills it. While that version stands, the member is not billed again on its own."""

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="members")
    document_type = models.CharField(max_length=30)
    document_id = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "document_type", "document_id"], name="one_member_per_record"
            )
        ]
        indexes = [models.Index(fields=["document_type", "document_id"], name="sync_member_doc")]

    def __str__(self):
        return f"{self.document_type} {self.document_id} in {self.record}"


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
        IN_AGREEMENT = "in_agreement", "In agreement with Sage (reconcile)"

    entity_type = models.CharField(
        "entity type", max_length=30, help_text="Load, Trip, Paystub, E-check, ..."
    )
    transaction_type = models.CharField(
        "transaction type", max_length=30, help_text="Invoice, Bill, ..."
    )
    subsidiary = models.ForeignKey(Subsidiary, on_delete=models.PROTECT, verbose_name="class")
    document_type = models.CharField(max_length=30)
    document_id = models.PositiveBigIntegerField()
    reference = models.CharField(max_length=60, db_index=True)  # searched by prefix
    total = money_field(verbose_name="transaction total", default=ZERO)
    message = models.TextField("error message")
    # What the Error Transactions page groups an open failure by ("Failures with one cause"):
    # filled in by the integration (empty until it has looked at the message), emptied when
    # the message changes.
    cause = models.CharField(max_length=64, blank=True, editable=False)
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
        indexes = [
            # Grouping open failures by cause (each group's first references in index order),
            # and finding those whose cause is not known yet.
            models.Index(
                fields=["status", "cause", "subsidiary", "reference"], name="error_open_by_cause"
            ),
            # The open failures whose cause is not worked out yet: none, most of the time.
            models.Index(
                fields=["id"],
                condition=Q(status="failed", cause=""),
                name="error_cause_pending",
            ),
            # The list's Entity Type and Transaction Type filters read their values from these.
            models.Index(fields=["entity_type"], name="error_entity_type"),
            models.Index(fields=["transaction_type"], name="error_transaction_type"),
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
