"""Routing the real client into the sandbox gateway (no network, no server)."""

from accounting import demo_data
from intacct.client import Credentials, IntacctClient, SenderCredentials
from intacct.sandbox import gateway

SANDBOX_URL = "http://sandbox.test" + gateway.SANDBOX_PATH


def make_client(
    *,
    user_id=demo_data.SAGE_USER_ID,
    password=demo_data.SAGE_USER_PASSWORD,
    company_id=demo_data.SAGE_COMPANY_ID,
    location_id=None,
    sender_id=demo_data.SAGE_SENDER_ID,
    **kwargs,
) -> IntacctClient:
    sleeps = []
    return IntacctClient(
        endpoint_url=SANDBOX_URL,
        sender=SenderCredentials(sender_id, demo_data.SAGE_SENDER_PASSWORD),
        credentials=Credentials(company_id, user_id, password, location_id=location_id),
        sleep=sleeps.append,
        **kwargs,
    )
