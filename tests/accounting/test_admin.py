"""Every accounting admin page renders, at a constant number of queries whatever its size."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounting import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


def _load_with_lines():
    load = f.LoadFactory()
    f.LoadChargeFactory(load=load)
    f.LoadChargeFactory(load=load, kind="deduction", rate=Decimal("10"))
    f.TripFactory(load=load)
    f.PaymentFactory(load=load)
    return load


def _customer_with_ids():
    row = f.ExternalIdFactory()
    f.ExternalIdFactory(customer=row.customer)
    return row.customer


def _carrier_with_ids():
    carrier = f.CarrierFactory()
    f.ExternalIdFactory(customer=None, carrier=carrier)
    return carrier


def _paystub_with_lines():
    stub = f.PaystubFactory()
    f.PaystubLineFactory(paystub=stub)
    f.PaystubLineFactory(paystub=stub, kind="deduction", amount=Decimal("20"))
    return stub


MAKERS = {
    m.Subsidiary: f.SubsidiaryFactory,
    m.Office: f.OfficeFactory,
    m.Fleet: f.FleetFactory,
    m.Customer: _customer_with_ids,
    m.Carrier: _carrier_with_ids,
    m.Driver: f.DriverFactory,
    m.ExternalAccountingId: f.ExternalIdFactory,
    m.Truck: f.TruckFactory,
    m.Trailer: f.TrailerFactory,
    m.Load: _load_with_lines,
    m.Trip: lambda: f.TripChargeFactory().trip,
    m.Paystub: _paystub_with_lines,
    m.ECheck: f.ECheckFactory,
    m.FuelTransaction: f.FuelTransactionFactory,
    m.TollTransaction: f.TollTransactionFactory,
    m.EscrowTransaction: f.EscrowTransactionFactory,
    m.SummaryInvoice: lambda: (
        f.LoadFactory(summary_invoice=f.SummaryInvoiceFactory()).summary_invoice
    ),
    m.CarrierSettlement: lambda: (
        f.TripFactory(carrier_settlement=f.CarrierSettlementFactory()).carrier_settlement
    ),
    m.DriverSettlement: lambda: (
        f.PaystubFactory(driver_settlement=f.DriverSettlementFactory()).driver_settlement
    ),
    m.CarrierStatement: f.CarrierStatementFactory,
    m.Payment: f.PaymentFactory,
    m.SyncRecord: f.SyncRecordFactory,
    m.ErrorTransaction: f.ErrorTransactionFactory,
}
REGISTERED = [model for model in admin.site._registry if model._meta.app_label == "accounting"]


def test_every_accounting_model_has_an_admin_and_a_maker():
    assert set(REGISTERED) == set(MAKERS)


def _changelist_queries(client, model):
    url = reverse(f"admin:accounting_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model.__name__)
def test_the_list_page_costs_the_same_queries_for_3_and_30_rows(admin_client, model):
    for _ in range(3):
        MAKERS[model]()
    few = _changelist_queries(admin_client, model)
    for _ in range(27):
        MAKERS[model]()
    many = _changelist_queries(admin_client, model)
    assert many == few


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model.__name__)
def test_the_change_page_renders(admin_client, model):
    obj = MAKERS[model]()
    response = admin_client.get(
        reverse(f"admin:accounting_{model._meta.model_name}_change", args=[obj.pk])
    )
    assert response.status_code == 200
    assert str(obj) in response.content.decode()


def test_the_load_list_shows_totals_from_lines(admin_client):
    load = f.LoadFactory(number="L-TOTAL")
    f.LoadChargeFactory(load=load, rate=Decimal("1234.50"))
    f.LoadChargeFactory(load=load, kind="deduction", rate=Decimal("34.50"))
    response = admin_client.get(reverse("admin:accounting_load_changelist"))
    assert "1200.00" in response.content.decode()


def _inline_management(prefix, total=1, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_the_customer_page_rejects_an_external_id_used_in_the_subsidiary(admin_client):
    existing = f.ExternalIdFactory(external_id="C1001")
    customer = f.CustomerFactory(name="Second Customer")
    data = {
        "name": customer.name,
        "email": "",
        "phone": "",
        "address": "",
        "city": "",
        "state": "",
        "postal_code": "",
        "is_active": "on",
        **_inline_management("external_ids"),
        "external_ids-0-subsidiary": existing.subsidiary.pk,
        "external_ids-0-external_id": "C1001",
        "external_ids-0-customer": customer.pk,
    }
    response = admin_client.post(
        reverse("admin:accounting_customer_change", args=[customer.pk]), data
    )
    assert response.status_code == 200  # the form is shown again, nothing saved
    assert "External Accounting ID C1001 is already used by customer" in response.content.decode()
    assert not customer.external_ids.exists()


def _load_form(load, **overrides):
    data = {
        "number": load.number,
        "customer": load.customer.pk,
        "billing_status": "invoiced",
        "invoiced_at_0": "",
        "invoiced_at_1": "",
        "invoice_as_subsidiary": load.invoice_as_subsidiary.pk,
        "tender_as_subsidiary": "",
        "office": "",
        "fleet": "",
        "driver": "",
        "truck": "",
        "trailer": "",
        "dispatcher": "",
        "shipper_name": "",
        "consignee_name": "",
        "pickup_date": "",
        "delivery_date": "",
        "reference_number": "",
        "po_number": "",
        "notes": "",
        "summary_invoice": "",
        **_inline_management("lines"),
        **_inline_management("trips", total=0),
        **_inline_management("payments", total=0),
        "lines-0-kind": "linehaul",
        "lines-0-item_code": "FLAT",
        "lines-0-description": "",
        "lines-0-quantity": "1",
        "lines-0-rate": "100",
    }
    data.update(overrides)
    return data


def test_the_load_page_rejects_a_negative_quantity(admin_client):
    load = f.LoadFactory()
    response = admin_client.post(
        reverse("admin:accounting_load_change", args=[load.pk]),
        _load_form(load, **{"lines-0-quantity": "-3"}),
    )
    assert response.status_code == 200
    assert "Enter zero or a positive number." in response.content.decode()
    assert not load.lines.exists()


def test_the_load_page_rejects_a_missing_invoice_as_subsidiary(admin_client):
    load = f.LoadFactory()
    response = admin_client.post(
        reverse("admin:accounting_load_change", args=[load.pk]),
        _load_form(load, invoice_as_subsidiary=""),
    )
    assert response.status_code == 200
    assert m.LOAD_NEEDS_INVOICE_AS in response.content.decode()
    load.refresh_from_db()
    assert load.invoice_as_subsidiary_id is not None


def test_a_valid_load_form_saves_the_line_with_its_amount(admin_client):
    load = f.LoadFactory()
    response = admin_client.post(
        reverse("admin:accounting_load_change", args=[load.pk]),
        _load_form(load, **{"lines-0-quantity": "2", "lines-0-rate": "150.125"}),
    )
    assert response.status_code == 302
    assert load.lines.get().amount == Decimal("300.25")


def _statement_line(statement):
    return m.CarrierStatementLine.objects.create(
        statement=statement, description="Linehaul", amount=Decimal("250.00")
    )


# For each page with inlines: add rows to every inline of an object.
MORE_ROWS = {
    m.Subsidiary: lambda s: [f.OfficeFactory(subsidiary=s), f.FleetFactory(subsidiary=s)],
    m.Customer: lambda c: [f.ExternalIdFactory(customer=c)],
    m.Carrier: lambda c: [f.ExternalIdFactory(customer=None, carrier=c)],
    m.Load: lambda load: [
        f.LoadChargeFactory(load=load),
        f.TripChargeFactory(trip=f.TripFactory(load=load)),
        f.PaymentFactory(load=load),
    ],
    m.Trip: lambda trip: [f.TripChargeFactory(trip=trip), f.PaymentFactory(load=None, trip=trip)],
    m.Paystub: lambda stub: [
        f.PaystubLineFactory(paystub=stub),
        f.PaymentFactory(load=None, paystub=stub),
    ],
    m.SummaryInvoice: lambda invoice: [f.LoadFactory(summary_invoice=invoice)],
    m.CarrierStatement: _statement_line,
}


def _change_page_queries(client, obj):
    url = reverse(f"admin:accounting_{obj._meta.model_name}_change", args=[obj.pk])
    client.get(url)  # warm the session and the content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", list(MORE_ROWS), ids=lambda model: model.__name__)
def test_the_change_page_costs_the_same_queries_with_1_and_6_inline_rows(admin_client, model):
    obj = MAKERS[model]()
    few = _change_page_queries(admin_client, obj)
    for _ in range(5):
        MORE_ROWS[model](obj)
    many = _change_page_queries(admin_client, obj)
    assert many == few


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model.__name__)
def test_the_change_page_costs_the_same_queries_for_any_object(admin_client, model):
    first, second = MAKERS[model](), MAKERS[model]()
    assert _change_page_queries(admin_client, first) == _change_page_queries(admin_client, second)
