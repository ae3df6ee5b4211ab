"""Reconcile with Sage: each kind of drift an accountant can make in the sandbox (reverse, edit,
delete, pay, create by hand with our number) shows in the report with its fix, opens one Error
Transaction per document, and goes away (the error closed) once both sides agree."""

import datetime as dt
import functools
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.models import Schedule

from accounting import models as am
from intacct import tasks
from intacct.client import IntacctClient, InvoiceLine
from intacct.client import functions as fn
from intacct.client.errors import IntacctError
from intacct.connections import sage
from intacct.connections.sage import client_for
from intacct.errors import drift
from intacct.errors.fixes import error_transaction_fix
from intacct.errors.kinds import error_transaction_retryable_here
from intacct.reconcile import services as reconcile
from intacct.reconcile.models import ReconcileFinding, ReconcileRun
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import (
    sandbox_document_reverse,
    sandbox_faults_set,
    sandbox_user_set_active,
)
from tests.intacct.sandbox_routing import make_client

from .test_payments import exported_load, exported_trip, pay, sage_document

Kind = ReconcileFinding.Kind
Error = am.ErrorTransaction


def run(connection, **kwargs) -> ReconcileRun:
    return reconcile.connection_reconcile(connection=connection, **kwargs)


def found(result: ReconcileRun) -> list[tuple]:
    return sorted(
        (f.kind, f.sage_number, f.document_type, f.document_id) for f in result.findings.all()
    )


def accountant():
    """Someone working in Sage itself: the same company and entity, another session."""
    return make_client(location_id="E100")


def open_drift_errors():
    return Error.objects.filter(
        status=Error.Status.FAILED, details__0__description=drift.DRIFT_DESCRIPTION
    )


# --- agreement ----------------------------------------------------------------------------------


def test_documents_exported_and_untouched_are_in_agreement(connection):
    exported_load(connection)
    exported_trip(connection)

    result = run(connection)

    assert result.status == ReconcileRun.Status.SUCCEEDED
    assert result.in_agreement
    assert (result.ledger_documents, result.sage_documents, result.counts) == (2, 2, {})
    assert not Error.objects.exists()


# --- each kind of drift, built by an accountant in the sandbox -------------------------------


def test_an_invoice_reversed_in_sage_is_reported_with_one_error(connection):
    load = exported_load(connection)
    sandbox_document_reverse(document=sage_document(load))

    result = run(connection)

    assert found(result) == [(Kind.REVERSED, load.number, "load", load.pk)]
    finding = result.findings.get()
    assert finding.message == drift.REVERSED.format(
        label=f"AR invoice {load.number} (RECORDNO {sage_document(load).pk})",
        document=f"Load {load.number}",
    )
    error = Error.objects.get()
    assert (error.document_type, error.document_id, error.entity_type, error.status) == (
        "load",
        load.pk,
        "Load",
        Error.Status.FAILED,
    )
    assert error.message == finding.message
    assert finding.error_id == error.pk
    fix = error_transaction_fix(error=error)
    assert fix.key == "drift_reversed"
    assert reverse("admin:intacct_reconcile", args=[connection.pk]) in [
        link.url for link in fix.links
    ]
    assert not error_transaction_retryable_here(error=error)  # re-sending changes nothing


def test_an_amount_edited_in_sage_is_reported_with_both_totals(connection):
    load = exported_load(connection)
    invoice = sage_document(load)
    accountant().call(
        fn.update_invoice(
            controlid="edit-1",
            key=str(invoice.pk),
            update_lines={2: InvoiceLine(amount=Decimal("100.00"), glaccountno="4025")},
        )
    )

    result = run(connection)

    assert found(result) == [(Kind.DIFFERS, load.number, "load", load.pk)]
    assert result.findings.get().differences == [["total", "1350.00", "1400.00"]]
    assert "the total is 1350.00 in Sage, 1400.00 in the TMS" in Error.objects.get().message


