"""One Sage API session per connection, reused across batches, runs and commands until Sage
says it expired (README "The Sage Intacct client"). The scenario below is the demo's walk
through the product; its sign-ins and requests are the README's figures."""

import io
import logging
import re
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from accounting import demo_data
from accounting import models as am
from intacct import models as m
from intacct import tasks
from intacct.connections import services
from intacct.connections.sage import session_stored
from intacct.errors.services import error_transactions_retry
from intacct.sandbox.models import SandboxRecord, SandboxSession
from intacct.sandbox.services import sandbox_payment_record, sandbox_sessions_expire
from tests import factories as f

from .test_wizard import (
    ADVANCED,
    AP_DEFAULTS,
    AR_DEFAULTS,
    REQUIRED_CUSTOM_FIELDS,
    credentials,
    start,
    url,
)

SIGN_IN = re.compile(rb"<getAPISession[ />]")


def sign_ins(bodies: list[bytes]) -> int:
    """Sessions opened: every getAPISession Sage was sent (each goes alone in its request)."""
    return sum(1 for body in bodies if SIGN_IN.search(body))


def documents(subsidiary) -> tuple[list[am.Load], am.Trip]:
    """Three invoiced loads (one for a customer Sage does not have) and a carrier's trip."""
    known = f.CustomerFactory(name="Acme Distribution")
    f.ExternalIdFactory(subsidiary=subsidiary, customer=known, external_id="C1001")
    unknown = f.CustomerFactory(name="Westgate Retail")
    loads = []
    for customer in (known, known, unknown):
        load = f.LoadFactory(
            invoice_as_subsidiary=subsidiary, customer=customer, invoiced_at=timezone.now()
        )
        f.LoadChargeFactory(load=load, kind="linehaul", quantity=Decimal("500"), rate=Decimal(2))
        loads.append(load)
    carrier = f.CarrierFactory(name="Apex Carriers LLC")
    f.ExternalIdFactory(subsidiary=subsidiary, customer=None, carrier=carrier, external_id="V2001")
    trip = f.TripFactory(
        load=loads[0],
        subsidiary=subsidiary,
        carrier=carrier,
        carrier_invoice_uploaded_at=timezone.now(),
    )
    f.TripChargeFactory(trip=trip, kind="linehaul", rate=Decimal("800"))
    return loads, trip


def demo_scenario(admin_client) -> m.Connection:
    """The README's walk through the demo: the wizard with a reconciliation fix, batch
    invoicing, a carrier invoice upload, the scheduled export, an error fixed and retried, a
    payment recorded in Sage and imported, `intacct_check`, and a scheduled run with nothing
    to do."""
    subsidiary = f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")
    connection = start(admin_client, subsidiary)
    credentials(admin_client, connection)
    admin_client.get(url("wizard_ap", connection.pk))
    admin_client.post(url("wizard_ap", connection.pk), AP_DEFAULTS)
    admin_client.post(url("wizard_ar", connection.pk), AR_DEFAULTS)
    admin_client.post(url("wizard_advanced", connection.pk), ADVANCED)
    admin_client.post(url("wizard_finish", connection.pk))  # two problems to fix
    admin_client.get(url("wizard_advanced", connection.pk))
    admin_client.post(url("wizard_advanced", connection.pk), {**ADVANCED, **REQUIRED_CUSTOM_FIELDS})
    admin_client.post(url("wizard_finish", connection.pk))
    connection.refresh_from_db()
    assert connection.status == m.Connection.Status.ACTIVE

    loads, trip = documents(subsidiary)
    tasks.loads_export_now(connection.pk, [load.pk for load in loads])
    tasks.trip_export(trip.pk)
    tasks.connection_export(connection.pk)
    m.ARSettings.objects.filter(connection=connection).update(auto_create_customer=True)
    error_transactions_retry(errors=am.ErrorTransaction.objects.filter(status="failed"))
    record = am.SyncRecord.objects.get(document_type="load", document_id=loads[0].pk)
    sandbox_payment_record(document=SandboxRecord.objects.get(pk=int(record.record_no)))
    tasks.connection_payments_import(connection.pk)
    call_command("intacct_check", stdout=io.StringIO())
    tasks.connection_export(connection.pk)
    return connection


