"""What monitoring keeps per connection: the last export run that reached Sage, and the
problems its admins were last told about."""

from django.db import models

from intacct.connections.models import Connection


class MonitorState(models.Model):
    """One row per connection, made by the first export run or alert check that needs it."""

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="monitor_state"
    )
    last_export_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last scheduled export run finished in Sage."
    )
    alerted = models.CharField(
        max_length=200,
        blank=True,
        help_text="The problems (codes, comma-separated) the admins were last emailed about.",
    )
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "monitor state"

    def __str__(self):
        return f"Monitoring of {self.connection_id}"
