"""CSV imports of mappings and custom terms: previewed, and all-or-nothing."""

import pytest
from tablib import Dataset

from intacct import models as m
from intacct.connections import resources
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection():
    return m.Connection.objects.create(subsidiary=f.SubsidiaryFactory(code="RF"))


def run(resource, text, *, dry_run=False):
    return resource.import_data(
        Dataset().load(text, format="csv"), dry_run=dry_run, raise_errors=False
    )


def errors_of(result):
    return [str(e.error) for _, errs in result.row_errors() for e in errs] + [
        str(row.error) for row in result.invalid_rows
    ]


def test_account_mappings_import_and_reimport_changes_nothing(connection):
    text = (
        "subsidiary,side,category,item_code,gl_account_no\n"
        "RF,ar,,,4000\nRF,ar,accessorials,,4020\nRF,ar,accessorials,DETENTION,4025\n"
    )
    assert not run(resources.AccountMappingResource(), text).has_errors()
    assert not run(resources.AccountMappingResource(), text).has_errors()
    assert connection.account_mappings.count() == 3


def test_a_bad_account_row_rejects_the_whole_file(connection):
    text = (
        "subsidiary,side,category,item_code,gl_account_no\n"
        "RF,ar,,,4000\nRF,ar,fuel,,5200\nXX,ap,,,5000\n"
    )
    result = run(resources.AccountMappingResource(), text)
    assert result.has_errors() or result.has_validation_errors()
    assert "Fuel is an AP (expense) category only." in " ".join(errors_of(result))
    assert not connection.account_mappings.exists()


def test_dimension_value_maps_import_into_an_existing_mapping(connection):
    mapping = m.DimensionMapping.objects.create(
        connection=connection, dimension="location", source="office"
    )
    text = "subsidiary,dimension,tms_value,sage_value\nRF,location,Dallas,DAL\nRF,class,Dry Van,X\n"
    result = run(resources.DimensionValueMapResource(), text)
    assert errors_of(result) == [
        "Subsidiary RF has no class dimension mapping: add the mapping "
        "on the connection page first."
    ]
    assert not mapping.value_maps.exists()
    run(resources.DimensionValueMapResource(), text.splitlines()[0] + "\nRF,location,Dallas,DAL\n")
    assert [(v.tms_value, v.sage_value) for v in mapping.value_maps.all()] == [("Dallas", "DAL")]


def test_custom_terms_import_by_party_name(connection):
    f.CustomerFactory(name="Acme Distribution")
    f.CarrierFactory(name="Apex Carriers LLC")
    text = (
        "subsidiary,party_type,party,term_name\nRF,customer,acme distribution,Net 15\n"
        "RF,carrier,Apex Carriers LLC,Net 30\n"
    )
    assert not run(resources.CustomPaymentTermResource(), text).has_errors()
    assert sorted(t.term_name for t in connection.custom_terms.all()) == ["Net 15", "Net 30"]
    bad = "subsidiary,party_type,party,term_name\nRF,driver,Nobody,Net 15\n"
    assert errors_of(run(resources.CustomPaymentTermResource(), bad)) == [
        "No driver named 'Nobody': create it first or fix the name."
    ]


def test_exports_show_names_not_internal_ids(connection):
    mapping = m.DimensionMapping.objects.create(
        connection=connection, dimension="class", source="fleet"
    )
    m.DimensionValueMap.objects.create(mapping=mapping, tms_value="Dry Van", sage_value="DRYVAN")
    m.CustomPaymentTerm.objects.create(
        connection=connection, driver=f.DriverFactory(name="Alice Moreno"), term_name="Net 15"
    )
    values = resources.DimensionValueMapResource().export()
    assert values.headers == ["subsidiary", "dimension", "tms_value", "sage_value"]
    assert values[0] == ("RF", "class", "Dry Van", "DRYVAN")
    terms = resources.CustomPaymentTermResource().export()
    assert terms.headers == ["subsidiary", "party_type", "party", "term_name"]
    assert terms[0] == ("RF", "driver", "Alice Moreno", "Net 15")
