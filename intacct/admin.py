"""The integration's admin, put together: the connection page (the wizard and settings of
`connections`, with Export now and payload previews from `export`, Import payments now from
`payments` and Reconcile with Sage from `reconcile`), the payment import log, and the pages it adds under Accounting (`errors`)."""

from django.contrib import admin

from .connections.admin import ConnectionAdmin as ConnectionSettingsAdmin
from .connections.models import Connection
from .errors import admin as errors_admin
from .export.admin import ExportPages
from .payments.admin import PaymentImportPages, PaymentImportRunAdmin
from .reconcile.admin import ReconcilePages

__all__ = ["ConnectionAdmin", "PaymentImportRunAdmin", "errors_admin"]


@admin.register(Connection)
class ConnectionAdmin(ReconcilePages, ExportPages, PaymentImportPages, ConnectionSettingsAdmin):
    """Admin → Sage Intacct → Connections."""
