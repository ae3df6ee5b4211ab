"""factory-boy factories for the TMS data. Every factory builds a valid row with its parents."""

import datetime as dt
from decimal import Decimal

import factory

from accounting import models as m


class SubsidiaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Subsidiary
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n}")
    name = factory.Sequence(lambda n: f"Subsidiary {n}")


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Office

    subsidiary = factory.SubFactory(SubsidiaryFactory)
    name = factory.Sequence(lambda n: f"Office {n}")


class FleetFactory(OfficeFactory):
    class Meta:
        model = m.Fleet

    name = factory.Sequence(lambda n: f"Fleet {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Customer

    name = factory.Sequence(lambda n: f"Customer {n}")


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Carrier

    name = factory.Sequence(lambda n: f"Carrier {n}")


class DriverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Driver

    name = factory.Sequence(lambda n: f"Driver {n}")
    subsidiary = factory.SubFactory(SubsidiaryFactory)
    driver_type = m.Driver.DriverType.COMPANY_DRIVER
    contractor_type = m.Driver.ContractorType.W2


class TruckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Truck

    number = factory.Sequence(lambda n: f"T{n:04d}")
    subsidiary = factory.SubFactory(SubsidiaryFactory)


class TrailerFactory(TruckFactory):
    class Meta:
        model = m.Trailer

    number = factory.Sequence(lambda n: f"R{n:04d}")


class ExternalIdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ExternalAccountingId

    subsidiary = factory.SubFactory(SubsidiaryFactory)
    customer = factory.SubFactory(CustomerFactory)
    external_id = factory.Sequence(lambda n: f"C{n:04d}")


class LoadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Load

    number = factory.Sequence(lambda n: f"L{n:05d}")
    invoice_as_subsidiary = factory.SubFactory(SubsidiaryFactory)
    customer = factory.SubFactory(CustomerFactory)
    billing_status = m.BillingStatus.INVOICED
    pickup_date = dt.date(2026, 11, 2)
    delivery_date = dt.date(2026, 11, 4)


class LoadChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.LoadCharge

    load = factory.SubFactory(LoadFactory)
    kind = m.LoadCharge.Kind.LINEHAUL
    item_code = "FLAT"
    quantity = Decimal("1")
    rate = Decimal("1000.00")


class TripFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Trip

    number = factory.Sequence(lambda n: f"TR{n:05d}")
    load = factory.SubFactory(LoadFactory)
    subsidiary = factory.SelfAttribute("load.invoice_as_subsidiary")
    carrier = factory.SubFactory(CarrierFactory)
    carrier_invoice_number = factory.Sequence(lambda n: f"CINV-{n}")


class TripChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.TripCharge

    trip = factory.SubFactory(TripFactory)
    kind = m.TripCharge.Kind.LINEHAUL
    quantity = Decimal("1")
    rate = Decimal("800.00")


class PaystubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Paystub

    number = factory.Sequence(lambda n: f"PS{n:05d}")
    driver = factory.SubFactory(DriverFactory)
    subsidiary = factory.SelfAttribute("driver.subsidiary")
    period_start = dt.date(2026, 11, 2)
    period_end = dt.date(2026, 11, 8)
    status = m.Paystub.Status.FINALIZED


class PaystubLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.PaystubLine

    paystub = factory.SubFactory(PaystubFactory)
    kind = m.PaystubLine.Kind.PAY
    amount = Decimal("1200.00")


class ECheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ECheck

    number = factory.Sequence(lambda n: f"EC{n:05d}")
    subsidiary = factory.SubFactory(SubsidiaryFactory)
    payee_driver = factory.SubFactory(DriverFactory)
    reason = m.ECheck.Reason.LUMPER
    amount = Decimal("150.00")


class FuelTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.FuelTransaction

    subsidiary = factory.SubFactory(SubsidiaryFactory)
    driver = factory.SubFactory(DriverFactory)
    date = dt.date(2026, 11, 3)
    gallons = Decimal("100.000")
    amount = Decimal("389.90")


class TollTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.TollTransaction

    subsidiary = factory.SubFactory(SubsidiaryFactory)
    driver = factory.SubFactory(DriverFactory)
    date = dt.date(2026, 11, 3)
    amount = Decimal("12.50")


class EscrowTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.EscrowTransaction

    subsidiary = factory.SubFactory(SubsidiaryFactory)
    driver = factory.SubFactory(DriverFactory)
    date = dt.date(2026, 11, 3)
    kind = m.EscrowTransaction.Kind.CONTRIBUTION
    amount = Decimal("50.00")


class SummaryInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SummaryInvoice

    number = factory.Sequence(lambda n: f"SI{n:05d}")
    subsidiary = factory.SubFactory(SubsidiaryFactory)
    customer = factory.SubFactory(CustomerFactory)


class CarrierSettlementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.CarrierSettlement

    number = factory.Sequence(lambda n: f"CS{n:05d}")
    subsidiary = factory.SubFactory(SubsidiaryFactory)
    carrier = factory.SubFactory(CarrierFactory)
    period_start = dt.date(2026, 11, 1)
    period_end = dt.date(2026, 11, 14)


class DriverSettlementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.DriverSettlement

    number = factory.Sequence(lambda n: f"DS{n:05d}")
    subsidiary = factory.SubFactory(SubsidiaryFactory)
    driver = factory.SubFactory(DriverFactory)
    period_start = dt.date(2026, 11, 1)
    period_end = dt.date(2026, 11, 14)


class CarrierStatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.CarrierStatement

    number = factory.Sequence(lambda n: f"CST{n:05d}")
    subsidiary = factory.SubFactory(SubsidiaryFactory)
    carrier = factory.SubFactory(CarrierFactory)
    direction = m.CarrierStatement.Direction.AP
    statement_date = dt.date(2026, 11, 14)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Payment

    load = factory.SubFactory(LoadFactory)
    amount = Decimal("100.00")
    paid_on = dt.date(2026, 11, 20)
    method = m.Payment.Method.CHECK
    check_number = "10045"


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "intacct.Connection"

    subsidiary = factory.SubFactory(SubsidiaryFactory)
    company_id = "RIDGELINE-DEMO"
    user_id = "ws_ledgerline"
    posting_destination = "top_level"
    status = "active"
    primary_sync = True


class SyncRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SyncRecord

    connection = factory.SubFactory(ConnectionFactory)
    document_type = "load"
    document_id = factory.Sequence(lambda n: n + 1)
    reference = factory.Sequence(lambda n: f"L{n:05d}")
    sage_object = "ARINVOICE"
    controlid = factory.Sequence(lambda n: f"ar-invoice-load-{n}-v1")
    state = m.SyncRecord.State.SYNCED
    record_no = factory.Sequence(lambda n: str(100 + n))


class ErrorTransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ErrorTransaction

    entity_type = "Load"
    transaction_type = "Invoice"
    subsidiary = factory.SubFactory(SubsidiaryFactory)
    document_type = "load"
    # Far from real document ids: a row made without a document must not share one with a load
    # the same test made (the one-open-error-per-document constraint would refuse it).
    document_id = factory.Sequence(lambda n: 10_000_000 + n)
    reference = factory.Sequence(lambda n: f"L{n:05d}")
    total = Decimal("1400.00")
    message = "Invoice export requires a linked Sage customer ID"
