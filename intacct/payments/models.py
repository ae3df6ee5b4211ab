"""The payment import log: one row per run."""

from django.db import models

from intacct.connections.models import Connection


class PaymentImportRun(models.Model):
    """One payment import for one connection: its window, what it found and what it did.

    Written (status Running) before Sage is read and updated when the run ends, so a run that
    died leaves evidence; the next import marks such a run Failed ("interrupted"). The start of the last successful run that was not a backfill is the
    floor of the next window (see intacct.payments.services).
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
