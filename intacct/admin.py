"""The integration's admin, put together: the connection page (the wizard and settings of
`connections`, with Export now and payload previews from `export`, Import payments now from
`payments`, the integration status from `monitoring`, the payment notification section of
the Advanced step from `notifications` and Reconcile with Sage from `reconcile`), the payment
import and notification logs, and the pages it adds under Accounting (`errors`)."""

from django.contrib import admin

from .connections.admin import ConnectionAdmin as ConnectionSettingsAdmin
from .connections.models import Connection
from .errors import admin as errors_admin
from .export.admin import ExportPages
from .monitoring.admin import StatusPages
from .notifications.admin import NotificationPages, PaymentNotificationAdmin
from .payments.admin import PaymentImportPages, PaymentImportRunAdmin
from .reconcile.admin import ReconcilePages

__all__ = ["ConnectionAdmin", "PaymentImportRunAdmin", "PaymentNotificationAdmin", "errors_admin"]


@admin.register(Connection)
class ConnectionAdmin(
    StatusPages,
    ReconcilePages,
    ExportPages,
    PaymentImportPages,
    NotificationPages,
    ConnectionSettingsAdmin,
):
    """Admin → Sage Intacct → Connections."""
