"""One charge, one Sage document: a load, trip or paystub is billed once, on its own or inside
one summary invoice or settlement, whatever the order in which it was exported and grouped."""

from decimal import Decimal

from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct import messages as msg
from intacct.connections import services
from intacct.export.documents import members
from intacct.sandbox.engine.documents import REVERSAL, REVERSED
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_document_reverse, sandbox_payment_record
from tests import factories as f

from .test_export import make_load
from .test_export_documents import driver, paystub
from .test_export_trips import make_trip


def live(object):
    """Sage documents that stand (not reversed, not the reversal itself)."""
    return SandboxRecord.objects.filter(object=object).exclude(state__in=(REVERSED, REVERSAL))


def times_billed(object, label, number):
    """How many standing Sage documents bill this member: on its own (numbered as it) or as
    lines named after it inside a group document."""
    count = 0
    for record in live(object):
        if record.key == number or any(
            item.get("ENTRYDESCRIPTION", "").startswith(f"{label} {number}: ")
            for item in record.data["ITEMS"]
        ):
            count += 1
    return count


def sage_total(object, party_field, party_id):
    return sum(
        Decimal(r.data["TOTALENTERED"]) for r in live(object) if r.data[party_field] == party_id
    )


def export_all(connection):
    return export.connection_export(connection=connection)


def summary_for(connection, customer, **kwargs):
    return f.SummaryInvoiceFactory(
        subsidiary=connection.subsidiary,
        customer=customer,
        status="issued",
        issued_at=timezone.now(),
        **kwargs,
    )


def join(doc, **group):
    for name, value in group.items():
        setattr(doc, name, value)
    doc.save()  # as the TMS does: the member changes


def test_a_load_invoiced_alone_then_put_on_a_summary_invoice_is_billed_once(
    connection, admin_client
):
    alone, other = make_load(connection), make_load(connection)
    assert export.loads_export(connection=connection).created == 2
    summary = summary_for(connection, alone.customer)
    join(alone, summary_invoice=summary)
    third = make_load(connection, summary_invoice=summary)
    join(other, summary_invoice=summary)

    summaries = export_all(connection)

    assert summaries["summary_invoice"].created == 1
    for load in (alone, other, third):
        assert times_billed("ARINVOICE", "Load", load.number) == 1
    tms_owed = sum(load.get_total() for load in (alone, other, third))
    assert sage_total("ARINVOICE", "CUSTOMERID", "C1001") == tms_owed == Decimal("4200.00")

    # The preview and the summary invoice's own page say which loads were left out, and why.
    previews = export.document_previews(doc=summary)
    note = f"Load {alone.number} was invoiced on its own on "
    assert any(line.startswith(note) for line in previews[0].trail)
    page = admin_client.get(f"/admin/accounting/summaryinvoice/{summary.pk}/change/")
    assert note in page.content.decode()
    assert "it is left out of this summary invoice, so it is not billed twice" in (
        page.content.decode()
    )


def test_a_trip_billed_alone_then_in_an_approved_carrier_settlement_is_billed_once(connection):
    services.connection_update_settings(
        connection=connection, ap={"export_carrier_settlements": True}
    )
    trips = [make_trip(connection) for _ in range(2)]
    assert export.trips_export(connection=connection).created == 2  # sent on upload, say
    later = make_trip(connection)
    settlement = f.CarrierSettlementFactory(
        subsidiary=connection.subsidiary,
        carrier=later.carrier,
        status="approved",
        approved_at=timezone.now(),
    )
    for trip in (*trips, later):
        join(trip, carrier_settlement=settlement)

    export_all(connection)

    for trip in (*trips, later):
        assert times_billed("APBILL", "Trip", trip.number) == 1
    # Each trip bills linehaul 800 + lumper 75 (fuel is off): 3 trips, once each.
    assert sage_total("APBILL", "VENDORID", "V2001") == 3 * Decimal("875.00")


def test_a_paystub_billed_alone_then_in_a_driver_settlement_is_billed_once(connection):
    services.connection_update_settings(
        connection=connection, ap={"include_fuel": False, "export_driver_settlements": True}
    )
    person = driver(connection)
    first = paystub(connection, person)
    assert export.documents_export(connection=connection, document_type="paystub").created == 1
    settlement = f.DriverSettlementFactory(
        subsidiary=connection.subsidiary,
        driver=person,
        status="approved",
        approved_at=timezone.now(),
    )
    second = paystub(connection, person, driver_settlement=settlement)
    join(first, driver_settlement=settlement)

    export_all(connection)

    for stub in (first, second):
        assert times_billed("APBILL", "Paystub", stub.number) == 1
    # Each paystub bills pay 1200 + bonus 100 - insurance 50 (fuel is off): twice, not three times.
    assert sage_total("APBILL", "VENDORID", "V3001") == 2 * Decimal("1250.00")


def test_every_member_already_billed_alone_leaves_the_group_nothing_to_bill(connection):
    load = make_load(connection)
    export.loads_export(connection=connection)
    summary = summary_for(connection, load.customer)
    join(load, summary_invoice=summary)

    result = export.documents_export(connection=connection, document_type="summary_invoice")

    assert (result.created, result.failed) == (0, 1)
    error = am.ErrorTransaction.objects.get(document_type="summary_invoice")
    assert error.message == members.ALL_LEFT_OUT.format(
        member="load", group_number=summary.number, group="summary invoice"
    )
    assert times_billed("ARINVOICE", "Load", load.number) == 1


