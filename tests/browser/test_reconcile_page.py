"""Reconcile with Sage in a real browser: drift an accountant made in the sandbox (reversed,
edited, paid, typed by hand, an answer lost) shows grouped on the connection's report page,
and Link fixes the lost answer. Saves docs/screenshots/reconcile.png for the README."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from accounting import models as am
from intacct.client import InvoiceLine
from intacct.client import functions as fn
from intacct.connections.sage import client_for_credentials
from intacct.sandbox.gateway import SANDBOX_PATH
from intacct.sandbox.services import (
    sandbox_document_reverse,
    sandbox_faults_clear,
    sandbox_payment_record,
    sandbox_seed,
)
from tests.intacct.conftest import connect
from tests.intacct.test_payments import exported_load, exported_trip, sage_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "reconcile-pass"


@pytest.fixture
def drifted(live_server, settings):
    """Ridgeline Freight connected to the live server's sandbox, five documents exported, and
    an accountant's day in Sage: one invoice reversed, one edited, one bill paid, a copy of an
    invoice typed by hand, and one document whose answer never reached the ledger."""
    settings.INTACCT_ENDPOINT_URL = live_server.url + SANDBOX_PATH
    sandbox_seed()
    sandbox_faults_clear()
    connection = connect("RF", "Ridgeline Freight")
    reversed_, edited, copied, lost = (exported_load(connection) for _ in range(4))
    paid = exported_trip(connection)
    accountant = client_for_credentials(
        company_id=connection.company_id,
        user_id=connection.user_id,
        password=connection.get_password(),
        location_id="E100",
    )
    sandbox_document_reverse(document=sage_document(reversed_))
    accountant.call(
        fn.update_invoice(
            controlid="edit-amount",
            key=str(sage_document(edited).pk),
            update_lines={2: InvoiceLine(amount=Decimal("95.00"), glaccountno="4025")},
        )
    )
    sandbox_payment_record(document=sage_document(paid))
    accountant.call(
        fn.create_invoice(
            controlid="typed-by-hand",
            customer_id="C1001",
            date_created=dt.date(2026, 11, 30),
            term_name="Net 30",
            invoice_no=copied.number,
            custom_fields={"LOAD_NUMBER": copied.number},
            lines=[InvoiceLine(amount=Decimal("1400.00"), glaccountno="4000")],
        )
    )
    am.SyncRecord.objects.filter(document_type="load", document_id=lost.pk).update(
        record_no="", state=am.SyncRecord.State.UNKNOWN
    )
    return connection, lost


def test_the_report_shows_each_drift_and_links_a_lost_answer(
    live_server, drifted, page: Page, screenshot
):
    connection, lost = drifted
    get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/admin/intacct/connection/{connection.pk}/change/")
    expect(page.locator(".reconcile-summary")).to_contain_text("never run yet")
    page.get_by_role("link", name="Open Reconcile with Sage").click()
    page.get_by_role("button", name="Reconcile now").click()

    expect(page.locator("ul.messagelist li.warning")).to_contain_text("drift found")
    for kind in ("unlinked", "reversed", "differs", "paid", "foreign"):
        expect(page.locator(f"#drift-{kind} tr.finding")).to_have_count(1)
    expect(page.locator("#drift-differs")).to_contain_text("total: Sage 1345.00, TMS 1400.00")
    screenshot(page, "reconcile")

    page.locator("#drift-unlinked").get_by_role("button", name="Link").click()
    expect(page.locator("ul.messagelist li.success")).to_contain_text(
        f"now linked to Load {lost.number}"
    )
    assert am.SyncRecord.objects.get(document_id=lost.pk, document_type="load").record_no

    page.goto(f"{live_server.url}/admin/intacct/connection/{connection.pk}/change/")
    expect(page.locator(".reconcile-summary")).to_contain_text("drift found")
