"""The connection wizard driven through the admin pages against the sandbox."""

import logging

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounting import demo_data, roles
from intacct import messages as msg
from intacct import models as m
from tests import factories as f

PASSWORD = demo_data.SAGE_USER_PASSWORD
AP_DEFAULTS = {
    "export_ap_bills": "on",
    "include_accessorials": "on",
    "name_matching_fallback": "on",
    "account__": "5000",
    "account__fuel": "5200",
}
AR_DEFAULTS = {
    "export_ar_invoices": "on",
    "name_matching_fallback": "on",
    "account__": "4000",
    "account__accessorials": "4020",
}
ADVANCED = {"default_payment_term": "Net 30", "payment_lookback_days": "8"}


def formset(prefix, rows, initial=0):
    """POST data of an admin formset: its management form and one dict per row."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        data.update({f"{prefix}-{number}-{key}": value for key, value in row.items()})
    return data


REQUIRED_CUSTOM_FIELDS = formset(
    "custom_fields",
    [
        {"sage_field": "ar_invoice:LOAD_NUMBER", "source": "load_number"},
        {"sage_field": "ap_bill:TRIP_NUMBER", "source": "trip_number"},
    ],
)


@pytest.fixture
def freight(db):
    return f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")


def url(name, *args):
    return reverse(f"admin:intacct_{name}", args=args)


def start(browser, subsidiary, destination="matching_entity"):
    response = browser.post(url("wizard_start"), {"subsidiary": subsidiary.pk})
    connection = m.Connection.objects.get(subsidiary=subsidiary)
    assert response.url == url("wizard_destination", connection.pk)
    response = browser.post(
        url("wizard_destination", connection.pk), {"posting_destination": destination}
    )
    assert response.url == url("wizard_credentials", connection.pk)
    return connection


def credentials(browser, connection, password=PASSWORD, **extra):
    return browser.post(
        url("wizard_credentials", connection.pk),
        {
            "company_id": demo_data.SAGE_COMPANY_ID,
            "user_id": demo_data.SAGE_USER_ID,
            "password": password,
            "setup": "new",
            **extra,
        },
    )


def test_the_happy_path_reaches_active_with_a_reconciliation_fix_on_the_way(
    sandbox, freight, admin_client, caplog
):
    pages = []
    with caplog.at_level(logging.DEBUG):
        pages.append(admin_client.get(url("wizard_start")))
        connection = start(admin_client, freight)
        response = credentials(admin_client, connection)
        assert response.url == url("wizard_ap", connection.pk)
        pages.append(admin_client.get(url("wizard_ap", connection.pk)))
        assert admin_client.post(url("wizard_ap", connection.pk), AP_DEFAULTS).url == url(
            "wizard_ar", connection.pk
        )
        assert admin_client.post(url("wizard_ar", connection.pk), AR_DEFAULTS).url == url(
            "wizard_advanced", connection.pk
        )
        assert admin_client.post(url("wizard_advanced", connection.pk), ADVANCED).url == url(
            "wizard_finish", connection.pk
        )

        finish = admin_client.post(url("wizard_finish", connection.pk))
        pages.append(finish)
        page = finish.content.decode()
        assert "2 problems to fix" in page
        assert (
            "Sage custom field Load Number (LOAD_NUMBER) on ARINVOICE is required but not mapped."
        ) in page
        fix = url("wizard_advanced", connection.pk) + "#custom_fields"
        assert f'<a href="{fix}">Fix it in Advanced</a>' in page

        # The link leads to the Advanced step, where Sage's custom fields are offered with
        # their required flags and lengths, and mapped there.
        advanced = admin_client.get(url("wizard_advanced", connection.pk))
        pages.append(advanced)
        assert 'id="custom_fields"' in advanced.content.decode()
        assert "Load Number (LOAD_NUMBER, required, text, max 20)" in advanced.content.decode()
        response = admin_client.post(
            url("wizard_advanced", connection.pk), {**ADVANCED, **REQUIRED_CUSTOM_FIELDS}
        )
        assert response.url == url("wizard_finish", connection.pk)
        done = admin_client.post(url("wizard_finish", connection.pk))
        assert done.url == reverse("admin:intacct_connection_changelist")
        pages.append(admin_client.get(done.url))
        pages.append(
            admin_client.get(reverse("admin:intacct_connection_change", args=[connection.pk]))
        )

    connection.refresh_from_db()
    assert (connection.status, connection.primary_sync, connection.entity_id) == (
        "active",
        True,
        "E100",
    )
    assert connection.ap_settings.include_accessorials and not connection.ap_settings.include_fuel
    accounts = {(a.side, a.category): a.gl_account_no for a in connection.account_mappings.all()}
    assert accounts == {
        ("ap", ""): "5000",
        ("ap", "fuel"): "5200",
        ("ar", ""): "4000",
        ("ar", "accessorials"): "4020",
    }
    assert "Active" in pages[-2].content.decode()
    for page in pages:
        assert PASSWORD not in page.content.decode()
    assert PASSWORD not in caplog.text


def test_a_wrong_password_is_explained_and_nothing_else_is_lost(sandbox, freight, admin_client):
    connection = start(admin_client, freight)
    response = credentials(admin_client, connection, password="not-it")
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(msg.CONNECT_SIGN_IN) in page
    assert f'value="{demo_data.SAGE_COMPANY_ID}"' in page and "not-it" not in page
    connection.refresh_from_db()
    assert connection.posting_destination == "matching_entity" and not connection.company_id


def test_no_entity_named_like_the_subsidiary_is_explained(sandbox, admin_client):
    connection = start(admin_client, f.SubsidiaryFactory(name="Elsewhere Trucking"))
    page = credentials(admin_client, connection).content.decode()
    assert "has no entity named &quot;Elsewhere Trucking&quot;" in page


def test_an_admin_can_leave_and_resume_where_they_stopped(sandbox, freight, admin_client):
    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    listing = admin_client.get(reverse("admin:intacct_connection_changelist")).content.decode()
    assert (
        f'<a href="{url("wizard_ap", connection.pk)}">Continue setup (AP settings)</a>' in listing
    )


def test_the_destination_cannot_change_after_connecting(sandbox, freight, admin_client):
    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    page = admin_client.get(url("wizard_destination", connection.pk)).content.decode()
    assert escape(msg.DESTINATION_IMMUTABLE) in page and "disabled" in page
    admin_client.post(
        url("wizard_destination", connection.pk), {"posting_destination": "top_level"}
    )
    connection.refresh_from_db()
    assert connection.posting_destination == "matching_entity"


def test_the_last_active_toggle_cannot_be_turned_off(sandbox, freight, admin_client):
    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    admin_client.post(url("wizard_ap", connection.pk), {"account__": "5000"})  # all AP off
    response = admin_client.post(url("wizard_ar", connection.pk), {"account__": "4000"})
    assert response.status_code == 200
    assert escape(msg.LAST_TOGGLE) in response.content.decode()
    connection.ar_settings.refresh_from_db()
    assert connection.ar_settings.export_ar_invoices


def test_no_subsidiary_left_to_connect_says_to_create_one(sandbox, admin_client):
    page = admin_client.get(url("wizard_start"), follow=True).content.decode()
    assert escape(msg.NO_SUBSIDIARY_TO_CONNECT) in page


def _active(browser, subsidiary):
    connection = start(browser, subsidiary)
    credentials(browser, connection)
    browser.post(url("wizard_ap", connection.pk), AP_DEFAULTS)
    browser.post(url("wizard_ar", connection.pk), AR_DEFAULTS)
    browser.post(url("wizard_advanced", connection.pk), {**ADVANCED, **REQUIRED_CUSTOM_FIELDS})
    browser.post(url("wizard_finish", connection.pk))
    connection.refresh_from_db()
    assert connection.status == "active"
    return connection


def test_disconnect_confirms_then_removes_settings_and_mappings(sandbox, freight, admin_client):
    connection = _active(admin_client, freight)
    page = admin_client.get(url("disconnect", connection.pk)).content.decode()
    assert "Transactions already exported stay in Sage Intacct" in page
    assert admin_client.post(url("disconnect", connection.pk), {}).status_code == 200
    assert admin_client.post(url("disconnect", connection.pk), {"confirm": "on"}).status_code == 302
    connection.refresh_from_db()
    assert connection.status == "disconnected"
    assert not connection.account_mappings.exists()
    assert not m.APSettings.objects.filter(connection=connection).exists()
    # and it can be connected again
    assert b"Ridgeline Freight" in admin_client.get(url("wizard_start")).content


def test_a_template_copies_an_existing_integration(sandbox, freight, admin_client):
    source = _active(admin_client, freight)
    logistics = f.SubsidiaryFactory(code="RL", name="Ridgeline Logistics")
    target = start(admin_client, logistics)
    response = credentials(admin_client, target, setup="template", template=source.pk)
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.entity_id == "E200"
    assert target.account_mappings.count() == source.account_mappings.count() == 4
    assert target.custom_field_mappings.count() == 2
    assert target.ap_settings.include_accessorials


def test_primary_sync_and_test_connection_buttons(sandbox, freight, admin_client):
    connection = _active(admin_client, freight)
    admin_client.post(url("primary_sync", connection.pk), {"on": "0"})
    connection.refresh_from_db()
    assert connection.status == "paused"
    response = admin_client.post(url("test", connection.pk), follow=True)
    assert "Connected." in response.content.decode()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(roles.ADMIN, True), (roles.PARTNER_ADMIN, True), (roles.SUPPORT, True), (None, False)],
)
def test_only_company_profile_managers_reach_any_of_it(
    sandbox, freight, admin_client, django_user_model, role, allowed
):
    connection = _active(admin_client, freight)
    user = django_user_model.objects.create_user("u", password="pw-123456", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    browser = Client()
    browser.force_login(user)
    pages = [
        reverse("admin:intacct_connection_changelist"),
        reverse("admin:intacct_connection_change", args=[connection.pk]),
        url("wizard_start"),
        url("wizard_ap", connection.pk),
        url("wizard_finish", connection.pk),
        url("disconnect", connection.pk),
    ]
    statuses = [browser.get(page).status_code for page in pages]
    assert statuses == [200 if allowed else 403] * len(pages)
    assert browser.post(url("test", connection.pk)).status_code == (302 if allowed else 403)


def test_a_sage_outage_at_save_says_so_and_keeps_the_configuration(
    sandbox, freight, admin_client, settings
):
    from intacct.sandbox.services import sandbox_faults_set

    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    settings.INTACCT_MAX_RETRIES = 0  # no real backoff sleeps in the test
    sandbox_faults_set(fail_next=50, fail_status=503)
    response = admin_client.post(url("wizard_finish", connection.pk), follow=True)
    assert "could not be reached" in response.content.decode()
    connection.refresh_from_db()
    assert connection.status == "not_set_up" and connection.company_id


def test_the_advanced_step_offers_sage_terms_and_links_to_the_mappings(
    sandbox, freight, admin_client
):
    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    page = admin_client.get(url("wizard_advanced", connection.pk)).content.decode()
    assert '<option value="Net 15">' in page and '<option value="Net 30"' in page
    assert "Net 45" not in page
    for anchor in ("terms", "dimensions", "values", "custom_fields"):
        assert f'id="{anchor}"' in page
    assert '<option value="location:DAL">' in page  # dimension values read from Sage
