"""Documents changed or removed in the TMS after export, and crashes between send and ledger."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct import messages as msg
from intacct.sandbox import engine
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import (
    sandbox_bill_select,
    sandbox_document_reverse,
    sandbox_payment_record,
)

from .test_export import make_load
from .test_export_trips import make_trip

WRITES = (b"<create", b"<update", b"<reverse", b"<delete")


def exported_load(connection):
    load = make_load(connection)
    assert export.loads_export(connection=connection).created == 1
    return load, SandboxRecord.objects.get(object="ARINVOICE", key=load.number)


def change_linehaul(document, rate):
    line = document.lines.get(kind="linehaul")
    line.rate = Decimal(rate)
    line.save()
    document.save()  # the admin saves the document with its lines


def open_error(doc):
    return am.ErrorTransaction.objects.get(document_id=doc.pk, status="failed")


def make_draft(record):
    record.state = engine.DRAFT
    engine.save(record, timezone.now())


def test_a_posted_unpaid_invoice_is_reversed_and_sent_again(connection):
    load, first = exported_load(connection)
    change_linehaul(load, "3")

    summary = export.loads_export(connection=connection)

    assert (summary.reversed, summary.created, summary.failed) == (1, 1, 0)
    first.refresh_from_db()
    assert first.state == "Reversed"
    reversal = SandboxRecord.objects.get(object="ARINVOICE", state="Reversal")
    assert reversal.data["TOTALENTERED"] == "-1400.00"
    second = SandboxRecord.objects.get(object="ARINVOICE", key=f"{load.number}-2")
    assert (second.state, second.data["TOTALENTERED"]) == ("Posted", "1650.00")
    record = am.SyncRecord.objects.get(document_id=load.pk)
    assert (record.version, record.record_no, record.state) == (2, str(second.pk), "synced")
    assert export.loads_export(connection=connection) == export.ExportSummary(requests=0)


def test_a_change_that_does_not_touch_the_payload_sends_nothing(connection, sandbox_requests):
    load, _ = exported_load(connection)
    load.dispatcher = "Someone else"  # not mapped to anything Sage sees
    load.save()
    sandbox_requests.clear()

    summary = export.loads_export(connection=connection)

    assert (summary.unchanged, summary.created, summary.reversed) == (1, 0, 0)
    assert not [body for body in sandbox_requests if any(w in body for w in WRITES)]
    assert export.loads_export(connection=connection).unchanged == 0  # settled


def test_an_invoice_with_payments_is_not_reversed(connection):
    load, invoice = exported_load(connection)
    sandbox_payment_record(document=invoice, amount=Decimal("100"))
    change_linehaul(load, "3")

    summary = export.loads_export(connection=connection)

    assert (summary.failed, summary.reversed, summary.created) == (1, 0, 0)
    assert open_error(load).message == msg.PAYMENTS_MUST_BE_REMOVED
    invoice.refresh_from_db()
    assert (invoice.state, invoice.data["TOTALENTERED"]) == ("Partially Paid", "1400.00")
    assert am.SyncRecord.objects.get(document_id=load.pk).state == "synced"


def test_a_draft_invoice_is_updated_in_place(connection, sandbox_requests, assert_valid_request):
    load, invoice = exported_load(connection)
    make_draft(invoice)
    load.lines.filter(kind="accessorial").delete()
    change_linehaul(load, "3")
    sandbox_requests.clear()

    summary = export.loads_export(connection=connection)

    assert (summary.updated, summary.created, summary.reversed) == (1, 0, 0)
    invoice.refresh_from_db()
    # update_invoice cannot remove a line: the one the load no longer has is zeroed.
    assert [(i["ACCOUNTNO"], i["AMOUNT"]) for i in invoice.data["ITEMS"]] == [
        ("4000", "1500.00"),
        ("4000", "0.00"),
    ]
    assert invoice.data["TOTALENTERED"] == "1500.00"
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 1
    for body in sandbox_requests:
        assert_valid_request(body)


def test_a_posted_bill_needs_manual_reversal_then_the_next_version_goes(connection):
    trip = make_trip(connection)
    export.trips_export(connection=connection)
    bill = SandboxRecord.objects.get(object="APBILL", key=trip.number)
    sandbox_bill_select(bill=bill)
    change_linehaul(trip, "900")

    assert export.trips_export(connection=connection).failed == 1
    assert open_error(trip).message == msg.AP_BILL_MANUAL_REVERSAL
    assert export.trips_export(connection=connection).failed == 1  # still waiting on Sage

    sandbox_document_reverse(document=bill)  # the accountant reverses it in Sage
    summary = export.trips_export(connection=connection)

    assert (summary.created, summary.failed) == (1, 0)
    second = SandboxRecord.objects.get(object="APBILL", key=f"{trip.number}-2")
    assert second.data["TOTALENTERED"] == "975.00"  # 900 linehaul + 75 lumper (no fuel)
    assert am.ErrorTransaction.objects.get(document_id=trip.pk).status == "resolved"


def test_a_changed_bill_with_payments_says_the_payments_must_be_removed(connection):
    trip = make_trip(connection)
    export.trips_export(connection=connection)
    bill = SandboxRecord.objects.get(object="APBILL", key=trip.number)
    sandbox_payment_record(document=bill, amount=Decimal("100"))
    change_linehaul(trip, "900")

    summary = export.trips_export(connection=connection)

    # The seeds' rule for a Sage transaction with payments, for bills as for invoices.
    assert (summary.failed, summary.created) == (1, 0)
    assert open_error(trip).message == msg.PAYMENTS_MUST_BE_REMOVED
    bill.refresh_from_db()
    assert bill.state == "Partially Paid"
    assert am.SyncRecord.objects.get(document_id=trip.pk).state == "synced"


def test_a_trip_removed_from_the_tms_names_payments_first_then_manual_reversal(connection):
    paid, unpaid = make_trip(connection), make_trip(connection)
    export.trips_export(connection=connection)
    paid_bill = SandboxRecord.objects.get(object="APBILL", key=paid.number)
    sandbox_payment_record(document=paid_bill, amount=Decimal("100"))
    for trip in (paid, unpaid):
        trip.lines.all().delete()
        trip.delete()

    export.trips_export(connection=connection)

    messages = dict(am.ErrorTransaction.objects.values_list("reference", "message"))
    assert messages == {
        paid.number: msg.PAYMENTS_MUST_BE_REMOVED,
        unpaid.number: msg.AP_BILL_MANUAL_REVERSAL,
    }
    assert SandboxRecord.objects.get(pk=paid_bill.pk).state == "Partially Paid"


def test_a_draft_bill_is_updated_in_place(connection, sandbox_requests, assert_valid_request):
    trip = make_trip(connection)
    export.trips_export(connection=connection)
    bill = SandboxRecord.objects.get(object="APBILL", key=trip.number)
    make_draft(bill)
    change_linehaul(trip, "900")
    sandbox_requests.clear()

    assert export.trips_export(connection=connection).updated == 1
    bill.refresh_from_db()
    assert (bill.pk, bill.data["TOTALENTERED"]) == (bill.pk, "975.00")
    assert SandboxRecord.objects.filter(object="APBILL").count() == 1
    for body in sandbox_requests:
        assert_valid_request(body)


def test_a_load_removed_from_the_tms_is_reversed_or_deleted_in_sage(connection):
    posted, posted_invoice = exported_load(connection)
    draft, draft_invoice = exported_load(connection)
    make_draft(draft_invoice)
    paid, paid_invoice = exported_load(connection)
    sandbox_payment_record(document=paid_invoice)
    for load in (posted, draft, paid):
        load.delete()

    summary = export.loads_export(connection=connection)

    assert (summary.reversed, summary.deleted) == (1, 1)
    posted_invoice.refresh_from_db()
    assert posted_invoice.state == "Reversed"
    assert not SandboxRecord.objects.filter(pk=draft_invoice.pk).exists()
    error = am.ErrorTransaction.objects.get(reference=paid.number)
    assert error.message == msg.PAYMENTS_MUST_BE_REMOVED
    states = dict(am.SyncRecord.objects.values_list("reference", "state"))
    assert states == {posted.number: "removed", draft.number: "removed", paid.number: "synced"}
    assert export.loads_export(connection=connection).reversed == 0  # done once


def test_a_crash_between_sage_and_the_ledger_leaves_one_invoice(connection, monkeypatch):
    load = make_load(connection)

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(export.services, "ledger_mark_synced", crash)
        with pytest.raises(RuntimeError):
            export.loads_export(connection=connection)
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 1
    # Within the claim's lease another run leaves the document to the one that died.
    assert export.loads_export(connection=connection).skipped == 1
    am.SyncRecord.objects.update(last_attempt_at=timezone.now() - dt.timedelta(minutes=21))

    summary = export.loads_export(connection=connection)

    assert (summary.created, summary.failed) == (1, 0)
    invoice = SandboxRecord.objects.get(object="ARINVOICE")
    record = am.SyncRecord.objects.get()
    assert (invoice.key, record.state, record.record_no) == (load.number, "synced", str(invoice.pk))


def test_a_bill_reversed_in_sage_whose_new_version_cannot_build_waits_for_the_fix(connection):
    from intacct import models as m

    trip = make_trip(connection)
    export.trips_export(connection=connection)
    sandbox_document_reverse(document=SandboxRecord.objects.get(object="APBILL", key=trip.number))
    change_linehaul(trip, "900")
    m.AccountMapping.objects.filter(connection=connection, side="ap").delete()

    assert export.trips_export(connection=connection).failed == 1
    assert open_error(trip).message.endswith("is missing an expense account")
    record = am.SyncRecord.objects.get(document_id=trip.pk)
    assert (record.version, record.state) == (1, "synced")  # still the Sage bill it links

    m.AccountMapping.objects.create(connection=connection, side="ap", gl_account_no="5000")
    assert export.trips_export(connection=connection).created == 1
    assert SandboxRecord.objects.filter(object="APBILL", key=f"{trip.number}-2").count() == 1
