"""Every document type the product exports, each checked in the sandbox as Sage holds it."""

from decimal import Decimal

from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct import models as m
from intacct.connections import services
from intacct.connections.sage import client_for
from intacct.sandbox.models import SandboxRecord
from tests import factories as f

from .conftest import connect
from .test_export import make_load
from .test_export_trips import make_trip


def sage(object, **filters):
    return SandboxRecord.objects.filter(object=object, **filters)


def lines(document):
    return [
        (i["ACCOUNTNO"], i["TRX_AMOUNT"], i.get("ENTRYDESCRIPTION", ""))
        for i in document.data["ITEMS"]
    ]


def settings(connection, **changes):
    services.connection_update_settings(connection=connection, **changes)


def driver(connection, name="Alice Moreno", sage_id="V3001"):
    person = f.DriverFactory(name=name, subsidiary=connection.subsidiary)
    f.ExternalIdFactory(
        subsidiary=connection.subsidiary, customer=None, driver=person, external_id=sage_id
    )
    return person


def paystub(connection, person, **kwargs):
    stub = f.PaystubFactory(
        driver=person, subsidiary=connection.subsidiary, finalized_at=timezone.now(), **kwargs
    )
    f.PaystubLineFactory(paystub=stub, kind="pay", amount=Decimal("1200.00"))
    f.PaystubLineFactory(paystub=stub, kind="bonus", amount=Decimal("100.00"))
    f.PaystubLineFactory(
        paystub=stub, kind="deduction", item_code="INSURANCE", amount=Decimal("50")
    )
    f.PaystubLineFactory(paystub=stub, kind="fuel", amount=Decimal("80.00"))
    return stub


def echeck_and_statement(connection, person, load) -> None:
    """An issued e-check to `person` on `load`, exported on AR too, and an AR carrier
    statement of one line."""
    f.ECheckFactory(
        subsidiary=connection.subsidiary,
        payee_driver=person,
        load=load,
        export_ar=True,
        status="issued",
        issued_at=timezone.now(),
    )
    statement = f.CarrierStatementFactory(subsidiary=connection.subsidiary, direction="ar")
    am.CarrierStatementLine.objects.create(statement=statement, amount=Decimal("10"))


def test_a_summary_invoice_is_one_invoice_with_each_loads_lines(connection):
    customer = f.CustomerFactory(name="Acme Distribution")
    summary = f.SummaryInvoiceFactory(
        subsidiary=connection.subsidiary,
        customer=customer,
        status="issued",
        issued_at=timezone.now(),
    )
    f.ExternalIdFactory(subsidiary=connection.subsidiary, customer=customer, external_id="C1001")
    loads = [make_load(connection, summary_invoice=summary) for _ in range(2)]

    assert export.loads_export(connection=connection).created == 0  # only through the summary
    result = export.documents_export(connection=connection, document_type="summary_invoice")

    assert (result.created, result.failed) == (1, 0)
    invoice = sage("ARINVOICE").get()
    assert (invoice.key, invoice.data["CUSTOMERID"], invoice.data["TOTALENTERED"]) == (
        summary.number,
        "C1001",
        "2800.00",
    )
    assert [item["ENTRYDESCRIPTION"] for item in invoice.data["ITEMS"]] == [
        f"Load {load.number}: {kind}" for load in loads for kind in ("Linehaul", "Accessorial")
    ]
    assert invoice.data["LOAD_NUMBER"] == summary.number


def test_a_paystub_becomes_a_driver_bill_with_pay_and_deduction_lines(connection):
    m.AccountMapping.objects.create(
        connection=connection, side="ap", category="driver_pay", gl_account_no="5100"
    )
    m.AccountMapping.objects.create(
        connection=connection,
        side="ap",
        category="driver_pay",
        item_code="BONUS",
        gl_account_no="5110",
    )
    m.AccountMapping.objects.create(
        connection=connection, side="ap", category="deductions", gl_account_no="5030"
    )
    stub = paystub(connection, driver(connection))

    result = export.documents_export(connection=connection, document_type="paystub")

    assert (result.created, result.failed) == (1, 0)
    bill = sage("APBILL").get()
    assert (bill.key, bill.data["VENDORID"], bill.data["TOTALENTERED"]) == (
        stub.number,
        "V3001",
        "1250.00",
    )
    # The fuel charge-back waits for "Include fuel transactions".
    assert [(account, amount) for account, amount, _ in lines(bill)] == [
        ("5100", "1200.00"),
        ("5110", "100.00"),
        ("5030", "-50.00"),
    ]
    assert bill.data["TRIP_NUMBER"] == stub.number


def test_fuel_on_a_paystub_joins_the_bill_when_its_toggle_is_on(connection):
    settings(connection, ap={"include_fuel": True})
    m.AccountMapping.objects.create(
        connection=connection, side="ap", category="fuel", gl_account_no="5200"
    )
    paystub(connection, driver(connection))
    export.documents_export(connection=connection, document_type="paystub")
    assert ("5200", "-80.00", "Fuel") in lines(sage("APBILL").get())


