"""Connection services against the sandbox: connect, choices, reconcile, activate, settings,
templates, disconnect, and the resolution rules."""

import logging

import pytest
import requests
import responses
from django.core.exceptions import ValidationError

from accounting import demo_data
from intacct import messages as msg
from intacct import models as m
from intacct.connections import services
from intacct.connections.sage import client_for
from intacct.export import resolution
from intacct.sandbox.services import sandbox_user_set_active
from tests import factories as f

from .sandbox_routing import SANDBOX_URL

PASSWORD = demo_data.SAGE_USER_PASSWORD


@pytest.fixture
def freight(db):
    return f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")


def connect(
    subsidiary,
    *,
    destination=m.Connection.Destination.MATCHING_ENTITY,
    company_id=demo_data.SAGE_COMPANY_ID,
    user_id=demo_data.SAGE_USER_ID,
    password=PASSWORD,
):
    connection = services.connection_start(subsidiary=subsidiary)
    services.connection_set_destination(connection=connection, destination=destination)
    return services.connection_connect(
        connection=connection, company_id=company_id, user_id=user_id, password=password
    )


def test_connect_resolves_the_entity_named_like_the_subsidiary(sandbox, freight):
    connection = connect(freight)
    assert (connection.entity_id, connection.entity_name) == ("E100", "Ridgeline Freight")
    assert connection.location_id == "E100"
    assert connection.get_password() == PASSWORD
    assert PASSWORD not in connection.password_encrypted
    assert connection.wizard_step == m.Connection.Step.CREDENTIALS
    assert m.ARSettings.objects.filter(connection=connection).exists()


def test_top_level_needs_no_matching_entity(sandbox):
    connection = connect(
        f.SubsidiaryFactory(name="No Such Entity"), destination=m.Connection.Destination.TOP_LEVEL
    )
    assert (connection.entity_id, connection.location_id) == ("", "")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"password": "wrong"}, msg.CONNECT_SIGN_IN),
        ({"company_id": "NOSUB-DEMO"}, msg.CONNECT_NOT_SUBSCRIBED.format(company="NOSUB-DEMO")),
    ],
)
def test_connect_failures_explain_the_fix_and_save_nothing(sandbox, freight, kwargs, expected):
    with pytest.raises(services.ConnectError) as error:
        connect(freight, **kwargs)
    assert str(error.value) == expected
    connection = m.Connection.objects.get(subsidiary=freight)
    assert (connection.company_id, connection.password_encrypted) == ("", "")


def test_an_unauthorized_sender_is_told_where_to_authorize_it(sandbox, freight, settings):
    settings.INTACCT_SENDER_ID = "UnknownApp"
    with pytest.raises(services.ConnectError) as error:
        connect(freight)
    assert str(error.value) == msg.CONNECT_SENDER.format(
        sender="UnknownApp", company="RIDGELINE-DEMO"
    )
    assert "Company > Web Services Authorizations" in str(error.value)


def test_no_entity_named_like_the_subsidiary(sandbox):
    with pytest.raises(services.ConnectError, match='no entity named "Gulf Coast Hauling"'):
        connect(f.SubsidiaryFactory(name="Gulf Coast Hauling"))


def test_sage_unreachable_keeps_what_was_entered(db, freight, settings):
    settings.INTACCT_ENDPOINT_URL = SANDBOX_URL
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, SANDBOX_URL, body=requests.ConnectionError("refused"))
        connection = services.connection_start(subsidiary=freight)
        services.connection_set_destination(
            connection=connection, destination=m.Connection.Destination.TOP_LEVEL
        )
        with pytest.raises(services.ConnectError) as refused:
            services.connection_connect(
                connection=connection, company_id="X", user_id="u", password="p"
            )
    # Said once, with the cause: not "could not be reached (... could not be reached ...)".
    assert str(refused.value) == msg.CONNECT_UNREACHABLE.format(detail="ConnectionError")
    assert str(refused.value).count("could not be reached") == 1
    connection.refresh_from_db()
    assert connection.posting_destination == m.Connection.Destination.TOP_LEVEL


