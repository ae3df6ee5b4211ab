"""The connection wizard driven through the admin pages against the sandbox."""

import logging

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_q.models import Schedule

from accounting import demo_data, roles
from intacct import messages as msg
from intacct import models as m
from intacct.connections.schedules import EXPORT_TASK
from intacct.sandbox.models import SandboxRecord
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
            "company_id": extra.pop("company_id", demo_data.SAGE_COMPANY_ID),
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
        f'<a href="{url("wizard_ap", connection.pk)}">Continue setup (AP Settings)</a>' in listing
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
        url("wizard_destination", connection.pk),
        url("wizard_credentials", connection.pk),
        url("wizard_ap", connection.pk),
        url("wizard_ar", connection.pk),
        url("wizard_advanced", connection.pk),
        url("wizard_finish", connection.pk),
        url("disconnect", connection.pk),
        reverse("admin:intacct_accountmapping_changelist"),
        reverse("admin:intacct_dimensionmapping_changelist"),
        reverse("admin:intacct_dimensionvaluemap_changelist"),
        reverse("admin:intacct_custompaymentterm_changelist"),
        reverse("admin:intacct_accountmapping_import"),
    ]
    statuses = [browser.get(page).status_code for page in pages]
    assert statuses == [200 if allowed else 403] * len(pages)
    for action in ("test", "refresh", "primary_sync"):
        assert browser.post(url(action, connection.pk)).status_code == (302 if allowed else 403)
    before = m.Connection.objects.get(pk=connection.pk).status
    response = browser.post(url("disconnect", connection.pk), {"confirm": "on"})
    connection.refresh_from_db()
    if allowed:
        assert (response.status_code, connection.status) == (302, "disconnected")
    else:
        assert (response.status_code, connection.status) == (403, before)
        assert b"Sage Intacct connections" not in browser.get(reverse("admin:index")).content


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


