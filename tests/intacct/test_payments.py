"""Payment import: payments an accountant records in the sandbox come back onto loads, trips and
paystubs, once, and close them when fully paid."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from accounting import models as am
from intacct import export, tasks
from intacct import models as m
from intacct.client import InvoiceLine
from intacct.client import functions as fn
from intacct.connections import services
from intacct.connections.sage import client_for
from intacct.payments import services as payments
from intacct.sandbox import engine
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import (
    sandbox_payment_record,
    sandbox_payment_void,
    sandbox_user_set_active,
)
from tests import factories as f

Run = m.PaymentImportRun


# --- documents exported to the sandbox, and an accountant paying them there ----------------------


def exported_load(connection, **kwargs) -> am.Load:
    """An invoiced load of 1,400.00, exported as a posted Sage invoice."""
    customer = am.Customer.objects.filter(name="Acme Distribution").first()
    if customer is None:
        customer = f.CustomerFactory(name="Acme Distribution")
        f.ExternalIdFactory(
            subsidiary=connection.subsidiary, customer=customer, external_id="C1001"
        )
    load = f.LoadFactory(
        invoice_as_subsidiary=connection.subsidiary,
        customer=customer,
        invoiced_at=timezone.now(),
        **kwargs,
    )
    f.LoadChargeFactory(load=load, kind="linehaul", quantity=Decimal("500"), rate=Decimal("2.5"))
    f.LoadChargeFactory(load=load, kind="accessorial", item_code="DETENTION", rate=Decimal("150"))
    assert export.loads_export(connection=connection, ids=[load.pk]).created == 1
    return load


def exported_trip(connection) -> am.Trip:
    """A trip whose carrier bill of 875.00 (linehaul and lumper) is posted in Sage."""
    carrier = am.Carrier.objects.filter(name="Apex Carriers LLC").first()
    if carrier is None:
        carrier = f.CarrierFactory(name="Apex Carriers LLC")
        f.ExternalIdFactory(
            subsidiary=connection.subsidiary, customer=None, carrier=carrier, external_id="V2001"
        )
    trip = f.TripFactory(
        load=f.LoadFactory(invoice_as_subsidiary=connection.subsidiary),
        subsidiary=connection.subsidiary,
        carrier=carrier,
        carrier_invoice_uploaded_at=timezone.now(),
    )
    f.TripChargeFactory(trip=trip, kind="linehaul", rate=Decimal("800"))
    f.TripChargeFactory(trip=trip, kind="accessorial", item_code="LUMPER", rate=Decimal("75"))
    assert export.trips_export(connection=connection, ids=[trip.pk]).created == 1
    return trip


def sage_document(doc) -> SandboxRecord:
    record = am.SyncRecord.objects.get(document_id=doc.pk, document_type=doc._meta.model_name)
    return SandboxRecord.objects.get(pk=int(record.record_no))


def ledger_points_to(doc, document_type: str, other) -> SandboxRecord:
    """Make the ledger say that the Sage document exported for `doc` is `other`'s (a paystub,
    a summary invoice, a settlement), as their exporters record it."""
    sage = sage_document(doc)
    am.SyncRecord.objects.filter(record_no=str(sage.pk)).update(
        document_type=document_type, document_id=other.pk, reference=other.number
    )
    return sage


def pay(document: SandboxRecord, amount=None, **kwargs) -> SandboxRecord:
    document.refresh_from_db()
    return sandbox_payment_record(document=document, amount=amount, **kwargs)


def detail_of(payment: SandboxRecord) -> SandboxRecord:
    return SandboxRecord.objects.get(
        object=f"{payment.object}DETAIL", data__PAYMENTKEY=str(payment.pk)
    )


def backdate(payment: SandboxRecord, days: int) -> None:
    """As if the payment (and its details) were last changed in Sage `days` ago."""
    when = timezone.now() - dt.timedelta(days=days)
    for record in [payment, detail_of(payment)]:
        engine.save(record, when)


def import_payments(connection, **kwargs) -> Run:
    return payments.payments_import(connection=connection, **kwargs)


def counts(run: Run) -> tuple:
    return (run.fetched, run.applied, run.duplicates, run.skipped, run.unmatched, run.closed)


# --- storing payments and closing documents ----------------------------------------------------


def test_a_full_check_payment_is_stored_on_the_load_which_becomes_completed(connection):
    load = exported_load(connection)
    sage = pay(
        sage_document(load),
        method="check",
        check_number="10045",
        memo="Thanks for your business",
        paid_on=dt.date(2026, 11, 20),
    )

    run = import_payments(connection=connection)

    payment = am.Payment.objects.get()
    assert (
        payment.load,
        payment.amount,
        payment.paid_on,
        payment.method,
        payment.check_number,
        payment.reference,
        payment.note,
        payment.source,
        payment.connection,
        payment.sage_payment_id,
        payment.sage_detail_id,
    ) == (
        load,
        Decimal("1400.00"),
        dt.date(2026, 11, 20),
        "check",
        "10045",
        "10045",
        "Thanks for your business",
        "imported",
        connection,
        str(sage.pk),
        str(detail_of(sage).pk),
    )
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED
    assert (run.status, run.error) == ("succeeded", "")
    assert counts(run) == (1, 1, 0, 0, 0, 1)


def test_ap_payments_mark_the_trip_and_the_paystub_paid(connection):
    trip = exported_trip(connection)
    paystub = f.PaystubFactory(subsidiary=connection.subsidiary)
    stub_bill = ledger_points_to(exported_trip(connection), "paystub", paystub)
    pay(sage_document(trip), method="ach", check_number="ACH-7781")
    pay(stub_bill, method="credit_card", memo="Week 46")

    run = import_payments(connection=connection)

    on_trip, on_stub = trip.payments.get(), paystub.payments.get()
    assert (on_trip.method, on_trip.check_number, on_trip.reference, on_trip.amount) == (
        "ach",
        "",
        "ACH-7781",
        Decimal("875.00"),
    )
    assert (on_stub.method, on_stub.note, on_stub.amount) == ("credit_card", "Week 46", 875)
    assert on_stub.reference == on_stub.sage_payment_id  # no reference in Sage: its number
    trip.refresh_from_db()
    paystub.refresh_from_db()
    assert (trip.status, paystub.status) == ("paid", "paid")
    assert counts(run) == (2, 2, 0, 0, 0, 2)


def test_re_running_an_import_changes_nothing(connection):
    load, trip = exported_load(connection), exported_trip(connection)
    pay(sage_document(load), amount=Decimal("400"))
    pay(sage_document(trip))
    first = import_payments(connection=connection)
    stored = list(am.Payment.objects.values_list("pk", "amount", "sage_detail_id"))

    again = import_payments(connection=connection)
    backfill = import_payments(connection=connection, since=timezone.localdate())

    assert list(am.Payment.objects.values_list("pk", "amount", "sage_detail_id")) == stored
    assert counts(first) == (2, 2, 0, 0, 0, 1)
    assert counts(again) == counts(backfill) == (2, 0, 2, 0, 0, 0)
    assert not am.ErrorTransaction.objects.exists()


def test_a_partial_payment_is_recorded_and_the_payment_of_the_rest_closes_the_load(connection):
    load = exported_load(connection)
    pay(sage_document(load), amount=Decimal("400.00"))

    import_payments(connection=connection)
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.INVOICED
    assert list(load.payments.values_list("amount", flat=True)) == [Decimal("400.00")]

    pay(sage_document(load), amount=Decimal("1000.00"), method="eft")
    run = import_payments(connection=connection)
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED
    assert sorted(load.payments.values_list("amount", "method")) == [
        (Decimal("400.00"), "check"),
        (Decimal("1000.00"), "eft"),
    ]
    assert (run.applied, run.duplicates, run.closed) == (1, 1, 1)


def test_a_closed_document_takes_no_later_payment_from_sage(connection):
    load = exported_load(connection)
    am.Load.objects.filter(pk=load.pk).update(billing_status=am.BillingStatus.COMPLETED)
    pay(sage_document(load))

    run = import_payments(connection=connection)

    assert not am.Payment.objects.exists()
    assert run.skipped_reasons == {payments.SKIP_CLOSED: 1}


# --- voids -----------------------------------------------------------------------------------------


def test_a_payment_voided_in_sage_after_import_is_flagged_for_support_not_reversed(connection):
    load = exported_load(connection)
    sage = pay(sage_document(load), check_number="10046")
    import_payments(connection=connection)
    payment = am.Payment.objects.get()

    sandbox_payment_void(payment=sage)
    run = import_payments(connection=connection)

    payment.refresh_from_db()
    load.refresh_from_db()
    assert payment.voided_in_sage_at is not None
    assert payment.amount == Decimal("1400.00")  # kept: support decides
    assert load.billing_status == am.BillingStatus.COMPLETED
    error = am.ErrorTransaction.objects.get()
    assert (
        error.entity_type,
        error.transaction_type,
        error.subsidiary,
        error.document_type,
        error.document_id,
        error.reference,
        error.total,
        error.status,
    ) == (
        "Payment",
        "Customer Payment",
        connection.subsidiary,
        "payment",
        payment.pk,
        load.number,
        Decimal("1400.00"),
        "failed",
    )
    assert error.message == payments.PAYMENT_VOIDED.format(
        transaction_type="Customer Payment",
        reference="10046",
        amount=Decimal("1400.00"),
        document=load.number,
    )
    assert run.voided == 1

    again = import_payments(connection=connection)
    assert (again.voided, again.duplicates) == (0, 1)
    assert am.ErrorTransaction.objects.count() == 1


def test_a_payment_voided_before_it_was_imported_is_skipped(connection):
    load = exported_load(connection)
    sandbox_payment_void(payment=pay(sage_document(load)))

    run = import_payments(connection=connection)

    assert not am.Payment.objects.exists()
    assert not am.ErrorTransaction.objects.exists()
    assert run.skipped_reasons == {payments.SKIP_VOIDED_BEFORE_IMPORT: 1}
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.INVOICED


# --- the window ------------------------------------------------------------------------------------


def audited_client(connection):
    sent = []
    return client_for(connection, audit=sent.append), sent


def test_the_window_is_the_lookback_read_by_when_modified(connection):
    load = exported_load(connection)
    recent = pay(sage_document(load), amount=Decimal("100"))
    old = pay(sage_document(load), amount=Decimal("200"))
    backdate(recent, days=7)
    backdate(old, days=11)
    client, sent = audited_client(connection)

    run = import_payments(connection=connection, client=client)

    assert list(am.Payment.objects.values_list("amount", flat=True)) == [Decimal("100.00")]
    assert timezone.now() - run.window_start - dt.timedelta(days=8) < dt.timedelta(minutes=1)
    assert not run.backfill
    # whole days, with a day of margin for Sage's clock
    since = (timezone.localdate() - dt.timedelta(days=9)).strftime("%m/%d/%Y")
    payment_query = next(r.request_xml for r in sent if "<object>ARPYMT</object>" in r.request_xml)
    assert (
        "<greaterthanorequalto><field>WHENMODIFIED</field>"
        f"<value>{since}</value></greaterthanorequalto>"
    ) in payment_query

    m.AdvancedSettings.objects.filter(connection=connection).update(payment_lookback_days=12)
    import_payments(connection=connection)
    assert sorted(am.Payment.objects.values_list("amount", flat=True)) == [100, 200]


def test_a_gap_longer_than_the_lookback_loses_nothing(connection):
    now = timezone.now()
    last_success = Run.objects.create(
        connection=connection,
        window_start=now - dt.timedelta(days=28),
        window_end=now - dt.timedelta(days=20),
        started_at=now - dt.timedelta(days=20),
        status=Run.Status.SUCCEEDED,
    )
    # neither a failed run nor a backfill since then moves the window
    for status, backfill in ((Run.Status.FAILED, False), (Run.Status.SUCCEEDED, True)):
        Run.objects.create(
            connection=connection,
            backfill=backfill,
            window_start=now - dt.timedelta(days=10),
            window_end=now - dt.timedelta(days=2),
            started_at=now - dt.timedelta(days=2),
            status=status,
        )
    load = exported_load(connection)
    backdate(pay(sage_document(load), amount=Decimal("250")), days=15)

    run = import_payments(connection=connection)

    assert run.window_start == last_success.started_at
    assert list(am.Payment.objects.values_list("amount", flat=True)) == [Decimal("250.00")]
    # this run closed the gap: the next window is the lookback again
    later = timezone.now() + dt.timedelta(hours=12)
    assert payments.payment_window_start(connection=connection, now=later) == (
        later - dt.timedelta(days=8)
    )


def test_before_any_import_the_window_reaches_back_to_the_activation(connection):
    m.Connection.objects.filter(pk=connection.pk).update(
        activated_at=timezone.now() - dt.timedelta(days=30)
    )
    connection.refresh_from_db()
    load = exported_load(connection)
    backdate(pay(sage_document(load), amount=Decimal("250")), days=25)

    run = import_payments(connection=connection)

    assert run.window_start == connection.activated_at
    assert run.applied == 1


def test_the_command_imports_now_or_backfills_an_older_range(connection):
    load = exported_load(connection)
    backdate(pay(sage_document(load), amount=Decimal("300")), days=40)
    out = io.StringIO()

    call_command("intacct_import_payments", "--subsidiary", "RF", stdout=out)
    assert not am.Payment.objects.exists()
    assert "succeeded, 0 fetched, 0 applied" in out.getvalue()

    day = timezone.localdate() - dt.timedelta(days=40)
    call_command(
        "intacct_import_payments",
        "--since",
        (day - dt.timedelta(days=3)).isoformat(),
        "--until",
        (day + dt.timedelta(days=3)).isoformat(),
        stdout=out,
    )
    assert "1 fetched, 1 applied, 0 duplicates" in out.getvalue()
    assert am.Payment.objects.get().amount == Decimal("300.00")
    backfill = Run.objects.first()
    assert (backfill.backfill, backfill.trigger) == (True, "command")
    # a backfill does not count as the last import for the scheduled window
    assert payments.payment_window_start(connection=connection, now=timezone.now()) < (
        backfill.started_at
    )


def test_the_command_refuses_an_unknown_subsidiary_and_a_reversed_range(connection):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No active Sage Intacct connection for XX"):
        call_command("intacct_import_payments", "--subsidiary", "XX")
    with pytest.raises(CommandError, match="--until is before --since"):
        call_command("intacct_import_payments", "--since", "2026-02-01", "--until", "2026-01-01")


# --- runs interrupted by a killed worker --------------------------------------------------------


class WorkerKilled(BaseException):
    """SIGKILL: nothing below the task gets to handle it."""


def killed_import(connection, monkeypatch, where: str) -> Run:
    """An import whose worker dies in `where` (a step of the service); returns its run, left
    Running as the dead worker left it."""

    def die(*args, **kwargs):
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr(payments, where, die)
        with pytest.raises(WorkerKilled):
            import_payments(connection=connection)
    return Run.objects.get()


def as_if_started_ago(run: Run, delta: dt.timedelta) -> None:
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - delta)


def past_the_task_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=settings.Q_CLUSTER["timeout"]) + payments.REAP_MARGIN


def test_a_run_whose_worker_died_after_storing_is_reaped_and_its_window_read_again(
    connection, monkeypatch
):
    m.Connection.objects.filter(pk=connection.pk).update(
        activated_at=timezone.now() - dt.timedelta(days=30)
    )
    connection.refresh_from_db()
    loads = [exported_load(connection), exported_load(connection)]
    for load in loads:
        pay(sage_document(load), amount=Decimal("100"))
    dead = killed_import(connection, monkeypatch, "_finish")  # stored, then killed
    assert dead.status == Run.Status.RUNNING and am.Payment.objects.count() == 2
    as_if_started_ago(dead, past_the_task_timeout() + dt.timedelta(minutes=1))
    pay(sage_document(loads[0]), amount=Decimal("50"))  # paid again meanwhile

    run = import_payments(connection=connection)

    dead.refresh_from_db()
    assert dead.status == Run.Status.FAILED and dead.finished_at is not None
    assert dead.error == payments.RUN_INTERRUPTED.format(
        minutes=int(past_the_task_timeout().total_seconds() // 60) + 1
    )
    # its window is read again: nothing lost, nothing applied twice
    assert run.window_start == dead.window_start == connection.activated_at
    assert (run.status, run.fetched, run.applied, run.duplicates) == ("succeeded", 3, 1, 2)
    assert sorted(am.Payment.objects.values_list("amount", flat=True)) == [50, 100, 100]


def test_a_run_whose_worker_died_while_reading_is_reaped_and_the_next_applies_all(
    connection, monkeypatch
):
    pay(sage_document(exported_load(connection)), amount=Decimal("100"))
    pay(sage_document(exported_trip(connection)))
    dead = killed_import(connection, monkeypatch, "_apply")
    assert not am.Payment.objects.exists()
    as_if_started_ago(dead, past_the_task_timeout() + dt.timedelta(seconds=1))

    run = import_payments(connection=connection)

    dead.refresh_from_db()
    assert dead.status == Run.Status.FAILED and dead.error.startswith("Interrupted")
    assert (run.status, run.applied) == ("succeeded", 2)
    assert am.Payment.objects.count() == 2


def test_a_run_still_within_the_task_timeout_is_live_and_left_running(connection):
    pay(sage_document(exported_load(connection)), amount=Decimal("100"))
    now = timezone.now()
    live = Run.objects.create(
        connection=connection,
        window_start=now - dt.timedelta(days=8),
        window_end=now,
        started_at=now - past_the_task_timeout() + dt.timedelta(minutes=1),
    )
    other = m.Connection.objects.exclude(pk=connection.pk).first()
    elsewhere = (
        Run.objects.create(
            connection=other,
            window_start=now - dt.timedelta(days=8),
            window_end=now,
            started_at=now - dt.timedelta(days=1),
        )
        if other
        else None
    )

    assert import_payments(connection=connection).applied == 1

    live.refresh_from_db()
    assert (live.status, live.error) == (Run.Status.RUNNING, "")
    if elsewhere:  # another connection's runs are its own imports' business
        elsewhere.refresh_from_db()
        assert elsewhere.status == Run.Status.RUNNING


def test_an_interrupted_run_shows_as_failed_in_the_run_log(admin_client, connection, monkeypatch):
    dead = killed_import(connection, monkeypatch, "_apply")
    as_if_started_ago(dead, past_the_task_timeout() + dt.timedelta(minutes=2))
    import_payments(connection=connection)

    page = admin_client.get(reverse("admin:intacct_paymentimportrun_changelist"))
    assert page.status_code == 200
    assert "Failed" in page.text and "Interrupted: the worker running this import" in page.text
    detail = admin_client.get(reverse("admin:intacct_paymentimportrun_change", args=[dead.pk]))
    assert "The next import reads its window again." in detail.text


# --- what is not imported -------------------------------------------------------------------------


def test_summary_invoices_and_settlements_are_never_updated_and_say_why(connection):
    summary = f.SummaryInvoiceFactory(subsidiary=connection.subsidiary)
    carrier_settlement = f.CarrierSettlementFactory(subsidiary=connection.subsidiary)
    driver_settlement = f.DriverSettlementFactory(subsidiary=connection.subsidiary)
    pay(ledger_points_to(exported_load(connection), "summary_invoice", summary))
    pay(ledger_points_to(exported_trip(connection), "carrier_settlement", carrier_settlement))
    pay(ledger_points_to(exported_trip(connection), "driver_settlement", driver_settlement))

    run = import_payments(connection=connection)

    assert not am.Payment.objects.exists()
    assert (run.fetched, run.skipped, run.applied, run.closed) == (3, 3, 0, 0)
    assert run.skipped_reasons == {
        payments.SKIP_SUMMARY_INVOICE: 1,
        payments.SKIP_CARRIER_SETTLEMENT: 1,
        payments.SKIP_DRIVER_SETTLEMENT: 1,
    }


def test_payments_on_documents_we_did_not_export_are_ignored(connection):
    client = client_for(connection)
    (created,) = client.execute(
        [
            fn.create_invoice(
                controlid="typed-in-sage",
                customer_id="C1001",
                date_created=timezone.localdate(),
                term_name="Net 30",
                invoice_no="SAGE-ONLY-1",
                custom_fields={"LOAD_NUMBER": "none"},
                lines=[InvoiceLine(amount=Decimal("500"), glaccountno="4000")],
            )
        ]
    )
    pay(SandboxRecord.objects.get(pk=int(created.key)))
    load = exported_load(connection)
    pay(sage_document(load), amount=Decimal("10"))

    run = import_payments(connection=connection)

    assert list(am.Payment.objects.values_list("load", flat=True)) == [load.pk]
    assert (run.fetched, run.applied, run.unmatched, run.skipped) == (2, 1, 1, 0)


# --- cost --------------------------------------------------------------------------------------


def test_payments_are_read_page_after_page(connection):
    loads = [exported_load(connection) for _ in range(5)]
    for load in loads:
        pay(sage_document(load))
    client, sent = audited_client(connection)

    run = import_payments(connection=connection, client=client, page_size=2)

    assert run.applied == 5
    assert sorted(am.Payment.objects.values_list("load", flat=True)) == sorted(
        load.pk for load in loads
    )
    assert am.Load.objects.filter(billing_status="completed").count() == 5
    offsets = [
        r.request_xml.split("<offset>")[1].split("<")[0]
        for r in sent
        if "<object>ARPYMT</object>" in r.request_xml
    ]
    assert offsets == ["0", "2", "4"]
    # 3 pages each of payments, details and invoices + one page of AP payments, on the
    # session the connection kept
    assert run.requests == client.requests_sent == 10


def _measure(connection, loads: int) -> tuple[int, int]:
    for _ in range(loads):
        pay(sage_document(exported_load(connection)), amount=Decimal("100"))
        pay(sage_document(exported_trip(connection)), amount=Decimal("100"))
    client = client_for(connection)
    with CaptureQueriesContext(db) as queries:
        run = import_payments(connection=connection, client=client)
    assert run.applied == 2 * loads
    am.Payment.objects.all().delete()
    SandboxRecord.objects.filter(object__in=["ARPYMT", "APPYMT"]).update(state="V")
    return client.requests_sent, len(queries)


def test_requests_and_queries_do_not_grow_with_the_number_of_payments(connection):
    few = _measure(connection, 1)
    SandboxRecord.objects.filter(object__in=["ARPYMT", "APPYMT"]).delete()
    SandboxRecord.objects.filter(object__in=["ARPYMTDETAIL", "APPYMTDETAIL"]).delete()
    many = _measure(connection, 6)
    assert few == many
    assert few[0] == 6  # payments, details and documents for AR and for AP


# --- failures, schedule, task, admin ---------------------------------------------------------


def test_a_sage_failure_fails_the_run_with_the_message_and_stores_nothing(connection):
    load = exported_load(connection)
    pay(sage_document(load))
    sandbox_user_set_active(active=False)

    run = import_payments(connection=connection)

    assert run.status == "failed"
    assert "Sign-in" in run.error or "sign-in" in run.error
    assert not am.Payment.objects.exists()
    # the failed run does not move the next window
    sandbox_user_set_active(active=True)
    assert import_payments(connection=connection).applied == 1


def test_activation_schedules_the_payment_import_every_12_hours_and_pausing_removes_it(
    connection,
):
    schedule = Schedule.objects.get(name="Sage Intacct payment import: RF")
    assert (schedule.func, schedule.args, schedule.minutes, schedule.repeats) == (
        "intacct.tasks.connection_payments_import",
        str(connection.pk),
        720,
        -1,
    )
    assert tasks.schedules_ensure() == 1
    assert Schedule.objects.filter(func=tasks.PAYMENT_TASK).count() == 1
    services.connection_set_primary_sync(connection=connection, on=False)
    assert not Schedule.objects.filter(func=tasks.PAYMENT_TASK).exists()
    assert tasks.connection_payments_import(connection.pk) == {"skipped": "connection not active"}


def test_the_task_is_thin_and_safe_to_run_twice(connection):
    pay(sage_document(exported_load(connection)))
    first = tasks.connection_payments_import(connection.pk)
    second = tasks.connection_payments_import(connection.pk)
    assert (first["status"], first["applied"], second["applied"]) == ("succeeded", 1, 0)
    assert am.Payment.objects.count() == 1
    assert Run.objects.filter(trigger="schedule").count() == 2


def test_the_run_log_is_listed_in_the_admin_at_a_constant_cost(admin_client, connection):
    pay(ledger_points_to(exported_load(connection), "summary_invoice", f.SummaryInvoiceFactory()))
    run = import_payments(connection=connection)
    url = reverse("admin:intacct_paymentimportrun_changelist")

    with CaptureQueriesContext(db) as one:
        page = admin_client.get(url)
    assert page.status_code == 200
    assert "RF" in page.text and "Succeeded" in page.text
    for _ in range(4):
        import_payments(connection=connection)
    with CaptureQueriesContext(db) as five:
        assert admin_client.get(url).status_code == 200
    assert len(one) == len(five)

    detail = admin_client.get(reverse("admin:intacct_paymentimportrun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert f"1: {payments.SKIP_SUMMARY_INVOICE}" in detail.text
    assert admin_client.get(reverse("admin:intacct_paymentimportrun_add")).status_code == 403


def test_marking_a_voided_payment_synced_leaves_the_ledger_and_later_imports_alone(
    connection, admin_user
):
    from intacct.errors import kinds
    from intacct.errors import services as error_transactions

    load = exported_load(connection)
    invoice = sage_document(load)
    pay(invoice, amount=Decimal("100.00"))
    import_payments(connection=connection)
    sandbox_payment_void(payment=SandboxRecord.objects.get(object="ARPYMT"))
    import_payments(connection=connection)
    error = am.ErrorTransaction.objects.get(document_type="payment")
    where, url = kinds.error_transaction_where_to_retry(error=error)
    assert where == kinds.PAYMENT_NOT_RETRYABLE
    assert url == reverse("admin:accounting_payment_change", args=[error.document_id])

    assert error_transactions.error_transactions_mark_synced(errors=[error], user=admin_user) == 1
    assert list(am.SyncRecord.objects.values_list("document_type", flat=True)) == ["load"]
    pay(invoice)  # the rest, after support settled the void
    run = import_payments(connection=connection)
    load.refresh_from_db()
    assert run.applied == 1
    assert load.billing_status == am.BillingStatus.COMPLETED