def test_a_bill_whose_vendor_and_date_changed_in_sage_lists_each_difference(connection):
    trip = exported_trip(connection)
    bill = sage_document(trip)
    accountant().call(
        fn.update(
            "APBILL",
            {
                "RECORDNO": str(bill.pk),
                "VENDORID": "V2002",
                "WHENCREATED": dt.date(2026, 1, 5),
                "WHENDUE": dt.date(2026, 2, 4),
            },
            controlid="edit-2",
        )
    )

    result = run(connection)

    assert found(result) == [(Kind.DIFFERS, trip.number, "trip", trip.pk)]
    fields = [d[0] for d in result.findings.get().differences]
    assert fields == ["party", "date", "due"]
    assert result.findings.get().differences[0] == ["party", "V2002", "V2001"]


def test_a_document_deleted_in_sage_is_reported_missing(connection):
    load = exported_load(connection)
    invoice = sage_document(load)
    accountant().call(fn.delete_invoice(controlid="delete-1", key=str(invoice.pk)))

    result = run(connection)

    assert found(result) == [(Kind.MISSING, load.number, "load", load.pk)]
    assert Error.objects.get().message.startswith(
        f"AR invoice {load.number} (RECORDNO {invoice.pk}) was exported for Load {load.number}"
    )


def test_a_document_paid_in_sage_is_imported_on_request_and_the_error_closes(connection):
    load = exported_load(connection)
    pay(sage_document(load))

    first = run(connection)
    assert found(first) == [(Kind.PAID, load.number, "load", load.pk)]
    assert "is not Completed in the TMS" in first.findings.get().message
    assert open_drift_errors().count() == 1

    imported = reconcile.reconcile_payments_import(run=first)

    assert (imported.status, imported.applied, imported.closed, imported.backfill) == (
        "succeeded",
        1,
        1,
        True,
    )
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED
    after = run(connection)
    assert after.in_agreement
    error = Error.objects.get()
    assert (error.status, error.resolution) == (
        Error.Status.RESOLVED,
        Error.Resolution.IN_AGREEMENT,
    )
    with pytest.raises(reconcile.ReconcileError, match="no document paid in Sage"):
        reconcile.reconcile_payments_import(run=after)


def test_an_invoice_created_by_hand_with_our_number_is_foreign(connection):
    load = exported_load(connection)
    other = exported_load(connection)
    # the accountant types a second invoice with the first load's number (a copy)
    reply = accountant().call(
        fn.create_invoice(
            controlid="by-hand-1",
            customer_id="C1001",
            date_created=dt.date(2026, 3, 1),
            term_name="Net 30",
            invoice_no=load.number,
            custom_fields={"LOAD_NUMBER": load.number},
            lines=[InvoiceLine(amount=Decimal("10"), glaccountno="4000")],
        )
    )
    copy = SandboxRecord.objects.get(pk=int(reply.key))

    result = run(connection)

    assert found(result) == [(Kind.FOREIGN, load.number, "load", load.pk)]
    error = Error.objects.get()
    assert (error.document_type, error.document_id, error.entity_type) == (
        "sage_arinvoice",
        copy.pk,
        "Sage invoice",
    )
    assert f"carries the Ledgerline number of Load {load.number}" in error.message
    assert other.pk != load.pk
    assert error_transaction_fix(error=error).key == "drift_foreign"


def test_the_error_transaction_page_of_drift_shows_its_fix_and_no_retry(admin_client, connection):
    load = exported_load(connection)
    sandbox_document_reverse(document=sage_document(load))
    run(connection)
    error = open_drift_errors().get()

    page = admin_client.get(
        reverse("admin:accounting_errortransaction_change", args=[error.pk])
    ).content.decode()

    assert reverse("admin:intacct_reconcile", args=[connection.pk]) in page
    assert drift.NOT_RETRYABLE.split(":")[0] in page


def test_an_invoice_typed_in_sage_for_a_load_never_exported_is_foreign(connection):
    load = exported_load(connection)
    am.SyncRecord.objects.all().delete()  # as if Ledgerline never exported it
    result = run(connection)

    assert found(result) == [(Kind.FOREIGN, load.number, "load", load.pk)]


