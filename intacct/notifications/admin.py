"""Payment notifications in the admin: the Advanced step's section (URL, Smart Event
definition, setup steps, rotate the secret, Send test notification) and the read-only log."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from intacct.connections.admin import ConnectionLogAdmin
from intacct.connections.crypto import CredentialDecryptError
from intacct.connections.models import Connection

from .models import NotificationEndpoint, PaymentNotification
from .services import (
    notification_secret_rotate,
    notification_test_send,
    notification_url,
)
from .smart_event import smart_events

MASK = "••••••••"
RECENT = 5  # notifications listed on the Advanced step
SECRET_UNREADABLE = (
    "The notification secret cannot be decrypted with INTACCT_FERNET_KEYS: create a new "
    "notification URL and paste it into the Smart Events."
)


class NotificationPages:
    """Adds the payment notification section to the connection's Advanced step, with its
    Rotate and Send test notification buttons."""

    def connection_views(self) -> list[tuple]:
        return [
            *super().connection_views(),
            (
                require_POST(self.notification_rotate),
                "notification_rotate",
                "<int:pk>/notifications/rotate/",
            ),
            (
                require_POST(self.notification_test),
                "notification_test",
                "<int:pk>/notifications/test/",
            ),
        ]

    def _render(self, request, connection, step, form, *args, **extra):
        if connection is not None and step == Connection.Step.ADVANCED:
            extra["notifications"] = _section(request, connection)
        return super()._render(request, connection, step, form, *args, **extra)

    def notification_rotate(self, request, pk):
        """Create or replace the secret and show the new URL once (it is never shown again)."""
        connection = self._connection(pk)
        secret = notification_secret_rotate(connection=connection)
        url = notification_url(
            connection=connection, secret=secret, base_url=request.build_absolute_uri("/")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "connection": connection,
            "title": f"Payment notification URL of {connection.subsidiary}",
            "notifications": {**_section(request, connection), "url": url, "shown_once": True},
        }
        return TemplateResponse(request, "admin/intacct/notification_url.html", context)

    def notification_test(self, request, pk):
        connection = self._connection(pk)
        try:
            ok, message = notification_test_send(
                connection=connection, base_url=request.build_absolute_uri("/")
            )
        except CredentialDecryptError:
            ok, message = False, SECRET_UNREADABLE
        self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)
        return redirect(reverse("admin:intacct_wizard_advanced", args=[pk]) + "#notifications")


def _section(request, connection) -> dict:
    """What the Advanced step shows: the URL with its secret masked, the Smart Events to
    create, and the last notifications (two queries)."""
    endpoint = NotificationEndpoint.objects.filter(connection=connection).first()
    return {
        "enabled": endpoint is not None,
        "rotated_at": endpoint.rotated_at if endpoint else None,
        "url": notification_url(
            connection=connection, secret="SECRET", base_url=request.build_absolute_uri("/")
        ).replace("/SECRET/", f"/{MASK}/"),
        "events": smart_events(connection.subsidiary.code),
        "recent": list(
            PaymentNotification.objects.filter(connection=connection).select_related("run")[:RECENT]
        ),
        "log_url": reverse("admin:intacct_paymentnotification_changelist")
        + f"?connection__id__exact={connection.pk}",
        "rotate_url": reverse("admin:intacct_notification_rotate", args=[connection.pk]),
        "test_url": reverse("admin:intacct_notification_test", args=[connection.pk]),
    }


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ConnectionLogAdmin):
    """The notification log: read-only, one row per notification accepted."""

    list_display = [
        "received_at",
        "subsidiary",
        "sage_object",
        "keys",
        "status",
        "run",
        "message",
    ]
    list_filter = ["status", "sage_object", "connection__subsidiary"]
    list_select_related = ["connection__subsidiary", "run"]
    date_hierarchy = "received_at"
    fields = [
        "connection",
        "received_at",
        "sage_object",
        "record_keys",
        "status",
        "started_at",
        "finished_at",
        "run",
        "message",
    ]
    readonly_fields = fields

    @admin.display(description="payments (RECORDNO)")
    def keys(self, notification):
        return ", ".join(notification.record_keys) or "—"
