"""The payment import streams Sage's pages into a staging table and applies them in one
transaction: faults while staging or applying leave nothing applied, the staged rows of a dead
run are cleaned up, and two runs at once keep to their own rows. Final state checked each time:
every Sage payment detail applied exactly once."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection as db
from django.utils import timezone

from accounting import models as am
from intacct import models as m
from intacct.payments import services as payments
from intacct.sandbox.services import sandbox_faults_set

from .conftest import assert_payments_applied_exactly_once, pay
from .test_faults import exported_and_paid


class WorkerKilled(BaseException):
    """SIGKILL: nothing below the task gets to handle it."""


def staged(run=None) -> int:
    rows = m.PaymentDetailStage.objects.all()
    return (rows.filter(run=run) if run else rows).count()


def past_the_reap_time(run: m.PaymentImportRun) -> None:
    """Move a run's start back beyond the task timeout and the margin: its worker is gone."""
    timeout = dt.timedelta(seconds=django_settings.Q_CLUSTER["timeout"])
    m.PaymentImportRun.objects.filter(pk=run.pk).update(
        started_at=run.started_at - timeout - payments.REAP_MARGIN - dt.timedelta(minutes=1)
    )


def test_a_worker_killed_mid_staging_applies_nothing_and_the_next_run_reads_again(
    connection, sage_gateway, monkeypatch
):
    exported_and_paid(connection)
    monkeypatch.setattr(payments, "STAGE_BATCH", 1)  # each detail staged as it arrives

    @sage_gateway.before
    def die_reading_the_vendor_payments(n, body):
        if b"<object>APPYMT</object>" in body:
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        payments.payments_import(connection=connection)

    dead = m.PaymentImportRun.objects.get()
    assert dead.status == "running"
    assert staged(dead) == 3  # the customer payments' details, read before it died
    assert not am.Payment.objects.exists()
    assert not am.Load.objects.filter(billing_status=am.BillingStatus.COMPLETED).exists()

    sage_gateway.before_rules.clear()
    past_the_reap_time(dead)
    run = payments.payments_import(connection=connection)

    dead.refresh_from_db()
    assert dead.status == "failed" and dead.error.startswith("Interrupted")
    assert (run.status, run.fetched, run.applied, run.closed) == ("succeeded", 4, 4, 2)
    assert staged() == 0  # the dead run's rows and the new run's own
    assert_payments_applied_exactly_once()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_apply_rolls_back_every_chunk_already_stored(connection, monkeypatch):
    exported_and_paid(connection)
    monkeypatch.setattr(payments, "APPLY_CHUNK", 1)  # a chunk per detail: 4 inserts

    def die_at_the_third_insert(execute, sql, params, many, context):
        # SQLite says INSERT OR IGNORE INTO, PostgreSQL INSERT INTO ... ON CONFLICT
        if sql.startswith("INSERT") and 'INTO "accounting_payment" ' in sql:
            die_at_the_third_insert.inserts += 1
            if die_at_the_third_insert.inserts == 3:
                raise WorkerKilled
        return execute(sql, params, many, context)

    die_at_the_third_insert.inserts = 0
    with db.execute_wrapper(die_at_the_third_insert), pytest.raises(WorkerKilled):
        payments.payments_import(connection=connection)

    assert die_at_the_third_insert.inserts == 3
    assert not am.Payment.objects.exists()  # two chunks were stored, then rolled back
    dead = m.PaymentImportRun.objects.get()
    assert staged(dead) == 4
    past_the_reap_time(dead)
    run = payments.payments_import(connection=connection)
    assert (run.applied, run.closed) == (4, 2)
    assert staged() == 0
    assert_payments_applied_exactly_once()


def test_a_run_still_within_the_task_timeout_keeps_its_staged_rows(
    connection, sage_gateway, monkeypatch
):
    """A second import while the first is reading (a command beside the schedule): each reads
    into its own rows; the second leaves the first's alone, and the first then finds the
    payments the second applied and counts them as duplicates."""
    exported_and_paid(connection)
    monkeypatch.setattr(payments, "STAGE_BATCH", 1)
    inner = []

    @sage_gateway.before
    def a_second_import_while_the_first_reads_vendor_payments(n, body):
        if b"<object>APPYMT</object>" in body and not inner:
            inner.append("reading")
            first = m.PaymentImportRun.objects.get()
            assert staged(first) == 3
            inner.append(payments.payments_import(connection=connection))
            assert staged(first) == 3  # untouched by the second run and its reaping

    first = payments.payments_import(connection=connection)

    second = inner[1]
    assert (second.applied, second.closed) == (4, 2)
    assert (first.status, first.fetched, first.applied, first.duplicates) == (
        "succeeded",
        4,
        0,
        4,
    )
    assert staged() == 0
    assert_payments_applied_exactly_once()


def test_details_spread_over_many_chunks_apply_and_close_as_one_window(connection, monkeypatch):
    loads, _ = exported_and_paid(connection)
    monkeypatch.setattr(payments, "STAGE_BATCH", 3)
    monkeypatch.setattr(payments, "APPLY_CHUNK", 1)

    run = payments.payments_import(connection=connection, page_size=1)

    # loads[0] is paid by two details in two chunks: the first chunk's payment does not
    # close it before the second is stored, and it closes once, at the end.
    assert (run.fetched, run.applied, run.skipped, run.closed) == (4, 4, 0, 2)
    loads[0].refresh_from_db()
    assert loads[0].billing_status == am.BillingStatus.COMPLETED
    assert am.Payment.objects.filter(load=loads[0]).count() == 2
    assert staged() == 0
    assert_payments_applied_exactly_once()


def test_a_sage_error_while_staging_fails_the_run_and_leaves_no_staged_rows(
    connection, sage_gateway
):
    exported_and_paid(connection)

    @sage_gateway.before
    def refuse_the_vendor_payments(n, body):
        if b"<object>APPYMT</object>" in body:
            sandbox_faults_set(fail_next=100, fail_status=503)

    run = payments.payments_import(connection=connection)

    assert run.status == "failed" and run.fetched == 0
    assert staged() == 0 and not am.Payment.objects.exists()


def test_a_later_payment_after_a_dead_run_is_imported_with_the_rest(connection, sage_gateway):
    """The floor of the window is the last successful run: a run that died moves nothing."""
    loads, _ = exported_and_paid(connection)

    @sage_gateway.before
    def die_staging(n, body):
        if b"<object>APPYMT</object>" in body:
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        payments.payments_import(connection=connection)
    sage_gateway.before_rules.clear()
    dead = m.PaymentImportRun.objects.get()
    past_the_reap_time(dead)
    pay(loads[1], Decimal("50.00"))
    m.PaymentImportRun.objects.filter(pk=dead.pk).update(
        window_start=timezone.now() - dt.timedelta(days=30)
    )

    run = payments.payments_import(connection=connection)

    assert run.applied == 5
    assert_payments_applied_exactly_once()