def test_a_document_whose_answer_was_lost_is_unlinked_and_linked_on_request(connection):
    load = exported_load(connection)
    invoice = sage_document(load)
    # Sage applied the create but its answer was lost: the ledger has no RECORDNO
    am.SyncRecord.objects.update(record_no="", state=am.SyncRecord.State.UNKNOWN)
    Error.objects.create(
        entity_type="Load",
        transaction_type="Invoice",
        subsidiary=connection.subsidiary,
        document_type="load",
        document_id=load.pk,
        reference=load.number,
        message="Sage Intacct did not answer",
    )

    result = run(connection)
    assert found(result) == [(Kind.UNLINKED, load.number, "load", load.pk)]
    finding = result.findings.get()
    # the export's own error stays the document's one open error
    assert Error.objects.get().message == "Sage Intacct did not answer"

    record = reconcile.reconcile_link(finding=finding)

    assert (record.state, record.record_no) == ("synced", str(invoice.pk))
    assert Error.objects.get().status == Error.Status.RESOLVED
    finding.refresh_from_db()
    assert finding.resolution.startswith("Linked by")
    with pytest.raises(reconcile.ReconcileError, match="already handled"):
        reconcile.reconcile_link(finding=finding)
    assert run(connection).in_agreement


def test_linking_refuses_a_document_gone_from_sage_meanwhile(connection):
    load = exported_load(connection)
    invoice = sage_document(load)
    am.SyncRecord.objects.update(record_no="", state=am.SyncRecord.State.FAILED)
    finding = run(connection).findings.get()
    accountant().call(fn.delete_invoice(controlid="delete-2", key=str(invoice.pk)))

    with pytest.raises(reconcile.ReconcileError, match="no longer in Sage Intacct as it was"):
        reconcile.reconcile_link(finding=finding)
    assert am.SyncRecord.objects.get().record_no == ""


def test_a_row_an_export_is_sending_right_now_is_left_to_it(connection):
    exported_load(connection)
    am.SyncRecord.objects.update(
        record_no="", state=am.SyncRecord.State.PENDING, last_attempt_at=dt.datetime.now(dt.UTC)
    )

    assert run(connection).in_agreement


# --- errors: one per document, never twice, closed when the drift is gone ---------------------


def test_a_second_run_opens_no_second_error_and_agreement_closes_it(connection):
    load = exported_load(connection)
    trip = exported_trip(connection)
    invoice = sage_document(load)
    accountant().call(
        fn.update_invoice(
            controlid="edit-3",
            key=str(invoice.pk),
            update_lines={1: InvoiceLine(amount=Decimal("1300.00"), glaccountno="4000")},
        )
    )
    sandbox_document_reverse(document=sage_document(trip))

    run(connection)
    second = run(connection)

    assert second.counts == {Kind.DIFFERS: 1, Kind.REVERSED: 1}
    assert open_drift_errors().count() == 2
    assert Error.objects.count() == 2
    # the accountant puts the invoice back; the reversed bill stays
    accountant().call(
        fn.update_invoice(
            controlid="edit-4",
            key=str(invoice.pk),
            update_lines={1: InvoiceLine(amount=Decimal("1250.00"), glaccountno="4000")},
        )
    )
    third = run(connection)

    assert third.counts == {Kind.REVERSED: 1}
    closed = Error.objects.get(document_type="load")
    assert (closed.status, closed.resolution) == ("resolved", "in_agreement")
    assert open_drift_errors().get().document_type == "trip"


def test_a_drift_that_changes_kind_updates_its_error(connection):
    load = exported_load(connection)
    invoice = sage_document(load)
    accountant().call(
        fn.update_invoice(
            controlid="edit-5",
            key=str(invoice.pk),
            update_lines={1: InvoiceLine(amount=Decimal("1300.00"), glaccountno="4000")},
        )
    )
    run(connection)
    sandbox_document_reverse(document=SandboxRecord.objects.get(pk=invoice.pk))

    run(connection)

    error = open_drift_errors().get()
    assert error.message.startswith(f"AR invoice {load.number}")
    assert "was reversed in Sage Intacct" in error.message
    assert Error.objects.count() == 1


# --- cost: pages of readByQuery, a constant number of queries ----------------------------------