def test_the_posting_destination_is_permanent_after_connecting(sandbox, freight):
    connection = connect(freight)
    connection.posting_destination = m.Connection.Destination.TOP_LEVEL
    with pytest.raises(ValidationError) as error:
        connection.save()
    assert error.value.message_dict["posting_destination"] == [msg.DESTINATION_IMMUTABLE]


def test_choices_are_read_from_sage_in_few_requests(sandbox, freight):
    connection = connect(freight)
    client = client_for(connection)
    choices = services.connection_refresh_choices(connection=connection, client=client)
    # a session (the connection has none yet), one request for the first page of all 15
    # lists, one for the lookup and inspect of the four document objects
    assert client.requests_sent == 1 + 1 + 1
    assert {"id": "4090", "name": "Other Revenue (retired)", "active": False} in choices[
        "gl_accounts"
    ]
    assert [t["id"] for t in choices["ar_terms"]] == ["Net 15", "Net 30"]
    assert {v["id"] for v in choices["class"]} == {"DRYVAN", "REEFER", "FLATBED", "BROKER"}
    load_number = next(c for c in choices["custom_fields"]["ARINVOICE"] if c["id"] == "LOAD_NUMBER")
    assert load_number == {
        "id": "LOAD_NUMBER",
        "label": "Load Number",
        "required": True,
        "max_length": 20,
        "type": "text",
    }
    connection.refresh_from_db()
    assert connection.sage_choices_refreshed_at is not None


def _configure(connection):
    m.AccountMapping.objects.create(connection=connection, side="ar", gl_account_no="4000")
    m.AccountMapping.objects.create(connection=connection, side="ap", gl_account_no="5000")
    for target, field in (("ar_invoice", "LOAD_NUMBER"), ("ap_bill", "TRIP_NUMBER")):
        m.CustomFieldMapping.objects.create(
            connection=connection, target=target, sage_field_id=field, source="load_number"
        )


def test_a_clean_configuration_activates(sandbox, freight):
    connection = connect(freight)
    _configure(connection)
    assert services.connection_activate(connection=connection) == []
    connection.refresh_from_db()
    assert (connection.status, connection.primary_sync) == (m.Connection.Status.ACTIVE, True)
    assert connection.activated_at is not None and connection.is_syncing


def test_every_reconciliation_problem_names_its_step(sandbox, freight):
    connection = connect(freight)
    step = m.Connection.Step
    m.AccountMapping.objects.create(
        connection=connection, side="ar", category="accessorials", gl_account_no="4090"
    )
    m.AccountMapping.objects.create(connection=connection, side="ap", gl_account_no="5999")
    location = m.DimensionMapping.objects.create(
        connection=connection, dimension="location", source="office", default_value="NOWHERE"
    )
    m.DimensionValueMap.objects.create(mapping=location, tms_value="Dallas", sage_value="DAL")
    m.DimensionValueMap.objects.create(mapping=location, tms_value="Tulsa", sage_value="TUL")
    m.DimensionMapping.objects.create(
        connection=connection, dimension="class", source="fleet", required=True
    )
    connection.advanced_settings.default_payment_term = "Net 45"
    connection.advanced_settings.save()
    m.CustomPaymentTerm.objects.create(
        connection=connection, customer=f.CustomerFactory(name="Acme"), term_name="Net 60"
    )

    problems = services.connection_activate(connection=connection)

    assert [(p.step, p.message) for p in problems] == [
        (step.AP, "Mapped GL account 5999 (AP (expense) Master → 5999) does not exist in Sage."),
        (step.AR, "Mapped GL account 4090 (AR (revenue) Accessorials → 4090) is inactive in Sage."),
        (
            step.ADVANCED,
            "Class is required: set a Default value so lines without a TMS value still export.",
        ),
        (step.ADVANCED, "Location value TUL (mapped from Tulsa) does not exist in Sage."),
        (step.ADVANCED, "Location default NOWHERE does not exist in Sage."),
        (
            step.ADVANCED,
            "Sage custom field Load Number (LOAD_NUMBER) on ARINVOICE is required but not mapped.",
        ),
        (
            step.ADVANCED,
            "Sage custom field Trip Number (TRIP_NUMBER) on APBILL is required but not mapped.",
        ),
        (step.ADVANCED, "Default payment term Net 45 does not exist in Sage."),
        (step.ADVANCED, "Payment term Net 60 for Acme does not exist in Sage."),
    ]
    connection.refresh_from_db()
    assert connection.status == m.Connection.Status.NOT_SET_UP


