"""The reconcile log: one row per run, with what it found (one finding per Sage document or
ledger row that disagrees)."""

from django.db import models

from accounting.models import ErrorTransaction, SyncRecord
from intacct.connections.models import Connection


class ReconcileRun(models.Model):
    """One comparison of a connection's ledger with Sage. Written (Running) before Sage is read
    and updated when it ends, so a run that died leaves evidence."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"
        PAGE = "page", "Reconcile with Sage page"

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="reconcile_runs"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    ledger_documents = models.PositiveIntegerField(
        default=0, help_text="Ledger rows compared with Sage."
    )
    sage_documents = models.PositiveIntegerField(
        default=0, help_text="AR invoices and AP bills read from Sage."
    )
    counts = models.JSONField(default=dict, blank=True, help_text="Findings per kind.")
    requests = models.PositiveIntegerField(default=0, help_text="HTTP requests sent to Sage.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "reconcile run"

    def __str__(self):
        return f"Reconcile {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def in_agreement(self) -> bool:
        return self.status == self.Status.SUCCEEDED and not any(self.counts.values())


class ReconcileFinding(models.Model):
    """One disagreement between the ledger (and the TMS) and Sage."""

    class Kind(models.TextChoices):
        UNLINKED = "unlinked", "In Sage, not linked in the ledger"
        MISSING = "missing", "Linked, but missing in Sage"
        REVERSED = "reversed", "Linked, but reversed in Sage"
        DIFFERS = "differs", "Amount, customer/vendor or dates differ"
        PAID = "paid", "Paid in Sage, not closed in the TMS"
        FOREIGN = "foreign", "In Sage with a Ledgerline number the TMS did not export"

    run = models.ForeignKey(ReconcileRun, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    sage_object = models.CharField(max_length=20)
    record_no = models.CharField("Sage RECORDNO", max_length=30, blank=True)
    sage_number = models.CharField("Sage number", max_length=60, blank=True)
    sage_state = models.CharField(max_length=30, blank=True)
    sage_date = models.DateField(null=True, blank=True)
    sage_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    record = models.ForeignKey(
        SyncRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document_type = models.CharField(max_length=30, blank=True)
    document_id = models.PositiveBigIntegerField(null=True, blank=True)
    document_label = models.CharField(max_length=90, blank=True)
    differences = models.JSONField(
        default=list, blank=True, help_text="[field, value in Sage, value in the TMS]"
    )
    message = models.TextField(help_text="What differs and the suggested fix.")
    error = models.ForeignKey(
        ErrorTransaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["run", "kind", "sage_number", "id"]
        verbose_name = "reconcile finding"

    def __str__(self):
        return f"{self.get_kind_display()}: {self.sage_number or self.document_label}"