def test_sage_is_read_in_read_by_query_pages(connection):
    for _ in range(5):
        exported_load(connection)
    sent = []
    client = client_for(connection, audit=sent.append)

    result = run(connection, client=client, page_size=2)

    assert result.in_agreement
    functions = [
        tag
        for record in sent
        for tag in ("readByQuery", "readMore")
        if f"<{tag}>" in record.request_xml
    ]
    # ARINVOICE: 5 documents in pages of 2 (one readByQuery, two readMore); APBILL: one page
    assert functions == ["readByQuery", "readMore", "readMore", "readByQuery"]
    # plus one read of Sage's AR terms for the due dates
    assert result.requests == client.requests_sent == 5


def _measure(connection, documents: int) -> tuple[int, int]:
    loads = []
    for _ in range(documents):
        loads.append(exported_load(connection))
        exported_trip(connection)
    sandbox_document_reverse(document=sage_document(loads[0]))
    client = client_for(connection)
    with CaptureQueriesContext(db) as queries:
        result = run(connection, client=client)
    assert result.counts == {Kind.REVERSED: 1}
    am.SyncRecord.objects.all().delete()
    SandboxRecord.objects.filter(object__in=["ARINVOICE", "APBILL"]).delete()
    am.ErrorTransaction.objects.all().delete()
    return client.requests_sent, len(queries)


def test_requests_and_queries_do_not_grow_with_the_number_of_documents(connection):
    few = _measure(connection, 2)
    many = _measure(connection, 8)
    assert few == many


# --- the page, the command, the schedule ---------------------------------------------------------


def test_the_report_page_groups_the_drift_and_links_each_document(admin_client, connection):
    load = exported_load(connection)
    trip = exported_trip(connection)
    sandbox_document_reverse(document=sage_document(trip))
    pay(sage_document(load))
    url = reverse("admin:intacct_reconcile", args=[connection.pk])

    response = admin_client.post(reverse("admin:intacct_reconcile_now", args=[connection.pk]))
    assert response.status_code == 302
    page = admin_client.get(url).content.decode()

    assert 'id="drift-paid"' in page
    assert 'id="drift-reversed"' in page
    assert reverse("admin:accounting_load_change", args=[load.pk]) in page
    assert reverse("admin:accounting_trip_change", args=[trip.pk]) in page
    assert "Import payments" in page
    change = admin_client.get(reverse("admin:intacct_connection_change", args=[connection.pk]))
    text = change.content.decode()
    assert "Reconcile with Sage" in text
    assert "Linked, but reversed in Sage: <strong>1</strong>" in text

    response = admin_client.post(
        reverse("admin:intacct_reconcile_import_payments", args=[connection.pk]), follow=True
    )
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED
    said = [str(message) for message in response.context["messages"]]
    assert said == [
        "Payments imported from Sage Intacct: 1 applied, 1 document(s) closed, 0 already "
        "imported, 0 skipped, 0 not ours. The report below is a new reconcile."
    ]
    page = admin_client.get(url).content.decode()
    assert 'id="drift-paid"' not in page


def test_link_on_the_page(admin_client, connection):
    load = exported_load(connection)
    am.SyncRecord.objects.update(record_no="", state=am.SyncRecord.State.FAILED)
    finding = run(connection).findings.get()

    response = admin_client.post(
        reverse("admin:intacct_reconcile_link", args=[connection.pk]),
        {"finding": finding.pk},
        follow=True,
    )

    assert f"now linked to Load {load.number}" in response.content.decode()
    assert am.SyncRecord.objects.get().record_no == str(sage_document(load).pk)


def test_the_report_page_costs_the_same_queries_for_more_findings(admin_client, connection):
    def queries() -> int:
        url = reverse("admin:intacct_reconcile", args=[connection.pk])
        with CaptureQueriesContext(db) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    sandbox_document_reverse(document=sage_document(exported_load(connection)))
    run(connection)
    few = queries()
    for _ in range(4):
        sandbox_document_reverse(document=sage_document(exported_load(connection)))
    assert run(connection).counts == {Kind.REVERSED: 5}
    assert queries() == few


def test_the_command_prints_the_drift_or_the_agreement(connection):
    load = exported_load(connection)
    out = io.StringIO()
    call_command("intacct_reconcile", stdout=out)
    assert "RF Ridgeline Freight: in agreement (1 ledger rows" in out.getvalue()

    sandbox_document_reverse(document=sage_document(load))
    out = io.StringIO()
    call_command("intacct_reconcile", "--subsidiary", "RF", stdout=out)
    assert "drift found" in out.getvalue()
    assert "Linked, but reversed in Sage: 1" in out.getvalue()

    with pytest.raises(CommandError, match="No active Sage Intacct connection for XX"):
        call_command("intacct_reconcile", "--subsidiary", "XX")