def test_the_demo_scenario_signs_in_three_times(sandbox, sandbox_requests, admin_client):
    """Before sessions were kept per connection, this scenario signed in 12 times in 44
    requests: every client, hence every run, command and wizard page, opened its own."""
    connection = demo_scenario(admin_client)

    loads = am.Load.objects.filter(invoice_as_subsidiary=connection.subsidiary)
    assert am.SyncRecord.objects.filter(state="synced").count() == loads.count() + 1
    opened = [body for body in sandbox_requests if SIGN_IN.search(body)]
    # The wizard's credentials step at the top level (it lists the entities), the entity's
    # session opened once and kept, and intacct_check, whose job is to test the sign-in.
    assert [
        re.search(rb"<getAPISession[^>]*>.*?</getAPISession>|<getAPISession/>", body).group()
        for body in opened
    ] == [
        b"<getAPISession><locationid /></getAPISession>",
        b"<getAPISession><locationid>E100</locationid></getAPISession>",
        b"<getAPISession><locationid>E100</locationid></getAPISession>",
    ]
    # (one request is the AP terms read that sets the bill's WHENDUE; the wizard reads the
    # four document objects' custom fields in one request instead of four)
    assert (sign_ins(sandbox_requests), len(sandbox_requests)) == (3, 24)


def export_once(connection) -> None:
    load = f.LoadFactory(
        invoice_as_subsidiary=connection.subsidiary,
        customer=am.Customer.objects.get(name="Acme Distribution"),
        invoiced_at=timezone.now(),
    )
    f.LoadChargeFactory(load=load, kind="linehaul", rate=Decimal("900"))
    assert tasks.connection_export(connection.pk)["created"] == 1


@pytest.fixture
def acme(connection):
    customer = f.CustomerFactory(name="Acme Distribution")
    f.ExternalIdFactory(subsidiary=connection.subsidiary, customer=customer, external_id="C1001")
    return connection


def test_runs_and_commands_reuse_the_session_of_the_connection(acme, sandbox_requests):
    sandbox_requests.clear()
    export_once(acme)
    export_once(acme)
    tasks.connection_payments_import(acme.pk)
    call_command("intacct_export", stdout=io.StringIO())
    # the session the activation's reconciliation opened at the entity serves them all
    assert sign_ins(sandbox_requests) == 0 and len(sandbox_requests) == 4
    assert SandboxSession.objects.count() == 2  # the wizard's at the top level, and that one


def test_an_expired_session_is_replaced_once_and_the_request_resent(acme, sandbox_requests):
    export_once(acme)
    stored = acme_session(acme)
    sandbox_sessions_expire()
    sandbox_requests.clear()

    export_once(acme)

    # refused on the old session, signed in once, sent again on the new one
    assert sign_ins(sandbox_requests) == 1
    assert [b"<getAPISession" in body for body in sandbox_requests] == [False, True, False]
    assert acme_session(acme) not in (None, stored)


def acme_session(connection):
    connection.refresh_from_db()
    return session_stored(connection)


def test_the_session_id_is_stored_encrypted_and_never_logged(acme, caplog):
    with caplog.at_level(logging.DEBUG):
        export_once(acme)
        call_command("intacct_check", stdout=io.StringIO())
    session = acme_session(acme)
    assert (
        session is not None
        and SandboxSession.objects.filter(session_id=session.session_id).exists()
    )
    raw = m.Connection.objects.filter(pk=acme.pk).values_list("session_encrypted", flat=True)[0]
    assert session.session_id not in raw and raw
    assert session.session_id not in caplog.text
    assert session.session_id not in repr(session)
    for stored in SandboxSession.objects.values_list("session_id", flat=True):
        assert stored not in caplog.text


def test_new_credentials_drop_the_stored_session(acme):
    export_once(acme)
    assert acme_session(acme) is not None
    services.connection_connect(
        connection=acme,
        company_id=demo_data.SAGE_COMPANY_ID,
        user_id=demo_data.SAGE_USER_ID,
        password=demo_data.SAGE_USER_PASSWORD,
    )
    assert acme_session(acme) is None


def test_a_session_opened_at_another_gateway_is_not_used_here(acme, settings):
    export_once(acme)
    settings.INTACCT_ENDPOINT_URL = "https://api.intacct.com/ia/xml/xmlgw.phtml"
    assert acme_session(acme) is None


def test_a_session_no_configured_key_opens_is_replaced_not_an_error(
    acme, settings, sandbox_requests
):
    export_once(acme)
    settings.INTACCT_FERNET_KEYS = [Fernet.generate_key().decode(), *settings.INTACCT_FERNET_KEYS]
    call_command("intacct_rotate_keys", stdout=io.StringIO())
    assert acme_session(acme) is not None  # rotated with the password
    settings.INTACCT_FERNET_KEYS = settings.INTACCT_FERNET_KEYS[:1]
    acme.refresh_from_db()
    m.Connection.objects.filter(pk=acme.pk).update(
        session_encrypted=Fernet(Fernet.generate_key()).encrypt(b"{}").decode()
    )
    sandbox_requests.clear()
    export_once(acme)
    assert sign_ins(sandbox_requests) == 1


def test_disconnecting_forgets_the_session(acme):
    export_once(acme)
    services.connection_disconnect(connection=acme)
    assert m.Connection.objects.get(pk=acme.pk).session_encrypted == ""
