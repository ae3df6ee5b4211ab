"""The one place that builds a Sage Intacct client from settings and a connection."""

from django.conf import settings

from intacct.client import Credentials, IntacctClient, SenderCredentials


def client_for_credentials(
    *, company_id: str, user_id: str, password: str, location_id: str | None, audit=None
) -> IntacctClient:
    return IntacctClient(
        endpoint_url=settings.INTACCT_ENDPOINT_URL,
        sender=SenderCredentials(settings.INTACCT_SENDER_ID, settings.INTACCT_SENDER_PASSWORD),
        credentials=Credentials(company_id, user_id, password, location_id=location_id),
        timeout=settings.INTACCT_TIMEOUT,
        max_retries=settings.INTACCT_MAX_RETRIES,
        audit=audit,
    )


def client_for(connection, *, audit=None) -> IntacctClient:
    """A client signed in at the connection's posting destination (entity or top level)."""
    return client_for_credentials(
        company_id=connection.company_id,
        user_id=connection.user_id,
        password=connection.get_password(),
        location_id=connection.location_id,
        audit=audit,
    )