def test_the_last_active_sync_toggle_cannot_be_turned_off(sandbox, freight):
    connection = connect(freight)
    ar_off = {name: False for name in (m.ARSettings.MASTER, *m.ARSettings.INDIVIDUAL)}
    ap_off = {name: False for name in (m.APSettings.MASTER, *m.APSettings.INDIVIDUAL)}
    ap_last = {**ap_off, "include_accessorials": True}
    services.connection_update_settings(connection=connection, ar=ar_off, ap=ap_last)
    with pytest.raises(services.SettingsError) as error:
        services.connection_update_settings(
            connection=connection, ap={"include_accessorials": False}
        )
    assert str(error.value) == msg.LAST_TOGGLE
    connection.ap_settings.refresh_from_db()
    assert connection.ap_settings.include_accessorials is True


def test_primary_sync_pauses_and_resumes(sandbox, freight):
    connection = connect(freight)
    _configure(connection)
    services.connection_activate(connection=connection)
    services.connection_set_primary_sync(connection=connection, on=False)
    assert connection.status == m.Connection.Status.PAUSED and not connection.is_syncing
    services.connection_set_primary_sync(connection=connection, on=True)
    assert connection.is_syncing


def test_a_template_copies_everything_and_then_both_are_independent(sandbox, freight):
    source = connect(freight)
    _configure(source)
    dimension = m.DimensionMapping.objects.create(
        connection=source, dimension="location", source="office"
    )
    m.DimensionValueMap.objects.create(mapping=dimension, tms_value="Dallas", sage_value="DAL")
    services.connection_update_settings(connection=source, ar={"auto_create_customer": True})
    target = connect(f.SubsidiaryFactory(code="RL", name="Ridgeline Logistics"))

    services.connection_copy_from_template(source=source, target=target)

    target.refresh_from_db()
    assert target.ar_settings.auto_create_customer is True
    assert target.account_mappings.count() == 2
    copied = target.dimension_mappings.get()
    assert [v.sage_value for v in copied.value_maps.all()] == ["DAL"]
    m.DimensionValueMap.objects.filter(mapping=dimension).update(sage_value="HOU")
    services.connection_update_settings(connection=source, ar={"auto_create_customer": False})
    target.ar_settings.refresh_from_db()
    assert target.ar_settings.auto_create_customer is True
    assert [v.sage_value for v in copied.value_maps.all()] == ["DAL"]


def test_disconnect_removes_settings_and_mappings_and_allows_reconnecting(sandbox, freight):
    connection = connect(freight)
    _configure(connection)
    services.connection_disconnect(connection=connection)
    connection.refresh_from_db()
    assert connection.status == m.Connection.Status.DISCONNECTED
    assert not m.ARSettings.objects.filter(connection=connection).exists()
    assert not connection.account_mappings.exists() and not connection.password_encrypted
    again = connect(freight, destination=m.Connection.Destination.TOP_LEVEL)
    assert again.pk == connection.pk and again.location_id == ""


