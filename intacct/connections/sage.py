"""The one place that builds a Sage Intacct client from settings and a connection, and that
keeps the connection's API session between clients, runs and processes.

Sage's SDKs sign in once and reuse the session until it expires (PHP SDK
`src/Intacct/SessionProvider.php`; DOCS `company-console-api-sessions.md`: the timeout is reset
by every call). The session ID is a secret: it is stored encrypted like the password, never
shown, and masked in every audit record and log line (`intacct.client.redaction`).
"""

import json

from django.conf import settings

from intacct.client import Credentials, IntacctClient, SenderCredentials, Session

from . import crypto
from .models import Connection


def client_for_credentials(
    *,
    company_id: str,
    user_id: str,
    password: str,
    location_id: str | None,
    audit=None,
    session: Session | None = None,
    on_session=None,
) -> IntacctClient:
    return IntacctClient(
        endpoint_url=settings.INTACCT_ENDPOINT_URL,
        sender=SenderCredentials(settings.INTACCT_SENDER_ID, settings.INTACCT_SENDER_PASSWORD),
        credentials=Credentials(company_id, user_id, password, location_id=location_id),
        timeout=settings.INTACCT_TIMEOUT,
        max_retries=settings.INTACCT_MAX_RETRIES,
        audit=audit,
        session=session,
        on_session=on_session,
    )


def client_for(connection: Connection, *, audit=None) -> IntacctClient:
    """A client signed in at the connection's posting destination (entity or top level),
    on the session the connection's last client opened if Sage has not expired it."""
    return client_for_credentials(
        company_id=connection.company_id,
        user_id=connection.user_id,
        password=connection.get_password(),
        location_id=connection.location_id,
        audit=audit,
        session=session_stored(connection),
        on_session=lambda session: session_store(connection=connection, session=session),
    )


def _opened_for(connection: Connection) -> list[str]:
    """What a stored session belongs to: the gateway it was opened at and the credentials
    and destination it was opened with. A change to any of them leaves it unused."""
    return [
        settings.INTACCT_ENDPOINT_URL,
        connection.company_id,
        connection.user_id,
        connection.location_id,
    ]


def session_stored(connection: Connection) -> Session | None:
    """The connection's stored session, or None (none yet, opened for other credentials or
    another gateway, or encrypted under a key no longer configured)."""
    if not connection.session_encrypted:
        return None
    try:
        stored = json.loads(crypto.decrypt(connection.session_encrypted))
    except (crypto.CredentialDecryptError, ValueError):
        return None
    if stored.get("for") != _opened_for(connection):
        return None
    return Session(stored["sessionid"], stored["endpoint"], stored["locationid"])


def session_store(*, connection: Connection, session: Session | None) -> None:
    """Keep `session` for the connection's next client (None forgets the stored one)."""
    token = ""
    if session is not None:
        token = crypto.encrypt(
            json.dumps(
                {
                    "sessionid": session.session_id,
                    "endpoint": session.endpoint_url,
                    "locationid": session.location_id,
                    "for": _opened_for(connection),
                }
            )
        )
    connection.session_encrypted = token
    Connection.objects.filter(pk=connection.pk).update(session_encrypted=token)