def test_a_carrier_settlement_is_one_bill_and_its_trips_wait_for_it(connection):
    trips = [make_trip(connection) for _ in range(2)]
    settlement = f.CarrierSettlementFactory(
        subsidiary=connection.subsidiary,
        carrier=trips[0].carrier,
        status="approved",
        approved_at=timezone.now(),
    )
    am.Trip.objects.filter(pk__in=[t.pk for t in trips]).update(carrier_settlement=settlement)

    # Without the toggle the trips go on their own and the settlement does not.
    assert export.documents_export(connection=connection, document_type="carrier_settlement") == (
        export.ExportSummary()
    )
    settings(connection, ap={"export_carrier_settlements": True})
    assert export.trips_export(connection=connection).created == 0
    result = export.documents_export(connection=connection, document_type="carrier_settlement")

    assert (result.created, result.failed) == (1, 0)
    bill = sage("APBILL").get()
    assert (bill.key, bill.data["VENDORID"]) == (settlement.number, "V2001")
    assert [memo for *_, memo in lines(bill)] == [
        f"Trip {trip.number}: {kind}" for trip in trips for kind in ("Linehaul", "Accessorial")
    ]


def test_a_driver_settlement_is_one_bill_and_its_paystubs_wait_for_it(connection):
    settings(connection, ap={"export_driver_settlements": True})
    person = driver(connection)
    settlement = f.DriverSettlementFactory(
        subsidiary=connection.subsidiary,
        driver=person,
        status="approved",
        approved_at=timezone.now(),
    )
    stubs = [paystub(connection, person, driver_settlement=settlement) for _ in range(2)]

    assert export.documents_export(connection=connection, document_type="paystub").created == 0
    result = export.documents_export(connection=connection, document_type="driver_settlement")

    assert result.created == 1
    bill = sage("APBILL").get()
    assert (bill.key, bill.data["VENDORID"], bill.data["TOTALENTERED"]) == (
        settlement.number,
        "V3001",
        "2500.00",
    )
    assert lines(bill)[0][2] == f"Paystub {stubs[0].number}: Pay"


def test_echecks_export_to_the_payee_and_to_the_customer_when_their_toggles_are_on(connection):
    person = driver(connection)
    load = make_load(connection)
    echeck = f.ECheckFactory(
        subsidiary=connection.subsidiary,
        payee_driver=person,
        load=load,
        export_ar=True,
        export_ap=True,
        status="issued",
        issued_at=timezone.now(),
    )
    m.AccountMapping.objects.create(
        connection=connection,
        side="ap",
        category="echecks",
        item_code="LUMPER",
        gl_account_no="5040",
    )
    for document_type in ("echeck", "echeck_ar"):
        assert (
            export.documents_export(connection=connection, document_type=document_type).created == 0
        )

    settings(connection, ar={"export_echecks": True}, ap={"export_echecks": True})
    assert export.documents_export(connection=connection, document_type="echeck").created == 1
    assert export.documents_export(connection=connection, document_type="echeck_ar").created == 1

    bill = sage("APBILL").get()
    assert (bill.key, bill.data["VENDORID"], lines(bill)[0][:2]) == (
        echeck.number,
        "V3001",
        ("5040", "150.00"),
    )
    invoice = sage("ARINVOICE").get()
    assert (invoice.key, invoice.data["CUSTOMERID"], invoice.data["TOTALENTERED"]) == (
        f"{echeck.number}-AR",
        "C1001",
        "150.00",
    )


def test_carrier_statements_invoice_or_bill_the_carrier_by_direction(connection):
    settings(
        connection,
        ar={"export_carrier_statements": True, "auto_create_customer": True},
        ap={"export_carrier_statements": True},
    )
    carrier = make_trip(connection).carrier  # Apex Carriers LLC, vendor V2001
    owed, due = (
        f.CarrierStatementFactory(subsidiary=connection.subsidiary, carrier=carrier, direction=d)
        for d in ("ap", "ar")
    )
    am.CarrierStatementLine.objects.create(statement=owed, amount=Decimal("900"))
    am.CarrierStatementLine.objects.create(statement=owed, kind="credit", amount=Decimal("40"))
    am.CarrierStatementLine.objects.create(statement=due, amount=Decimal("300"))

    export.documents_export(connection=connection, document_type="carrier_statement_ap")
    export.documents_export(connection=connection, document_type="carrier_statement_ar")

    bill = sage("APBILL").get()
    assert (bill.key, bill.data["VENDORID"], bill.data["TOTALENTERED"]) == (
        owed.number,
        "V2001",
        "860.00",
    )
    invoice = sage("ARINVOICE").get()
    # On AR the carrier is a customer: its vendor ID does not apply, so Auto Create made one.
    assert invoice.data["CUSTOMERID"] == f"C-CAR{carrier.pk}"
    assert sage("CUSTOMER", key=f"C-CAR{carrier.pk}").get().data["NAME"] == carrier.name