def test_connection_test_reports_a_revoked_user(sandbox, freight):
    connection = connect(freight)
    assert services.connection_test(connection=connection) == (True, "Connected.")
    sandbox_user_set_active(active=False)
    ok, message = services.connection_test(connection=connection)
    connection.refresh_from_db()
    assert (ok, message, connection.last_test_ok) == (False, msg.CONNECT_SIGN_IN, False)


def test_the_password_never_reaches_logs_or_reprs(sandbox, freight, caplog):
    with caplog.at_level(logging.DEBUG):
        connection = connect(freight)
        services.connection_refresh_choices(connection=connection)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in repr(connection) + str(connection)


# --- resolution -----------------------------------------------------------------------------


def test_accounts_resolve_specific_then_category_then_master(sandbox, freight):
    connection = connect(freight)
    rows = [
        m.AccountMapping(connection=connection, side="ar", gl_account_no="4000"),
        m.AccountMapping(
            connection=connection, side="ar", category="accessorials", gl_account_no="4020"
        ),
        m.AccountMapping(
            connection=connection,
            side="ar",
            category="accessorials",
            item_code="DETENTION",
            gl_account_no="4025",
        ),
    ]
    resolve = resolution.account_resolve
    assert resolve(
        mappings=rows, side="ar", category="accessorials", item_code="DETENTION"
    ) == resolution.AccountResolution("4025", "specific")
    assert resolve(
        mappings=rows, side="ar", category="accessorials", item_code="LUMPER"
    ) == resolution.AccountResolution("4020", "category")
    assert resolve(mappings=rows, side="ar", category="linehaul") == resolution.AccountResolution(
        "4000", "master"
    )
    assert resolve(mappings=rows, side="ap", category="fuel") is None


def test_dimensions_resolve_value_map_then_pass_through_then_default(sandbox, freight):
    connection = connect(freight)
    mapping = m.DimensionMapping.objects.create(
        connection=connection, dimension="location", source="office", default_value="DAL"
    )
    m.DimensionValueMap.objects.create(mapping=mapping, tms_value="Houston", sage_value="HOU")
    assert resolution.dimension_resolve(mapping=mapping, tms_value="houston") == "HOU"
    assert resolution.dimension_resolve(mapping=mapping, tms_value="CHI") == "CHI"
    assert resolution.dimension_resolve(mapping=mapping, tms_value="") == "DAL"


def test_custom_field_mappings_refuse_incompatible_types(db, freight):
    connection = m.Connection.objects.create(subsidiary=freight)
    mapping = m.CustomFieldMapping(
        connection=connection,
        target="ap_bill_line",
        sage_field_id="MILES",
        sage_label="Miles",
        sage_type="number",
        source="driver_name",
    )
    with pytest.raises(ValidationError) as error:
        mapping.full_clean()
    assert error.value.message_dict["source"] == [
        msg.CUSTOM_FIELD_TYPES_INCOMPATIBLE.format(
            field="Miles", sage_type="number", tms_field="Driver name", tms_type="text"
        )
    ]
    mapping.source = "miles"
    mapping.full_clean()


def test_custom_field_mappings_take_required_and_length_from_sage(sandbox, freight):
    connection = connect(freight)
    services.connection_refresh_choices(connection=connection)
    mapping = m.CustomFieldMapping(
        connection=connection, target="ar_invoice", sage_field_id="LOAD_NOTES", source="notes"
    )
    mapping.full_clean()
    assert (mapping.sage_label, mapping.required, mapping.max_length) == ("Load Notes", False, 200)
    unknown = m.CustomFieldMapping(
        connection=connection, target="ap_bill", sage_field_id="NOPE", source="notes"
    )
    with pytest.raises(ValidationError) as error:
        unknown.full_clean()
    assert error.value.message_dict["sage_field_id"] == [
        "Sage has no custom field NOPE on APBILL: choose one of DRIVER_NAME, TRIP_NUMBER, or "
        "Refresh from Sage if it is new."
    ]