# --- each Connect failure, explained on the credentials page ----------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"password": "not-it"}, msg.CONNECT_SIGN_IN),
        (
            {"sender": "UnknownApp"},
            msg.CONNECT_SENDER.format(sender="UnknownApp", company=demo_data.SAGE_COMPANY_ID),
        ),
        (
            {"company_id": "NOSUB-DEMO"},
            msg.CONNECT_NOT_SUBSCRIBED.format(company="NOSUB-DEMO"),
        ),
        ({"outage": 503}, "Sage Intacct could not be reached"),
    ],
    ids=["sign-in", "sender", "web-services", "outage"],
)
def test_each_connect_failure_is_explained_and_what_was_entered_is_kept(
    sandbox, freight, admin_client, settings, change, expected
):
    from intacct.sandbox.services import sandbox_faults_set

    connection = start(admin_client, freight)
    if "sender" in change:
        settings.INTACCT_SENDER_ID = change["sender"]
    if "outage" in change:
        settings.INTACCT_MAX_RETRIES = 0
        sandbox_faults_set(fail_next=5, fail_status=change["outage"])
    company_id = change.get("company_id", demo_data.SAGE_COMPANY_ID)
    response = credentials(
        admin_client, connection, password=change.get("password", PASSWORD), company_id=company_id
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(expected) in page
    assert f'value="{company_id}"' in page and f'value="{demo_data.SAGE_USER_ID}"' in page
    assert PASSWORD not in page and "not-it" not in page
    connection.refresh_from_db()
    assert (connection.company_id, connection.password_encrypted) == ("", "")
    assert connection.wizard_step == m.Connection.Step.DESTINATION


# --- each reconciliation failure and its link ---------------------------------------------------


def test_each_reconciliation_problem_links_to_where_it_is_fixed(sandbox, freight, admin_client):
    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    admin_client.post(
        url("wizard_ap", connection.pk),
        {
            **AP_DEFAULTS,
            "account__": "5000",
            **formset(
                "items",
                [{"category": "accessorials", "item_code": "lumper", "gl_account_no": "5020"}],
            ),
        },
    )
    admin_client.post(url("wizard_ar", connection.pk), {**AR_DEFAULTS, "account__": "4000"})
    admin_client.post(
        url("wizard_advanced", connection.pk),
        {
            **ADVANCED,
            **formset(
                "dimensions",
                [
                    {"dimension": "location", "source": "office", "default_value": "location:DAL"},
                    {"dimension": "class", "source": "fleet"},
                ],
            ),
        },
    )
    # Sage changes behind our back: what was valid when mapped is not any more.
    location = connection.dimension_mappings.get(dimension="location")
    m.DimensionValueMap.objects.create(mapping=location, tms_value="Tulsa", sage_value="TUL")
    m.DimensionMapping.objects.filter(pk=connection.dimension_mappings.get(dimension="class").pk)
    m.DimensionMapping.objects.filter(connection=connection, dimension="class").update(
        required=True
    )
    m.AccountMapping.objects.filter(connection=connection, item_code="LUMPER").update(
        gl_account_no="5999"
    )
    m.AccountMapping.objects.filter(connection=connection, side="ar", category="").update(
        gl_account_no="4090"
    )
    m.AdvancedSettings.objects.filter(connection=connection).update(default_payment_term="Net 45")
    m.CustomPaymentTerm.objects.create(
        connection=connection, customer=f.CustomerFactory(name="Acme"), term_name="Net 60"
    )

    page = admin_client.post(url("wizard_finish", connection.pk)).content.decode()

    links = {
        "Mapped GL account 5999 (AP (expense) LUMPER → 5999) does not exist in Sage.": (
            url("wizard_ap", connection.pk) + "#items",
            "AP Settings",
        ),
        "Mapped GL account 4090 (AR (revenue) Master → 4090) is inactive in Sage.": (
            url("wizard_ar", connection.pk),
            "AR Settings",
        ),
        "Class is required: set a Default value so lines without a TMS value still export.": (
            url("wizard_advanced", connection.pk) + "#dimensions",
            "Advanced",
        ),
        "Location value TUL (mapped from Tulsa) does not exist in Sage.": (
            url("wizard_advanced", connection.pk) + "#dimensions",
            "Advanced",
        ),
        "Sage custom field Load Number (LOAD_NUMBER) on ARINVOICE is required but not mapped.": (
            url("wizard_advanced", connection.pk) + "#custom_fields",
            "Advanced",
        ),
        "Default payment term Net 45 does not exist in Sage.": (
            url("wizard_advanced", connection.pk) + "#id_default_payment_term",
            "Advanced",
        ),
        "Payment term Net 60 for Acme does not exist in Sage.": (
            url("wizard_advanced", connection.pk) + "#terms",
            "Advanced",
        ),
    }
    for message, (link, step) in links.items():
        assert f'<li>{escape(message)} <a href="{link}">Fix it in {step}</a></li>' in page
    for anchor in ("items",):
        assert (
            f'id="{anchor}"' in admin_client.get(url("wizard_ap", connection.pk)).content.decode()
        )
    connection.refresh_from_db()
    assert connection.status == "not_set_up"
    assert not Schedule.objects.filter(func=EXPORT_TASK).exists()


# --- the Advanced step's mappings ---------------------------------------------------------------


def _advanced_ready(browser, subsidiary):
    connection = start(browser, subsidiary)
    credentials(browser, connection)
    browser.post(url("wizard_ap", connection.pk), AP_DEFAULTS)
    browser.post(url("wizard_ar", connection.pk), AR_DEFAULTS)
    return connection


def test_the_advanced_step_saves_terms_dimensions_value_maps_and_custom_fields(
    sandbox, freight, admin_client
):
    connection = _advanced_ready(admin_client, freight)
    acme, carrier = f.CustomerFactory(name="Acme"), f.CarrierFactory(name="Swift Lane")
    response = admin_client.post(
        url("wizard_advanced", connection.pk),
        {
            **ADVANCED,
            "cross_subsidiary_billing": "on",
            **formset(
                "terms",
                [
                    {"party": f"customer:{acme.pk}", "term_name": "Net 15"},
                    {"party": f"carrier:{carrier.pk}", "term_name": "Net 30"},
                ],
            ),
            **formset(
                "dimensions",
                [
                    {
                        "dimension": "location",
                        "source": "office",
                        "default_value": "location:DAL",
                        "required": "on",
                    }
                ],
            ),
            **REQUIRED_CUSTOM_FIELDS,
        },
    )
    assert response.status_code == 302
    terms = {(t.party.name, t.term_name) for t in connection.custom_terms.all()}
    assert terms == {("Acme", "Net 15"), ("Swift Lane", "Net 30")}
    location = connection.dimension_mappings.get()
    assert (location.dimension, location.source, location.default_value, location.required) == (
        "location",
        "office",
        "DAL",
        True,
    )
    fields = {
        (c.target, c.sage_field_id, c.source, c.required, c.max_length)
        for c in connection.custom_field_mappings.all()
    }
    assert fields == {
        ("ar_invoice", "LOAD_NUMBER", "load_number", True, 20),
        ("ap_bill", "TRIP_NUMBER", "trip_number", True, 20),
    }
    assert m.AdvancedSettings.objects.get(connection=connection).cross_subsidiary_billing

    # Value maps are added to the mapped dimension; rows can be changed and deleted later.
    admin_client.post(
        url("wizard_advanced", connection.pk),
        {
            **ADVANCED,
            **formset(
                "values",
                [
                    {"sage_value": "location:DAL", "tms_value": "Dallas Office"},
                    {"sage_value": "location:CHI", "tms_value": "Chicago Office"},
                ],
            ),
        },
    )
    assert {(v.tms_value, v.sage_value) for v in location.value_maps.all()} == {
        ("Dallas Office", "DAL"),
        ("Chicago Office", "CHI"),
    }
    page = admin_client.get(url("wizard_advanced", connection.pk)).content.decode()
    assert 'value="Dallas Office"' in page and 'value="Chicago Office"' in page
    term = connection.custom_terms.get(customer=acme)
    other = connection.custom_terms.get(carrier=carrier)
    admin_client.post(
        url("wizard_advanced", connection.pk),
        {
            **ADVANCED,
            **formset(
                "terms",
                [
                    {"id": term.pk, "party": f"customer:{acme.pk}", "term_name": "Net 30"},
                    {
                        "id": other.pk,
                        "party": f"carrier:{carrier.pk}",
                        "term_name": "Net 30",
                        "DELETE": "on",
                    },
                ],
                initial=2,
            ),
        },
    )
    assert [(t.party.name, t.term_name) for t in connection.custom_terms.all()] == [
        ("Acme", "Net 30")
    ]


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        (
            formset(
                "dimensions",
                [{"dimension": "class", "source": "fleet", "default_value": "location:DAL"}],
            ),
            "Default value: DAL is a Location value: choose a Class value as the default.",
        ),
        (
            formset("dimensions", [{"dimension": "class", "source": "fleet", "required": "on"}]),
            "Default value: A required dimension needs a Default value",
        ),
        (
            formset(
                "dimensions",
                [
                    {"dimension": "class", "source": "fleet"},
                    {"dimension": "class", "source": "truck"},
                ],
            ),
            "Class is mapped twice: keep one row per dimension.",
        ),
        (
            formset("values", [{"sage_value": "location:DAL", "tms_value": "Dallas"}]),
            "Sage value: Location is not mapped: add a dimension mapping for it",
        ),
        (
            formset(
                "custom_fields", [{"sage_field": "ap_bill_line:MILES", "source": "load_number"}]
            ),
            "TMS field: Sage field Miles holds a number, but the TMS field Load number is a text.",
        ),
        (
            formset("terms", [{"party": "customer:999999", "term_name": "Net 45"}]),
            "Payment term: Select a valid choice. Net 45 is not one of the available choices.",
        ),
    ],
    ids=["wrong-dimension", "required-default", "twice", "unmapped", "type", "term"],
)
def test_bad_mapping_rows_name_the_field_and_nothing_half_saves(
    sandbox, freight, admin_client, rows, error
):
    connection = _advanced_ready(admin_client, freight)
    response = admin_client.post(
        url("wizard_advanced", connection.pk),
        {**ADVANCED, "cross_subsidiary_billing": "on", **REQUIRED_CUSTOM_FIELDS, **rows},
    )
    assert response.status_code == 200
    assert escape(error) in response.content.decode()
    # the settings and the other, valid rows of the same page were not saved either
    assert not m.AdvancedSettings.objects.get(connection=connection).cross_subsidiary_billing
    assert not connection.custom_field_mappings.exists()
    assert not connection.dimension_mappings.exists()
    connection.refresh_from_db()
    assert connection.wizard_step == m.Connection.Step.AR


