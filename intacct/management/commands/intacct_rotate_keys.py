"""Re-encrypt every stored Sage password (and payment notification secret) under the newest
INTACCT_FERNET_KEYS key."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from intacct.connections import crypto
from intacct.connections.models import Connection
from intacct.notifications.models import NotificationEndpoint


class Command(BaseCommand):
    help = "Re-encrypt stored Sage passwords under the first (newest) key of INTACCT_FERNET_KEYS."

    @transaction.atomic
    def handle(self, *args, **options):
        count = 0
        for connection in Connection.objects.select_for_update().exclude(password_encrypted=""):
            try:
                rotated = crypto.rotate(connection.password_encrypted)
            except crypto.CredentialDecryptError as error:
                raise CommandError(
                    f"{connection.subsidiary}: {error} Nothing was changed."
                ) from None
            Connection.objects.filter(pk=connection.pk).update(
                password_encrypted=rotated, session_encrypted=_rotated(connection)
            )
            count += 1
        secrets = 0
        for endpoint in NotificationEndpoint.objects.select_for_update().select_related(
            "connection__subsidiary"
        ):
            try:
                rotated = crypto.rotate(endpoint.secret_encrypted)
            except crypto.CredentialDecryptError:
                raise CommandError(
                    f"{endpoint.connection.subsidiary}: the payment notification secret cannot "
                    "be decrypted with any key in INTACCT_FERNET_KEYS. Create a new notification "
                    "URL on the connection's Advanced step, then run this again. Nothing was "
                    "changed."
                ) from None
            NotificationEndpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted=rotated)
            secrets += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {count} stored password(s). "
                f"Re-encrypted {secrets} payment notification secret(s)."
            )
        )


def _rotated(connection: Connection) -> str:
    """The stored API session under the newest key; forgotten (Sage opens another at the
    next run) when no configured key opens it."""
    try:
        return crypto.rotate(connection.session_encrypted) if connection.session_encrypted else ""
    except crypto.CredentialDecryptError:
        return ""
