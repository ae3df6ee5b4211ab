from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounting import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_line_amount_is_quantity_times_rate_rounded_to_cents():
    line = f.LoadChargeFactory(quantity=Decimal("612"), rate=Decimal("2.3456"))
    assert line.amount == Decimal("1435.51")  # 1435.5072 rounded half up


def test_a_load_total_is_derived_from_its_lines_with_deductions_as_credits():
    load = f.LoadFactory()
    f.LoadChargeFactory(load=load, kind="linehaul", quantity=Decimal("500"), rate=Decimal("2.50"))
    f.LoadChargeFactory(
        load=load, kind="fuel_surcharge", quantity=Decimal("500"), rate=Decimal("0.40")
    )
    f.LoadChargeFactory(load=load, kind="accessorial", item_code="DETENTION", rate=Decimal("150"))
    f.LoadChargeFactory(load=load, kind="deduction", item_code="CLAIM", rate=Decimal("75"))

    annotated = m.Load.objects.with_totals().get(pk=load.pk)
    assert annotated.total == Decimal("1525.00")  # 1250 + 200 + 150 - 75
    assert m.Load.objects.get(pk=load.pk).get_total() == Decimal("1525.00")


def test_a_load_without_lines_totals_zero():
    load = f.LoadFactory()
    assert m.Load.objects.with_totals().get(pk=load.pk).total == Decimal("0.00")


def test_a_paystub_nets_deductions_fuel_tolls_and_escrow():
    stub = f.PaystubFactory()
    for kind, amount in [
        ("pay", "1500.00"),
        ("bonus", "100.00"),
        ("reimbursement", "40.00"),
        ("deduction", "85.00"),
        ("fuel", "400.00"),
        ("toll", "25.00"),
        ("escrow", "50.00"),
    ]:
        f.PaystubLineFactory(paystub=stub, kind=kind, amount=Decimal(amount))
    assert m.Paystub.objects.with_totals().get(pk=stub.pk).total == Decimal("1080.00")


def test_grouped_documents_total_their_members():
    summary = f.SummaryInvoiceFactory()
    for rate in ("1000", "250.55"):
        f.LoadChargeFactory(load=f.LoadFactory(summary_invoice=summary), rate=Decimal(rate))
    assert summary.get_total() == Decimal("1250.55")

    settlement = f.CarrierSettlementFactory()
    f.TripChargeFactory(trip=f.TripFactory(carrier_settlement=settlement), rate=Decimal("800"))
    f.TripChargeFactory(trip=f.TripFactory(carrier_settlement=settlement), rate=Decimal("700"))
    assert settlement.get_total() == Decimal("1500.00")


def test_a_negative_rate_is_rejected_with_a_message():
    line = m.LoadCharge(
        load=f.LoadFactory(), kind="linehaul", quantity=Decimal("-2"), rate=Decimal("-1")
    )
    with pytest.raises(ValidationError) as error:
        line.full_clean()
    assert error.value.message_dict == {
        "quantity": ["Enter zero or a positive number."],
        "rate": ["Enter zero or a positive number."],
    }


def test_a_load_needs_its_invoice_as_subsidiary():
    load = m.Load(number="L-1", customer=f.CustomerFactory())
    with pytest.raises(ValidationError) as error:
        load.full_clean()
    assert error.value.message_dict["invoice_as_subsidiary"] == [m.LOAD_NEEDS_INVOICE_AS]


def test_an_external_id_is_unique_among_customers_of_one_subsidiary():
    existing = f.ExternalIdFactory(external_id="C1001")
    clash = m.ExternalAccountingId(
        subsidiary=existing.subsidiary, customer=f.CustomerFactory(), external_id="c1001"
    )
    with pytest.raises(ValidationError) as error:
        clash.full_clean()
    assert error.value.message_dict["external_id"] == [
        m.DUPLICATE_EXTERNAL_ID.format(
            external_id="c1001",
            kind="customer",
            party=existing.customer,
            subsidiary=existing.subsidiary,
        )
    ]


def test_the_same_external_id_is_fine_in_another_subsidiary_or_namespace():
    existing = f.ExternalIdFactory(external_id="X1")
    other_sub = m.ExternalAccountingId(
        subsidiary=f.SubsidiaryFactory(), customer=f.CustomerFactory(), external_id="X1"
    )
    other_sub.full_clean()
    vendor = m.ExternalAccountingId(
        subsidiary=existing.subsidiary, carrier=f.CarrierFactory(), external_id="X1"
    )
    vendor.full_clean()
    vendor.save()
    assert vendor.namespace == "vendor"


def test_carriers_and_drivers_share_the_vendor_namespace():
    sub = f.SubsidiaryFactory()
    f.ExternalIdFactory(subsidiary=sub, customer=None, carrier=f.CarrierFactory(), external_id="V1")
    with pytest.raises(IntegrityError):
        f.ExternalIdFactory(
            subsidiary=sub, customer=None, driver=f.DriverFactory(), external_id="V1"
        )


def test_a_party_has_at_most_one_external_id_per_subsidiary():
    existing = f.ExternalIdFactory()
    with pytest.raises(IntegrityError):
        f.ExternalIdFactory(
            subsidiary=existing.subsidiary, customer=existing.customer, external_id="OTHER"
        )


def test_a_party_reports_its_external_id_for_a_subsidiary():
    row = f.ExternalIdFactory(external_id="C42")
    assert row.customer.external_accounting_id(row.subsidiary) == "C42"
    assert row.customer.external_accounting_id(f.SubsidiaryFactory()) is None


def test_a_payment_applies_to_exactly_one_document():
    with pytest.raises(IntegrityError):
        f.PaymentFactory(trip=f.TripFactory())  # load and trip at once


def test_a_trip_is_hauled_by_a_carrier_or_a_driver():
    both = f.TripFactory.build(carrier=f.CarrierFactory(), driver=f.DriverFactory())
    with pytest.raises(ValidationError, match="choose one"):
        both.clean()
    neither = f.TripFactory.build(carrier=None)
    with pytest.raises(ValidationError, match="choose one"):
        neither.clean()


def test_cross_subsidiary_loads_are_recognised():
    load = f.LoadFactory()
    assert not load.is_cross_subsidiary
    load.tender_as_subsidiary = f.SubsidiaryFactory()
    assert load.is_cross_subsidiary