def test_specific_item_accounts_are_edited_on_the_ar_and_ap_steps(sandbox, freight, admin_client):
    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    page = admin_client.get(url("wizard_ar", connection.pk)).content.decode()
    assert 'id="items"' in page and '<option value="fuel">' not in page  # AR categories only
    response = admin_client.post(
        url("wizard_ar", connection.pk),
        {
            **AR_DEFAULTS,
            **formset(
                "items",
                [{"category": "accessorials", "item_code": "detention", "gl_account_no": "4025"}],
            ),
        },
    )
    assert response.status_code == 302
    item = connection.account_mappings.get(item_code="DETENTION")
    assert (item.side, item.category, item.gl_account_no) == ("ar", "accessorials", "4025")
    response = admin_client.post(
        url("wizard_ap", connection.pk),
        {**AP_DEFAULTS, **formset("items", [{"category": "fuel", "gl_account_no": "5200"}])},
    )
    assert "Item code: Enter the item code" in response.content.decode()


# --- resume, template, schedules, disconnect and reconnect -------------------------------------


def test_resuming_shows_what_was_saved_and_continues_at_the_next_step(
    sandbox, freight, admin_client
):
    connection = start(admin_client, freight)
    credentials(admin_client, connection)
    admin_client.post(url("wizard_ap", connection.pk), {**AP_DEFAULTS, "include_fuel": "on"})

    browser = Client()  # the admin comes back later, in another session
    browser.force_login(django_user_model_of(admin_client))
    listing = browser.get(reverse("admin:intacct_connection_changelist")).content.decode()
    assert (
        f'<a href="{url("wizard_ar", connection.pk)}">Continue setup (AR Settings)</a>' in listing
    )
    ap_page = browser.get(url("wizard_ap", connection.pk)).content.decode()
    assert 'name="include_fuel" id="id_include_fuel" checked' in ap_page
    assert '<option value="5200" selected>' in ap_page
    assert (
        'value="RIDGELINE-DEMO"'
        in browser.get(url("wizard_credentials", connection.pk)).content.decode()
    )
    assert browser.get(url("wizard_start")).content.decode().count("Ridgeline Freight") >= 1


