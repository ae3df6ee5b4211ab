import datetime as dt

import pytest
from django.core.management import call_command

from accounting import demo_data
from accounting import models as m

pytestmark = pytest.mark.django_db

COUNTED = (
    m.Subsidiary,
    m.Customer,
    m.Carrier,
    m.Driver,
    m.ExternalAccountingId,
    m.Load,
    m.LoadCharge,
    m.Trip,
    m.TripCharge,
    m.Paystub,
    m.PaystubLine,
    m.ECheck,
    m.FuelTransaction,
    m.TollTransaction,
    m.EscrowTransaction,
    m.SummaryInvoice,
    m.CarrierSettlement,
    m.DriverSettlement,
    m.CarrierStatement,
    m.Payment,
)


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_it_builds_the_demo_company_and_a_second_run_creates_nothing(capsys):
    call_command("seed_demo", "--loads", "40")
    first = counts()
    assert first["Subsidiary"] == 2
    assert first["Customer"] == 25 and first["Carrier"] == 12 and first["Driver"] == 12
    assert first["Load"] == 40 and first["Trip"] == 40
    assert first["SummaryInvoice"] == first["CarrierSettlement"] == first["DriverSettlement"] == 1
    assert first["Paystub"] == 24 and first["ECheck"] == 10

    call_command("seed_demo", "--loads", "40")
    assert counts() == first
    assert "nothing to create" in capsys.readouterr().out


def test_more_loads_later_adds_only_the_new_ones():
    call_command("seed_demo", "--loads", "10")
    first = list(m.Load.objects.order_by("number").values_list("number", "customer__name"))
    call_command("seed_demo", "--loads", "15")
    after = list(m.Load.objects.order_by("number").values_list("number", "customer__name"))
    assert len(after) == 15
    assert after[:10] == first  # the same loads, drawn the same way


def test_external_ids_follow_the_demo_data_with_gaps_on_purpose():
    call_command("seed_demo", "--loads", "3")
    acme = m.Customer.objects.get(name="Acme Distribution")
    for sub in m.Subsidiary.objects.all():
        assert acme.external_accounting_id(sub) == "C1001"
    without = [p.name for p in demo_data.CUSTOMERS if not (p.sage_id and p.external_id)]
    assert not m.ExternalAccountingId.objects.filter(customer__name__in=without).exists()


def test_every_load_has_an_invoice_as_subsidiary_and_a_positive_total():
    call_command("seed_demo", "--loads", "30")
    loads = m.Load.objects.with_totals()
    assert all(load.invoice_as_subsidiary_id for load in loads)
    assert all(load.total > 0 for load in loads)
    assert any(load.is_cross_subsidiary for load in loads)
    completed = loads.filter(billing_status="completed")
    for load in completed:
        assert sum(p.amount for p in load.payments.all()) == load.get_total()
    assert all(stub.period_end < dt.date.today() for stub in m.Paystub.objects.all())
