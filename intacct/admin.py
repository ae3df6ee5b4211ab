"""The integration's admin, put together: the connection page (the wizard and settings of
`connections`, with Export now and payload previews from `export`, Import payments now from
`payments` and the integration status from `monitoring`), the payment import log, and the
pages it adds under Accounting (`errors`)."""

from django.contrib import admin

from .connections.admin import ConnectionAdmin as ConnectionSettingsAdmin
from .connections.models import Connection
from .errors import admin as errors_admin
from .export.admin import ExportPages
from .monitoring.admin import StatusPages
from .payments.admin import PaymentImportPages, PaymentImportRunAdmin

__all__ = ["ConnectionAdmin", "PaymentImportRunAdmin", "errors_admin"]


@admin.register(Connection)
class ConnectionAdmin(StatusPages, ExportPages, PaymentImportPages, ConnectionSettingsAdmin):
    """Admin → Sage Intacct → Connections."""
