"""The payment import log: one row per run."""

from django.db import models

from intacct.connections.models import Connection


class PaymentImportRun(models.Model):
    """One payment import for one connection: its window, what it found and what it did.

    Written (status Running) before Sage is read and updated when the run ends, so a run that
    died leaves evidence; the next import marks such a run Failed ("interrupted"). The start of
    the last successful run that was not a backfill is the floor of the next window (see
    intacct.payments.services).
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"
        NOTIFICATION = "notification", "Notification"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="payment_import_runs"
    )
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.SCHEDULE)
    backfill = models.BooleanField(
        default=False,
        help_text="The window was given (--since / --until) or the payments were named (a "
        "notification), not the lookback.",
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    fetched = models.PositiveIntegerField(default=0, help_text="Payment details read from Sage.")
    applied = models.PositiveIntegerField(default=0, help_text="Payments stored by this run.")
    duplicates = models.PositiveIntegerField(default=0, help_text="Already imported before.")
    skipped = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, blank=True)
    unmatched = models.PositiveIntegerField(
        default=0, help_text="On Sage documents this application did not export (ignored)."
    )
    voided = models.PositiveIntegerField(
        default=0, help_text="Imported payments found voided in Sage (flagged for support)."
    )
    closed = models.PositiveIntegerField(
        default=0, help_text="Documents fully paid and closed (Completed / Paid)."
    )
    requests = models.PositiveIntegerField(default=0, help_text="HTTP requests sent to Sage.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "payment import run"
        indexes = [
            models.Index(
                fields=["connection", "status", "started_at"], name="payment_import_last_success"
            )
        ]

    def __str__(self):
        return f"Payment import {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    def counts(self) -> dict[str, int]:
        """What the run did, by name, for the messages that report it."""
        names = ("fetched", "applied", "duplicates", "skipped", "unmatched", "closed")
        return {name: getattr(self, name) for name in names}


class PaymentDetailStage(models.Model):
    """One Sage payment detail a run has read, held until the run applies them all at once.

    The import streams Sage's pages here instead of keeping them in memory, then applies the
    whole window in one transaction; rows live only as long as their run: a finished run
    deletes its own, and the next import deletes those of a run that died (see
    intacct.payments.services). The fields are what a stored Payment needs, already read from
    Sage's payment and detail records, so a row reads like a `reading.Line` (its side by
    `side_label`).
    """

    run = models.ForeignKey(PaymentImportRun, on_delete=models.CASCADE, related_name="+")
    side_label = models.CharField(max_length=2)  # "AR" or "AP"
    detail_id = models.CharField(max_length=30)
    payment_id = models.CharField(max_length=30)
    document_key = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=20, blank=True)
    completed = models.BooleanField(default=False, help_text="Posted in Sage (its state).")
    voided = models.BooleanField(default=False)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    paid_on = models.DateField()
    method = models.CharField(max_length=20)
    check_number = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=80, blank=True)
    note = models.TextField(blank=True)
    fully_paid = models.BooleanField(
        default=False, help_text="Sage shows the document it pays with nothing left due."
    )

    class Meta:
        verbose_name = "staged payment detail"
        constraints = [
            # Offset paging may hand a record twice when Sage changes meanwhile: kept once.
            models.UniqueConstraint(
                fields=["run", "side_label", "detail_id"], name="payment_stage_detail_once"
            )
        ]

    def __str__(self):
        return f"{self.side_label} payment detail {self.detail_id} (run {self.run_id})"
