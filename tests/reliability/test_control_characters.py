"""A control character typed into a form is refused where it is typed, with a message naming
the field: never an HTTP 500, never a secret in the log, nothing saved, Sage never called."""

import logging

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounting import models as am
from config.validators import CONTROL_CHARACTER, control_character_problem
from intacct import models as m
from intacct.client import wire
from intacct.sandbox.models import SandboxSession
from tests import factories as f
from tests.intacct.test_wizard import credentials, start

SECRET = "Pa55-word-42"


def refused(field: str, code: str = "U+0001") -> str:
    return escape(CONTROL_CHARACTER.format(field=field, code=code))


@pytest.fixture
def as_admin(admin_user) -> Client:
    """An admin whose 500s come back as pages (as a real browser sees them), not exceptions."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    ("field", "label", "value"),
    [
        ("company_id", "Company ID", "demo\x01co"),
        ("user_id", "Web Services User ID", "ws\x01user"),
        ("password", "Password", f"{SECRET}\x01"),
    ],
)
def test_a_control_character_in_the_credentials_is_refused_naming_the_field(
    sandbox, as_admin, caplog, field, label, value
):
    connection = start(as_admin, f.SubsidiaryFactory(code="RF", name="Ridgeline Freight"))
    sessions = SandboxSession.objects.count()

    with caplog.at_level(logging.DEBUG):
        if field == "password":
            page = credentials(as_admin, connection, password=value)
        else:
            page = credentials(as_admin, connection, **{field: value})

    assert page.status_code == 200
    assert refused(label) in page.content.decode()
    connection.refresh_from_db()
    assert (connection.company_id, connection.user_id, connection.password_encrypted) == (
        "",
        "",
        "",
    )
    assert connection.wizard_step < m.Connection.Step.CREDENTIALS
    assert SandboxSession.objects.count() == sessions  # Sage was not asked
    assert SECRET not in caplog.text


def test_a_line_break_in_a_one_line_field_is_refused_and_the_record_kept(as_admin, db):
    customer = f.CustomerFactory(name="Acme")
    url = reverse("admin:accounting_customer_change", args=[customer.pk])

    page = as_admin.post(url, {"name": "Acme\nINFO forged log line", "is_active": "on"})

    assert page.status_code == 200
    assert refused("Name", "U+000A") in page.content.decode()
    customer.refresh_from_db()
    assert customer.name == "Acme"


def test_multi_line_text_keeps_tabs_and_line_breaks_but_not_other_controls():
    assert control_character_problem("two\r\nlines\tand a tab", field="Notes", multiline=True) == ""
    assert control_character_problem("bell\x07", field="Notes", multiline=True) == (
        CONTROL_CHARACTER.format(field="Notes", code="U+0007")
    )
    assert control_character_problem("tab\there", field="Name") == (
        CONTROL_CHARACTER.format(field="Name", code="U+0009")
    )


@pytest.mark.parametrize(
    ("url_name", "field", "label"),
    [
        ("admin:accounting_customer_add", "name", "Name"),
        ("admin:accounting_carrier_add", "name", "Name"),
        ("admin:accounting_subsidiary_add", "name", "Name"),
    ],
)
def test_a_control_character_in_a_tms_name_is_refused_naming_the_field(
    as_admin, db, url_name, field, label
):
    before = {model: model.objects.count() for model in (am.Customer, am.Carrier, am.Subsidiary)}

    page = as_admin.post(
        reverse(url_name), {field: "Apex\x1bCarriers", "code": "AX", "is_active": "on"}
    )

    assert page.status_code == 200
    assert refused(label, "U+001B") in page.content.decode()
    assert {model: model.objects.count() for model in before} == before


def test_a_control_character_in_a_mapping_row_is_refused_naming_the_field(connection, as_admin):
    url = reverse("admin:intacct_wizard_ar", args=[connection.pk])
    data = {
        "export_ar_invoices": "on",
        "account__": "4000",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-category": "accessorials",
        "items-0-item_code": "LUM\x02PER",
        "items-0-gl_account_no": "4020",
    }
    before = m.AccountMapping.objects.count()

    page = as_admin.post(url, data)

    assert page.status_code == 200
    assert refused("Item code", "U+0002") in page.content.decode()
    assert m.AccountMapping.objects.count() == before


def test_a_password_sage_cannot_carry_is_never_quoted_in_the_error():
    with pytest.raises(ValueError, match="control character") as raised:
        wire.element("login", {"userid": "ws", "password": f"{SECRET}\x01"})
    assert SECRET not in str(raised.value)
    with pytest.raises(ValueError, match="Load \\\\x01"):
        wire.element("memo", "Load \x01")  # a TMS text is still named, to find the record