def django_user_model_of(client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def test_activation_creates_the_schedule_and_disconnect_removes_it(sandbox, freight, admin_client):
    connection = _active(admin_client, freight)
    schedule = Schedule.objects.get(func=EXPORT_TASK)
    assert schedule.args == str(connection.pk)
    admin_client.post(url("disconnect", connection.pk), {"confirm": "on"})
    assert not Schedule.objects.filter(func=EXPORT_TASK).exists()


def test_reconnecting_after_a_disconnect_starts_a_new_connection_date(
    sandbox, freight, admin_client
):
    connection = _active(admin_client, freight)
    first = connection.activated_at
    admin_client.post(url("disconnect", connection.pk), {"confirm": "on"})
    again = _active(admin_client, freight)
    assert again.pk == connection.pk and again.activated_at > first
    assert again.get_password() == PASSWORD


def test_a_template_copies_settings_and_mappings_then_both_evolve_alone(
    sandbox, freight, admin_client
):
    source = _active(admin_client, freight)
    yard = f.SubsidiaryFactory(code="WY", name="West Yard")  # no Sage entity of that name
    target = start(admin_client, yard)
    page = credentials(admin_client, target).content.decode()
    assert "has no entity named &quot;West Yard&quot;" in page
    page = admin_client.get(url("wizard_credentials", target.pk)).content.decode()
    assert '<option value="E900">Ridgeline Holdings (E900)</option>' in page

    response = credentials(
        admin_client, target, setup="template", template=source.pk, entity="E900"
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.entity_id, target.entity_name) == ("E900", "Ridgeline Holdings")
    assert target.custom_field_mappings.count() == 2

    # Changing the copy leaves the template alone, and the other way round.
    admin_client.post(url("wizard_ap", target.pk), {**AP_DEFAULTS, "include_fuel": "on"})
    m.AccountMapping.objects.filter(connection=source, side="ap", category="").update(
        gl_account_no="5010"
    )
    source.ap_settings.refresh_from_db()
    assert not source.ap_settings.include_fuel
    assert m.APSettings.objects.get(connection=target).include_fuel
    assert target.account_mappings.get(side="ap", category="").gl_account_no == "5000"


def test_a_template_entity_sage_does_not_have_is_refused(sandbox, freight):
    from intacct.connections import services

    connection = services.connection_start(subsidiary=f.SubsidiaryFactory(name="West Yard"))
    services.connection_set_destination(connection=connection, destination="matching_entity")
    with pytest.raises(services.ConnectError, match="has no active entity E999"):
        services.connection_connect(
            connection=connection,
            company_id=demo_data.SAGE_COMPANY_ID,
            user_id=demo_data.SAGE_USER_ID,
            password=PASSWORD,
            entity_id="E999",
        )


# --- the connection page after setup --------------------------------------------------------------


def test_the_connection_page_has_tabs_and_edits_run_the_reconciliation_check(
    sandbox, freight, admin_client
):
    connection = _active(admin_client, freight)
    change = reverse("admin:intacct_connection_change", args=[connection.pk])
    page = admin_client.get(change).content.decode()
    for label in (
        "Settings",
        "AR Settings",
        "AP Settings",
        "Advanced",
        "Account Mappings",
        "Dimensions &amp; Custom Fields",
    ):
        assert f">{label}</" in page
    assert "status-active" in page
    ar_page = admin_client.get(url("wizard_ar", connection.pk)).content.decode()
    assert (
        '<li class="current" aria-current="page"><span>AR Settings</span>' in ar_page
        and "Continue" not in ar_page
    )

    # An accountant makes an AR account inactive in Sage; the next edit, on any tab, saves and
    # lists the problem with a link to its fix.
    account = SandboxRecord.objects.get(object="GLACCOUNT", key="4020")
    account.data["STATUS"] = "inactive"
    account.save()
    response = admin_client.post(
        url("wizard_ap", connection.pk), {**AP_DEFAULTS, "include_fuel": "on"}
    )
    assert response.url == change
    assert m.APSettings.objects.get(connection=connection).include_fuel
    shown = admin_client.get(change).content.decode()
    assert (
        "Mapped GL account 4020 (AR (revenue) Accessorials → 4020) is inactive in Sage. "
        f'<a href="{url("wizard_ar", connection.pk)}">Fix it in AR Settings</a>'
    ) in shown
    # The AR tab no longer offers the inactive account, so the fix picks another one.
    ar_page = admin_client.get(url("wizard_ar", connection.pk)).content.decode()
    assert '<option value="4020"' not in ar_page


def _change_form_data(response):
    """The connection page's POST data as the browser would send it unchanged."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for form in formset.forms:
            for field in form:
                value = field.value()
                if value not in (None, False):
                    data[field.html_name] = "on" if value is True else value
    return data


def test_mapping_edits_on_the_connection_page_run_the_reconciliation_check(
    sandbox, freight, admin_client
):
    connection = _active(admin_client, freight)
    change = reverse("admin:intacct_connection_change", args=[connection.pk])
    data = _change_form_data(admin_client.get(change))
    data.update(
        {
            "account_mappings-TOTAL_FORMS": str(int(data["account_mappings-TOTAL_FORMS"]) + 1),
            f"account_mappings-{data['account_mappings-TOTAL_FORMS']}-side": "ap",
            f"account_mappings-{data['account_mappings-TOTAL_FORMS']}-category": "fuel",
            f"account_mappings-{data['account_mappings-TOTAL_FORMS']}-item_code": "DIESEL",
            f"account_mappings-{data['account_mappings-TOTAL_FORMS']}-gl_account_no": "5999",
        }
    )
    response = admin_client.post(change, data, follow=True)
    page = response.content.decode()
    assert connection.account_mappings.filter(item_code="DIESEL", gl_account_no="5999").exists()
    assert "Mapped GL account 5999 (AP (expense) DIESEL → 5999) does not exist in Sage." in page
    assert f'<a href="{url("wizard_ap", connection.pk)}#items">Fix it in AP Settings</a>' in page
