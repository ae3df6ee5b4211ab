"""The TMS demo and the sandbox's demo company agree: they share IDs in config/demo_company.json."""

import io

import pytest
from django.core.management import call_command

from accounting import demo_data
from accounting import models as am
from intacct.sandbox import demo
from tests.intacct.sandbox_routing import make_client


@pytest.fixture
def tms_demo(db):
    call_command("seed_demo", "--loads", "1", stdout=io.StringIO())


def test_every_external_accounting_id_of_the_tms_demo_is_a_sage_record_of_its_party(
    tms_demo, client
):
    customers = {
        c["CUSTOMERID"]: c["NAME"] for c in client.iter_query("CUSTOMER", ["CUSTOMERID", "NAME"])
    }
    vendors = {v["VENDORID"]: v["NAME"] for v in client.iter_query("VENDOR", ["VENDORID", "NAME"])}
    ids = am.ExternalAccountingId.objects.select_related("customer", "carrier", "driver")
    assert ids.filter(customer__isnull=False).exists()
    assert ids.filter(carrier__isnull=False).exists() and ids.filter(driver__isnull=False).exists()
    unknown = []
    for row in ids:
        party = row.customer or row.carrier or row.driver
        records = customers if row.customer_id else vendors
        if records.get(row.external_id) != party.name:
            unknown.append((row.external_id, party.name))
    assert unknown == []


def test_every_tms_demo_subsidiary_has_a_sage_entity_of_its_name(tms_demo, client):
    entities = client.iter_query("LOCATIONENTITY", ["LOCATIONID", "NAME"])
    names = {entity["NAME"].casefold() for entity in entities}
    subsidiaries = list(am.Subsidiary.objects.values_list("name", flat=True))
    assert len(subsidiaries) == len(demo_data.SUBSIDIARIES)
    assert [name for name in subsidiaries if name.casefold() not in names] == []


def test_the_tms_demo_signs_in_to_the_sandbox_company_with_its_credentials(sandbox):
    tms = (
        demo_data.SAGE_SENDER_ID,
        demo_data.SAGE_SENDER_PASSWORD,
        demo_data.SAGE_COMPANY_ID,
        demo_data.SAGE_USER_ID,
        demo_data.SAGE_USER_PASSWORD,
    )
    assert tms == (
        demo.SENDER_ID,
        demo.SENDER_PASSWORD,
        demo.COMPANY_ID,
        demo.USER_ID,
        demo.USER_PASSWORD,
    )
    assert sandbox.company_id == demo_data.SAGE_COMPANY_ID
    assert make_client(location_id="").open_session().session_id