def test_a_load_that_joins_an_exported_summary_invoice_is_billed_on_its_next_version(
    connection,
):
    first = make_load(connection)
    summary = summary_for(connection, first.customer)
    join(first, summary_invoice=summary)
    assert export_all(connection)["summary_invoice"].created == 1
    joined = make_load(connection)
    join(joined, summary_invoice=summary)

    summaries = export_all(connection)

    assert (summaries["load"].created, summaries["summary_invoice"].reversed) == (0, 1)
    for load in (first, joined):
        assert times_billed("ARINVOICE", "Load", load.number) == 1
    assert sage_total("ARINVOICE", "CUSTOMERID", "C1001") == Decimal("2800.00")


def test_a_load_removed_from_an_exported_summary_invoice_is_billed_alone_once_it_left_sage(
    connection,
):
    kept, removed = make_load(connection), make_load(connection)
    summary = summary_for(connection, kept.customer)
    for load in (kept, removed):
        join(load, summary_invoice=summary)
    export_all(connection)
    join(removed, summary_invoice=None)

    # The summary invoice's standing Sage document still bills it: not on its own yet ...
    assert export.loads_export(connection=connection).created == 0
    # ... the summary invoice's next version leaves it out, and then it goes on its own.
    export_all(connection)
    export_all(connection)

    for load in (kept, removed):
        assert times_billed("ARINVOICE", "Load", load.number) == 1
    assert sage_total("ARINVOICE", "CUSTOMERID", "C1001") == Decimal("2800.00")


def test_a_load_removed_from_a_paid_summary_invoice_stays_billed_there_only(connection):
    kept, removed = make_load(connection), make_load(connection)
    summary = summary_for(connection, kept.customer)
    for load in (kept, removed):
        join(load, summary_invoice=summary)
    export_all(connection)
    invoice = SandboxRecord.objects.get(object="ARINVOICE", key=summary.number)
    sandbox_payment_record(document=invoice, amount=Decimal("100.00"))
    join(removed, summary_invoice=None)

    export_all(connection)
    export_all(connection)

    # Sage refuses to change a paid invoice: the load stays billed on it, never twice.
    assert times_billed("ARINVOICE", "Load", removed.number) == 1
    error = am.ErrorTransaction.objects.get(document_type="summary_invoice")
    assert error.message == msg.PAYMENTS_MUST_BE_REMOVED


def test_a_paystub_changed_after_driver_settlement_export_was_turned_off_waits_then_goes_alone(
    connection,
):
    """Settlement export off: a member's change no group export would carry. An unchanged
    payload needs nothing; a real change asks for the settlement bill's manual reversal, and once
    Sage shows it reversed the paystub is billed on its own, in the same run."""
    services.connection_update_settings(
        connection=connection, ap={"include_fuel": False, "export_driver_settlements": True}
    )
    person = driver(connection)
    settlement = f.DriverSettlementFactory(
        subsidiary=connection.subsidiary,
        driver=person,
        status="approved",
        approved_at=timezone.now(),
    )
    stub = paystub(connection, person, driver_settlement=settlement)
    assert export_all(connection)["driver_settlement"].created == 1
    services.connection_update_settings(
        connection=connection, ap={"export_driver_settlements": False}
    )

    idle = export.documents_export(connection=connection, document_type="paystub").requests
    stub.save()  # saved in the TMS, nothing Sage bills changed
    summary = export.documents_export(connection=connection, document_type="paystub")
    assert (summary.created, summary.failed) == (0, 0)  # its payload was rebuilt (Sage's terms)
    assert not am.ErrorTransaction.objects.exists()
    # ... and found the same: the settlement's sync time moved, so the next run reads nothing.
    assert export.documents_export(connection=connection, document_type="paystub").requests == idle

    stub.lines.filter(kind="bonus").update(amount=Decimal("300.00"))
    stub.save()
    summary = export.documents_export(connection=connection, document_type="paystub")
    assert (summary.created, summary.failed) == (0, 1)
    error = am.ErrorTransaction.objects.get(status="failed")
    assert (error.document_type, error.document_id) == ("driver_settlement", settlement.pk)
    assert error.message == msg.AP_BILL_MANUAL_REVERSAL
    assert sage_total("APBILL", "VENDORID", "V3001") == Decimal("1250.00")  # the old bill

    bill = live("APBILL").get(key=settlement.number)
    sandbox_document_reverse(document=bill)  # what the accountant does in Sage
    summary = export.documents_export(connection=connection, document_type="paystub")
    assert (summary.created, summary.failed) == (1, 0)
    assert times_billed("APBILL", "Paystub", stub.number) == 1
    # pay 1200 + bonus 300 - insurance 50 (fuel is off): the new amount, once.
    assert sage_total("APBILL", "VENDORID", "V3001") == Decimal("1450.00")
    error.refresh_from_db()
    assert error.status == "resolved"
    assert not am.SyncMember.objects.filter(document_type="paystub", document_id=stub.pk)
    assert export.documents_export(connection=connection, document_type="paystub").requests == idle