def test_cross_subsidiary_billing_exports_four_documents(connection):
    logistics = connect("RL", "Ridgeline Logistics")
    for side in (connection, logistics):
        settings(
            side,
            ar={"auto_create_customer": True},
            ap={"auto_create_vendor": True},
            advanced={"cross_subsidiary_billing": True},
        )
    load = make_load(connection, tender_as_subsidiary=logistics.subsidiary)
    trip = make_trip(logistics)
    am.Trip.objects.filter(pk=trip.pk).update(load=load)

    for side in (connection, logistics):
        export.connection_export(connection=side)

    documents = {
        (d.object, d.key, d.entity)
        for d in SandboxRecord.objects.filter(object__in=["ARINVOICE", "APBILL"])
    }
    assert documents == {
        ("ARINVOICE", load.number, "E100"),  # Invoice-As bills the customer
        ("APBILL", f"{load.number}-IC", "E100"),  # and owes Tender-As
        ("ARINVOICE", f"{load.number}-IC", "E200"),  # Tender-As invoices Invoice-As
        ("APBILL", trip.number, "E200"),  # and owes the carrier
    }
    ic_bill = sage("APBILL", key=f"{load.number}-IC").get()
    assert sage("VENDOR", key=ic_bill.data["VENDORID"]).get().data["NAME"] == "Ridgeline Logistics"
    ic_invoice = sage("ARINVOICE", key=f"{load.number}-IC").get()
    assert (
        sage("CUSTOMER", key=ic_invoice.data["CUSTOMERID"]).get().data["NAME"]
        == "Ridgeline Freight"
    )


def test_no_intercompany_documents_unless_both_subsidiaries_enable_them(connection):
    logistics = connect("RL", "Ridgeline Logistics")
    settings(connection, advanced={"cross_subsidiary_billing": True})
    make_load(connection, tender_as_subsidiary=logistics.subsidiary)
    export.connection_export(connection=connection)
    export.connection_export(connection=logistics)
    assert not sage("APBILL").exists()
    assert list(sage("ARINVOICE").values_list("entity", flat=True)) == ["E100"]


def test_every_request_of_every_document_type_validates_against_sages_schema(
    connection, sandbox_requests, assert_valid_request
):
    settings(
        connection,
        ar={
            "export_echecks": True,
            "export_carrier_statements": True,
            "auto_create_customer": True,
        },
        ap={"export_echecks": True, "export_carrier_statements": True, "include_fuel": True},
    )
    person = driver(connection)
    load = make_load(connection)
    paystub(connection, person)
    am.Load.objects.filter(trips__in=[make_trip(connection)]).update(billing_status="released")
    echeck_and_statement(connection, person, load)

    summaries = export.connection_export(connection=connection)

    assert sum(s.created for s in summaries.values()) == 6
    assert sum(s.failed for s in summaries.values()) == 0
    assert len(sandbox_requests) > 6
    for body in sandbox_requests:
        assert_valid_request(body)


def _paystub_run_queries(connection, count):
    person = am.Driver.objects.filter(name="Alice Moreno").first() or driver(connection)
    for _ in range(count):
        paystub(connection, person)
    client = client_for(connection)
    client.open_session()
    with CaptureQueriesContext(db) as queries:
        result = export.documents_export(
            connection=connection, document_type="paystub", batch_size=50, client=client
        )
    assert result.created == count
    own = [
        q
        for q in queries.captured_queries
        if "intacct_sandbox_" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]
    return len(own), client.requests_sent


def test_paystub_queries_and_requests_do_not_grow_with_the_batch(connection):
    # 50, not 100: SQLite splits a bulk insert of 100 ledger rows in two (its variable limit).
    assert _paystub_run_queries(connection, 10) == _paystub_run_queries(connection, 50)


def test_trip_paystub_and_settlement_pages_preview_their_payload(connection, admin_client):
    from django.urls import reverse

    trip = make_trip(connection)
    stub = paystub(connection, driver(connection))
    settlement = f.CarrierSettlementFactory(subsidiary=connection.subsidiary, carrier=trip.carrier)
    for doc, bill_number in ((trip, trip.number), (stub, stub.number), (settlement, None)):
        model = doc._meta.model_name
        page = admin_client.get(reverse(f"admin:accounting_{model}_change", args=[doc.pk]))
        url = reverse("admin:intacct_preview_document", args=[model, doc.pk])
        assert url in page.content.decode()
        text = admin_client.get(url).content.decode()
        assert "Nothing is sent from this page." in text
        if bill_number:
            assert f"&lt;RECORDID&gt;{bill_number}&lt;/RECORDID&gt;" in text
            assert "(External Accounting ID)" in text
        else:  # a settlement with no trips has nothing to bill, and says so
            assert f"{settlement.number} has no lines to bill." in text
    assert not sage("APBILL").exists()
