"""Fault injection: Sage and the infrastructure fail on purpose in the middle of a run; the run is
repeated and the final state checked: every document exported exactly once in Sage, every
payment applied exactly once here. Nothing sleeps: backoffs are recorded (`sleeps`)."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connections
from django.db import connection as db

from accounting import models as am
from intacct import export, tasks
from intacct import messages as msg
from intacct import models as m
from intacct.connections.sage import client_for
from intacct.payments import services as payments
from intacct.sandbox.gateway import GatewayResponse
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import (
    sandbox_faults_clear,
    sandbox_faults_set,
    sandbox_sessions_expire,
    sandbox_user_set_active,
)

from .conftest import (
    Timeout,
    assert_exported_exactly_once,
    assert_payments_applied_exactly_once,
    make_load,
    make_trip,
    pay,
    raise_from_callback,
)


def documents(connection, loads=3, trips=2):
    return [make_load(connection) for _ in range(loads)], [
        make_trip(connection) for _ in range(trips)
    ]


def export_all(connection, **kwargs) -> export.ExportSummary:
    total = export.ExportSummary()
    for summary in export.connection_export(connection=connection, **kwargs).values():
        total.add(summary)
    return total


def exported_and_paid(connection):
    """Two loads and a trip exported, each paid in Sage (one load in two payments)."""
    loads, trips = documents(connection, loads=2, trips=1)
    export_all(connection)
    pay(loads[0], Decimal("400.00"), check_number="1001")
    pay(loads[0], Decimal("1000.00"), check_number="1002")
    pay(loads[1], Decimal("100.00"))
    pay(trips[0])
    return loads, trips


def session_requests(requests: list[bytes]) -> int:
    return sum(b"<getAPISession" in body for body in requests)


# --- Sage 5xx bursts ----------------------------------------------------------------------------


def test_a_short_5xx_burst_is_retried_with_backoff_and_nothing_is_doubled(connection, sleeps):
    loads, trips = documents(connection)
    sandbox_faults_set(fail_next=3, fail_status=503)

    summary = export_all(connection)

    assert (summary.created, summary.failed) == (5, 0)
    assert len(sleeps) == 3 and all(0 < s <= 30 for s in sleeps)
    assert_exported_exactly_once(*loads, *trips)
    assert export_all(connection).created == 0
    assert_exported_exactly_once(*loads, *trips)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_outage_longer_than_the_retries_loses_nothing_and_the_next_run_settles_it(
    connection, status
):
    loads, trips = documents(connection)
    client = client_for(connection)
    client.open_session()
    sandbox_faults_set(fail_next=100, fail_status=status)

    summary = export_all(connection, client=client)

    assert summary.created == 0
    assert not SandboxRecord.objects.filter(object__in=["ARINVOICE", "APBILL"]).exists()
    sandbox_faults_clear()
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)


def test_a_5xx_burst_during_the_payment_import_fails_the_run_and_the_next_one_applies_all(
    connection,
):
    exported_and_paid(connection)
    sandbox_faults_set(fail_next=100, fail_status=502)

    failed = payments.payments_import(connection=connection)

    assert failed.status == "failed" and "HTTP 502" in failed.error
    assert not am.Payment.objects.exists()
    sandbox_faults_clear()
    assert payments.payments_import(connection=connection).applied == 4
    assert payments.payments_import(connection=connection).applied == 0
    assert_payments_applied_exactly_once()


# --- 429 with Retry-After -----------------------------------------------------------------------


def test_a_429_waits_what_retry_after_says_then_goes_on(connection, sleeps):
    loads, trips = documents(connection)
    sandbox_faults_set(fail_next=2, fail_status=429, retry_after=7)

    summary = export_all(connection)

    assert sleeps == [7.0, 7.0]
    assert (summary.created, summary.failed) == (5, 0)
    assert_exported_exactly_once(*loads, *trips)


def test_rate_limiting_that_outlasts_the_retries_is_settled_by_the_next_run(connection):
    loads, trips = documents(connection)
    client = client_for(connection)
    client.open_session()
    sandbox_faults_set(fail_next=100, fail_status=429, retry_after=30)

    summary = export_all(connection, client=client)

    # The invoices' batch was refused; the bills' run stopped at its first read (the AP
    # terms their due dates come from), before anything was claimed or sent.
    assert summary.created == 0 and summary.failed == 3
    assert "rate limiting" in am.ErrorTransaction.objects.first().message
    assert any("rate limiting" in error for error in summary.errors)
    sandbox_faults_clear()
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()


def test_a_429_on_the_payment_import_is_waited_out(connection, sleeps):
    exported_and_paid(connection)
    sandbox_faults_set(fail_next=1, fail_status=429, retry_after=5)
    run = payments.payments_import(connection=connection)
    assert (run.status, run.applied, sleeps) == ("succeeded", 4, [5.0])
    assert_payments_applied_exactly_once()


# --- Sage applied the request, its answer was lost ----------------------------------------------


def test_a_524_after_sage_applied_the_batch_is_resent_safely(connection):
    loads, trips = documents(connection)
    client = client_for(connection)
    client.open_session()
    sandbox_faults_set(drop_next=1)  # the first batch is applied, then answered 524

    summary = export_all(connection, client=client)

    assert (summary.created, summary.failed) == (5, 0)
    assert_exported_exactly_once(*loads, *trips)
    assert export_all(connection).created == 0
    assert_exported_exactly_once(*loads, *trips)


def test_a_524_with_no_retry_left_leaves_the_outcome_unknown_until_the_next_run_looks(
    connection, settings, sage_gateway
):
    settings.INTACCT_MAX_RETRIES = 0
    loads, trips = documents(connection)
    client = client_for(connection)
    client.open_session()
    # the invoices and the bills are applied, their answers lost
    sage_gateway.on(
        lambda n, body, answer: GatewayResponse(524, b"", {}) if b"><create" in body else answer
    )

    export_all(connection, client=client)

    assert set(am.SyncRecord.objects.values_list("state", flat=True)) == {"unknown"}
    sage_gateway.rules.clear()
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)


def test_a_timeout_after_sage_applied_the_batch_is_resent_safely(connection, sage_gateway):
    loads, trips = documents(connection)

    @sage_gateway.on
    def time_out_on_the_first_write(n, body, answer):
        if b"<create_invoice>" in body and not getattr(time_out_on_the_first_write, "done", 0):
            time_out_on_the_first_write.done = 1
            return raise_from_callback(Timeout("Read timed out. (read timeout=60)"))
        return answer

    summary = export_all(connection)

    assert time_out_on_the_first_write.done
    assert (summary.created, summary.failed) == (5, 0)
    assert_exported_exactly_once(*loads, *trips)


def test_a_timeout_with_no_retry_left_is_looked_up_by_the_next_run(
    connection, sage_gateway, settings
):
    settings.INTACCT_MAX_RETRIES = 0
    loads, trips = documents(connection)
    sage_gateway.on(
        lambda n, body, answer: (
            raise_from_callback(Timeout("Read timed out.")) if b"<create" in body else answer
        )
    )

    export_all(connection)

    assert set(am.SyncRecord.objects.values_list("state", flat=True)) == {"unknown"}
    assert SandboxRecord.objects.filter(object__in=["ARINVOICE", "APBILL"]).count() == 5
    sage_gateway.rules.clear()
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)


def test_a_timeout_on_a_payment_read_is_retried(connection, sage_gateway, sleeps):
    exported_and_paid(connection)
    sage_gateway.on(
        lambda n, body, answer: (
            raise_from_callback(Timeout("Read timed out."))
            if n == sage_gateway.calls and b"<object>ARPYMT</object>" in body and len(sleeps) < 2
            else answer
        )
    )
    run = payments.payments_import(connection=connection)
    assert (run.status, run.applied, len(sleeps)) == ("succeeded", 4, 2)
    assert_payments_applied_exactly_once()


# --- the session expires mid-run ----------------------------------------------------------------


def test_a_session_expiring_mid_run_signs_in_again_once(connection, sage_gateway, sandbox_requests):
    loads, trips = documents(connection, loads=4, trips=2)
    sage_gateway.on(
        lambda n, body, answer: (
            (sandbox_sessions_expire(), answer)[1] if b"<create_invoice>" in body else answer
        )
    )
    client = client_for(connection)
    sandbox_requests.clear()

    summary = export_all(connection, client=client, batch_size=2)

    assert (summary.created, summary.failed) == (6, 0)
    # the session the connection kept serves until it expires, then one sign-in per expiry
    assert session_requests(sandbox_requests) == 2
    assert_exported_exactly_once(*loads, *trips)


def test_a_session_expiring_during_the_payment_import_loses_nothing(connection, sage_gateway):
    exported_and_paid(connection)
    sage_gateway.on(
        lambda n, body, answer: (
            (sandbox_sessions_expire(), answer)[1]
            if b"<object>ARPYMTDETAIL</object>" in body
            else answer
        )
    )
    run = payments.payments_import(connection=connection)
    assert (run.status, run.applied) == ("succeeded", 4)
    assert_payments_applied_exactly_once()


# --- malformed, truncated and oversized answers -------------------------------------------------


def truncated(answer: GatewayResponse) -> GatewayResponse:
    return GatewayResponse(200, answer.body[: len(answer.body) // 2], answer.headers)


def html(answer: GatewayResponse) -> GatewayResponse:
    return GatewayResponse(200, b"<html><body>Maintenance</body></html>", {})


@pytest.mark.parametrize(("spoil", "says"), [(truncated, "not valid XML"), (html, "no <response>")])
def test_a_spoiled_answer_to_a_write_is_looked_up_by_the_next_run(
    connection, sage_gateway, spoil, says
):
    loads, trips = documents(connection)

    @sage_gateway.on
    def spoil_the_first_write(n, body, answer):
        if b"<create_invoice>" in body and not getattr(spoil_the_first_write, "done", 0):
            spoil_the_first_write.done = 1
            return spoil(answer)
        return answer

    summary = export_all(connection)

    assert summary.failed == 3 and summary.created == 2  # the bills went through
    assert says in am.ErrorTransaction.objects.filter(document_type="load").first().message
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 3  # Sage applied them
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()


@pytest.mark.parametrize("spoil", [truncated, html])
def test_a_spoiled_answer_to_a_payment_read_fails_the_run_and_stores_nothing(
    connection, sage_gateway, spoil
):
    exported_and_paid(connection)
    sage_gateway.on(
        lambda n, body, answer: spoil(answer) if b"<object>APPYMT</object>" in body else answer
    )
    run = payments.payments_import(connection=connection)
    assert run.status == "failed" and "Sage Intacct's answer" in run.error
    assert not am.Payment.objects.exists()
    sage_gateway.rules.clear()
    assert payments.payments_import(connection=connection).applied == 4
    assert_payments_applied_exactly_once()


def test_an_oversized_answer_is_not_read_and_the_next_run_settles_it(connection):
    exported_and_paid(connection)
    client = client_for(connection)
    client.open_session()
    client.max_response_bytes = 1500  # smaller than the page of AR payments

    run = payments.payments_import(connection=connection, client=client)

    assert run.status == "failed" and "is larger than 1500 bytes" in run.error
    assert not am.Payment.objects.exists()
    assert payments.payments_import(connection=connection).applied == 4
    assert_payments_applied_exactly_once()


def test_an_oversized_answer_to_a_write_is_looked_up_by_the_next_run(connection):
    loads, trips = documents(connection)
    client = client_for(connection)
    client.open_session()
    client.max_response_bytes = 600

    export_all(connection, client=client)

    assert "is larger than 600 bytes" in am.ErrorTransaction.objects.first().message
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)


# --- credentials revoked mid-run ----------------------------------------------------------------


def test_credentials_revoked_mid_run_fail_the_rest_without_calling_sage_per_document(
    connection, sage_gateway, sandbox_requests
):
    loads, trips = documents(connection, loads=6, trips=3)
    sandbox_requests.clear()

    @sage_gateway.on
    def revoke_after_the_first_batch(n, body, answer):
        if b"<create_invoice>" in body:
            sandbox_user_set_active(active=False)
        return answer

    summary = export_all(connection, batch_size=2)

    assert summary.created == 2  # the first batch went through
    failed = am.ErrorTransaction.objects.filter(status="failed")
    assert failed.count() == 7
    assert set(failed.values_list("message", flat=True)) == {msg.CLIENT_NOT_INITIALIZED}
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert msg.CLIENT_NOT_INITIALIZED in connection.last_test_message
    # The first batch on the session the connection kept, the refused batch and one sign-in
    # attempt, then one refused sign-in for each other document type: never one call per
    # document.
    enabled = [k for k in export.DOCUMENT_TYPES.values() if export.services._enabled(k, connection)]
    assert len(sandbox_requests) == 3 + len(enabled) - 1
    assert sum(b"<create" in body for body in sandbox_requests) == 2

    sage_gateway.rules.clear()
    sandbox_user_set_active(active=True)
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()
    connection.refresh_from_db()
    assert (connection.last_test_ok, connection.last_test_message) == (True, "Connected.")


def test_credentials_revoked_before_the_run_flag_the_connection(connection, sandbox_requests):
    documents(connection)
    sandbox_user_set_active(active=False)
    client = client_for(connection)

    summary = export_all(connection, client=client)

    assert summary.failed == 5 and summary.created == 0
    # the kept session refused once, then one refused sign-in per document type the
    # connection exports, none per document
    enabled = [k for k in export.DOCUMENT_TYPES.values() if export.services._enabled(k, connection)]
    assert client.requests_sent == 1 + len(enabled)
    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert msg.CLIENT_NOT_INITIALIZED in connection.last_test_message
    assert "Sandbox-Pass" not in connection.last_test_message


def test_credentials_revoked_during_the_payment_import_store_nothing(connection, sage_gateway):
    exported_and_paid(connection)
    sage_gateway.on(
        lambda n, body, answer: (
            (sandbox_user_set_active(active=False), answer)[1]
            if b"<object>ARPYMT</object>" in body
            else answer
        )
    )
    run = payments.payments_import(connection=connection)
    assert run.status == "failed" and not am.Payment.objects.exists()
    sage_gateway.rules.clear()
    sandbox_user_set_active(active=True)
    assert payments.payments_import(connection=connection).applied == 4
    assert_payments_applied_exactly_once()


# --- the database fails mid-batch ---------------------------------------------------------------


class DatabaseDown:
    """Fails the first statement that starts with `start` and holds `part`, as a dropped
    connection would."""

    def __init__(self, start: str, part: str = ""):
        self.start, self.part, self.fired = start, part, False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and sql.startswith(self.start) and self.part in sql:
            self.fired = True
            raise DatabaseError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)  # the application's own transactions, not the test's
def test_the_database_failing_after_sage_applied_a_batch_leaves_evidence_not_a_duplicate(
    connection,
):
    loads, trips = documents(connection)
    # recording RECORDNOs (ledger.ledger_mark_synced: one UPDATE sent with each row's values)
    down = DatabaseDown('UPDATE "accounting_syncrecord" SET "record_no"')

    with db.execute_wrapper(down), pytest.raises(DatabaseError):
        export_all(connection)

    assert down.fired
    pending = am.SyncRecord.objects.filter(state="pending")
    assert pending.count() == 3  # written before sending: the evidence
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 3
    # A rerun inside the crashed run's claim leaves its rows alone ...
    export_all(connection)
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 3
    # ... and once the claim lapsed, the resend meets Sage's duplicate check and links them.
    pending.update(last_attempt_at=pending.first().last_attempt_at - export.CLAIM_LEASE)
    export_all(connection)
    assert_exported_exactly_once(*loads, *trips)


@pytest.mark.django_db(transaction=True)
def test_the_database_failing_while_payments_are_stored_rolls_back_and_the_next_run_applies(
    connection,
):
    loads, _ = exported_and_paid(connection)
    down = DatabaseDown('UPDATE "accounting_load"')  # closing the fully paid load

    with db.execute_wrapper(down), pytest.raises(DatabaseError):
        payments.payments_import(connection=connection)

    assert not am.Payment.objects.exists()  # stored and closed in one transaction
    assert m.PaymentImportRun.objects.get().status == "failed"
    run = payments.payments_import(connection=connection)
    assert (run.applied, run.closed) == (4, 2)
    assert_payments_applied_exactly_once()
    loads[0].refresh_from_db()
    assert loads[0].billing_status == am.BillingStatus.COMPLETED


# --- a cluster worker is killed mid-export; the task is redelivered ------------------------------


class WorkerKilled(BaseException):
    """SIGKILL: nothing below the task gets to handle it."""


def test_a_worker_killed_mid_export_and_the_redelivered_task_export_each_document_once(
    connection, sage_gateway
):
    loads, trips = documents(connection, loads=4, trips=2)

    @sage_gateway.on
    def die_after_sage_applied_the_second_batch(n, body, answer):
        if b"<create_invoice>" in body:
            die_after_sage_applied_the_second_batch.batches += 1
            if die_after_sage_applied_the_second_batch.batches == 2:
                raise WorkerKilled
        return answer

    die_after_sage_applied_the_second_batch.batches = 0
    django_settings.INTACCT_BATCH_SIZE, batch_size = 2, django_settings.INTACCT_BATCH_SIZE
    try:
        with pytest.raises(WorkerKilled):
            tasks.connection_export(connection.pk)
        assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 4

        # The cluster hands the task to another worker once Q_CLUSTER["retry"] has passed.
        retry = dt.timedelta(seconds=django_settings.Q_CLUSTER["retry"])
        rows = am.SyncRecord.objects.filter(state="pending")
        rows.update(last_attempt_at=rows.first().last_attempt_at - retry)
        # By then the dead worker's claim (INTACCT_CLAIM_LEASE_SECONDS, 2 minutes) has lapsed:
        # the redelivered task takes its documents over and links what Sage holds.
        assert retry > export.CLAIM_LEASE
        redelivered = tasks.connection_export(connection.pk)
        assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 4
        assert (redelivered["failed"], redelivered["held"]) == (0, 0)
        assert not am.SyncRecord.objects.filter(state="pending").exists()
    finally:
        django_settings.INTACCT_BATCH_SIZE = batch_size
    assert_exported_exactly_once(*loads, *trips)


# --- two exporters and two importers at once (PostgreSQL) ----------------------------------------


@pytest.mark.skipif(
    db.vendor != "postgresql",
    reason="row claims and row locks under concurrency need PostgreSQL (CI runs it)",
)
@pytest.mark.django_db(transaction=True)
def test_two_exporters_and_two_importers_at_once_export_and_apply_everything_once(connection):
    paid_loads, paid_trips = exported_and_paid(connection)
    loads, trips = documents(connection, loads=20, trips=10)
    failures, results = [], []
    start = threading.Barrier(4)

    def worker(job):
        try:
            start.wait()
            results.append(job())
        except Exception as error:  # surfaced below; a thread cannot fail the test itself
            failures.append(error)
        finally:
            connections.close_all()

    jobs = [
        lambda: export_all(connection, batch_size=5),
        lambda: export_all(connection, batch_size=5),
        lambda: payments.payments_import(connection=connection),
        lambda: payments.payments_import(connection=connection),
    ]
    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert_exported_exactly_once(*paid_loads, *paid_trips, *loads, *trips)
    assert_payments_applied_exactly_once()
    runs = m.PaymentImportRun.objects.all()
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert sum(r.applied for r in runs) == 4
    assert not am.ErrorTransaction.objects.exists()
    assert len(results) == 4