def test_a_sage_failure_fails_the_run_and_changes_nothing(connection):
    load = exported_load(connection)
    sandbox_document_reverse(document=sage_document(load))
    run(connection)
    sandbox_user_set_active(active=False)  # the Web Services user was revoked in Sage

    result = run(connection, client=make_client(location_id="E100"))

    assert result.status == ReconcileRun.Status.FAILED
    assert result.error
    assert open_drift_errors().count() == 1  # the earlier drift stays open


def test_activation_schedules_a_daily_reconcile_and_the_task_is_thin(connection, settings):
    schedule = Schedule.objects.get(name="Sage Intacct reconcile: RF")
    assert (schedule.func, schedule.minutes) == (tasks.RECONCILE_TASK, 24 * 60)
    load = exported_load(connection)
    sandbox_document_reverse(document=sage_document(load))

    first = tasks.connection_reconcile(connection.pk)
    second = tasks.connection_reconcile(connection.pk)

    assert first["counts"] == second["counts"] == {Kind.REVERSED: 1}
    assert open_drift_errors().count() == 1


# --- faults: Sage not answering, a worker killed mid-run ------------------------------------------


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The backoffs the application's clients would have slept (none is slept)."""
    slept: list[float] = []
    monkeypatch.setattr(sage, "IntacctClient", functools.partial(IntacctClient, sleep=slept.append))
    return slept


def test_a_page_whose_answer_is_lost_is_read_again_and_the_run_is_the_same(connection, sleeps):
    load = exported_load(connection)
    sandbox_document_reverse(document=sage_document(load))
    client = sage.client_for(connection)
    sandbox_faults_set(drop_next=1)  # the first readByQuery is answered with 524, no data

    result = run(connection, client=client)

    assert result.counts == {Kind.REVERSED: 1}
    assert open_drift_errors().count() == 1
    assert len(sleeps) == 1  # one retry after a backoff


def test_sage_down_past_the_retries_fails_the_run_and_leaves_the_errors_as_they_were(
    connection, sleeps
):
    load = exported_load(connection)
    sandbox_document_reverse(document=sage_document(load))
    run(connection)
    sandbox_faults_set(fail_next=20, fail_status=503)

    failed = run(connection)

    assert failed.status == ReconcileRun.Status.FAILED
    assert "503" in failed.error or "unavailable" in failed.error.lower()
    assert not failed.findings.exists()
    assert open_drift_errors().count() == 1  # not closed for lack of an answer
    assert reconcile.reconcile_last(connection=connection) == failed


def test_a_worker_killed_before_storing_leaves_a_running_row_and_the_next_run_settles(
    connection, monkeypatch
):
    load = exported_load(connection)
    sandbox_document_reverse(document=sage_document(load))

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the worker is stopped between Sage's answer and the writes

    monkeypatch.setattr(ReconcileFinding.objects, "bulk_create", killed)
    with pytest.raises(KeyboardInterrupt):
        run(connection)
    monkeypatch.undo()

    interrupted = ReconcileRun.objects.get()
    assert interrupted.status == ReconcileRun.Status.RUNNING
    assert not Error.objects.exists()  # the error writes rolled back with the findings
    assert reconcile.reconcile_last(connection=connection) is None

    settled = run(connection)

    assert settled.counts == {Kind.REVERSED: 1}
    assert open_drift_errors().count() == 1


def test_linking_when_sage_does_not_answer_links_nothing(connection, sleeps):
    exported_load(connection)
    am.SyncRecord.objects.update(record_no="", state=am.SyncRecord.State.UNKNOWN)
    finding = run(connection).findings.get()
    sandbox_faults_set(fail_next=20, fail_status=503)

    with pytest.raises(IntacctError):
        reconcile.reconcile_link(finding=finding)

    assert am.SyncRecord.objects.get().record_no == ""
    finding.refresh_from_db()
    assert finding.resolved_at is None
