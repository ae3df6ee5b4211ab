"""The sandbox console in the admin: what an accountant does in Sage, through the pages."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from intacct.client import InvoiceLine
from intacct.client import functions as fn
from intacct.sandbox.models import SandboxFaults, SandboxRecord, SandboxUser


@pytest.fixture
def invoice_key(client):
    return client.call(
        fn.create_invoice(
            controlid="inv-1",
            customer_id="C1001",
            date_created=dt.date(2026, 11, 20),
            term_name="Net 30",
            invoice_no="L-1",
            custom_fields={"LOAD_NUMBER": "L-1"},
            lines=[InvoiceLine(Decimal("500.00"), "4000")],
        )
    ).key


def test_the_invoice_list_shows_sage_state_and_amounts(admin_client, invoice_key):
    page = admin_client.get(reverse("admin:intacct_sandbox_sandboxinvoice_changelist"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "L-1" in text and "C1001" in text and "Posted" in text and "500.00" in text


def test_a_partial_payment_with_check_details_is_recorded_from_its_page(admin_client, invoice_key):
    url = reverse("admin:intacct_sandbox_sandboxinvoice_pay", args=[invoice_key])
    form = admin_client.get(url)
    assert form.status_code == 200 and 'value="500.00"' in form.content.decode()
    response = admin_client.post(
        url,
        {
            "amount": "200.00",
            "method": "check",
            "check_number": "10045",
            "memo": "First half",
            "paid_on": "2026-11-21",
        },
    )
    assert response.status_code == 302
    document = SandboxRecord.objects.get(pk=invoice_key)
    assert (document.state, document.data["TOTALDUE"]) == ("Partially Paid", "300.00")
    payment = SandboxRecord.objects.get(object="ARPYMT")
    assert (
        payment.data["DOCNUMBER"],
        payment.data["DESCRIPTION"],
        payment.data["PAYMENTMETHOD"],
    ) == ("10045", "First half", "Printed Check")


def test_overpaying_shows_sages_refusal_on_the_form(admin_client, invoice_key):
    url = reverse("admin:intacct_sandbox_sandboxinvoice_pay", args=[invoice_key])
    response = admin_client.post(
        url, {"amount": "900.00", "method": "ach", "paid_on": "2026-11-21"}
    )
    assert response.status_code == 200
    assert "is more than the 500.00 due" in response.content.decode()
    assert not SandboxRecord.objects.filter(object="ARPYMT").exists()


def test_actions_pay_in_full_then_void_then_reverse(admin_client, invoice_key):
    invoices = reverse("admin:intacct_sandbox_sandboxinvoice_changelist")
    admin_client.post(invoices, {"action": "pay_in_full", "_selected_action": [invoice_key]})
    assert SandboxRecord.objects.get(pk=invoice_key).state == "Paid"

    refused = admin_client.post(
        invoices, {"action": "reverse_documents", "_selected_action": [invoice_key]}, follow=True
    )
    assert (
        "Payments must be removed before the invoice can be reversed." in refused.content.decode()
    )

    payment = SandboxRecord.objects.get(object="ARPYMT")
    admin_client.post(
        reverse("admin:intacct_sandbox_sandboxpayment_changelist"),
        {"action": "void", "_selected_action": [payment.pk]},
    )
    assert SandboxRecord.objects.get(pk=invoice_key).state == "Posted"

    admin_client.post(invoices, {"action": "reverse_documents", "_selected_action": [invoice_key]})
    assert SandboxRecord.objects.get(pk=invoice_key).state == "Reversed"


def test_a_bill_is_selected_for_payment_from_the_console(admin_client, client):
    key = client.call(
        fn.create(
            "APBILL",
            {
                "WHENCREATED": dt.date(2026, 11, 20),
                "VENDORID": "V2001",
                "RECORDID": "TR-1",
                "TERMNAME": "Net 15",
                "WHENDUE": dt.date(2026, 12, 5),
                "TRIP_NUMBER": "TR-1",
                "APBILLITEMS": {"APBILLITEM": [{"ACCOUNTNO": "5000", "TRX_AMOUNT": Decimal("10")}]},
            },
            controlid="b1",
        )
    ).record_no
    admin_client.post(
        reverse("admin:intacct_sandbox_sandboxbill_changelist"),
        {"action": "select_for_payment", "_selected_action": [key]},
    )
    assert SandboxRecord.objects.get(pk=key).state == "Selected"


def test_fault_knobs_and_user_revocation_are_editable(admin_client, sandbox):
    faults = SandboxFaults.objects.get(pk=1)
    response = admin_client.post(
        reverse("admin:intacct_sandbox_sandboxfaults_change", args=[faults.pk]),
        {
            "latency_ms": "50",
            "fail_next": "2",
            "fail_status": "429",
            "retry_after": "3",
            "drop_next": "0",
        },
    )
    assert response.status_code == 302
    faults.refresh_from_db()
    assert (faults.fail_next, faults.fail_status, faults.latency_ms) == (2, 429, 50)

    user = SandboxUser.objects.get(user_id="ws_ledgerline", company__company_id="RIDGELINE-DEMO")
    admin_client.post(
        reverse("admin:intacct_sandbox_sandboxuser_changelist"),
        {"action": "revoke", "_selected_action": [user.pk]},
    )
    user.refresh_from_db()
    assert not user.is_active


def test_staff_without_permission_cannot_use_the_console(client, invoice_key, django_user_model):
    from django.test import Client

    staff = django_user_model.objects.create_user("staff", password="pw-12345", is_staff=True)
    browser = Client()
    browser.force_login(staff)
    assert (
        browser.get(reverse("admin:intacct_sandbox_sandboxinvoice_changelist")).status_code == 403
    )
    assert (
        browser.get(
            reverse("admin:intacct_sandbox_sandboxinvoice_pay", args=[invoice_key])
        ).status_code
        == 403
    )


def test_record_a_payment_is_offered_only_where_something_is_due(admin_client, invoice_key):
    invoices = reverse("admin:intacct_sandbox_sandboxinvoice_changelist")
    pay = reverse("admin:intacct_sandbox_sandboxinvoice_pay", args=[invoice_key])
    assert f'href="{pay}">Record a payment…' in admin_client.get(invoices).content.decode()

    admin_client.post(invoices, {"action": "pay_in_full", "_selected_action": [invoice_key]})

    listing = admin_client.get(invoices).content.decode()
    assert "Paid" in listing and "Record a payment…" not in listing


def test_the_payment_form_spells_the_methods_as_people_write_them(admin_client, invoice_key):
    from intacct.sandbox.services import PAYMENT_METHODS

    url = reverse("admin:intacct_sandbox_sandboxinvoice_pay", args=[invoice_key])
    form = admin_client.get(url).content.decode()
    labels = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', form)
    assert dict(labels) == {
        "check": "Check",
        "ach": "ACH",
        "eft": "EFT",
        "credit_card": "Credit card",
        "cash": "Cash",
    }
    assert set(dict(labels)) == set(PAYMENT_METHODS)
