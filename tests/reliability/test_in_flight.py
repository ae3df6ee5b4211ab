"""Export with several requests in flight (INTACCT_REQUESTS_IN_FLIGHT): the sender threads,
against the sandbox, on committed data (the sandbox answers on the sender thread's own
database connection, which cannot see a test transaction).

The final state must be what one request at a time gives: every document once in Sage and
linked in the ledger, whatever happened to one of the requests on the wire.
"""

import datetime as dt
import threading
import time

import pytest
import requests
from django.db import connection as db
from django.db import connections
from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct.sandbox.models import SandboxRecord

from .conftest import assert_exported_exactly_once, make_load, raise_from_callback

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The sandbox writes on the sender threads' connections while the exporting thread writes
    # the ledger: SQLite's shared in-memory test database locks whole tables for that.
    pytest.mark.skipif(
        db.vendor != "postgresql", reason="sender threads need PostgreSQL here (CI runs it)"
    ),
]

BATCH = 5


class Wire:
    """Watches the requests on the wire: how many at once, on which threads, and the
    database connections the sender threads opened."""

    def __init__(self, sage_gateway, *, hold: float = 0.15):
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.threads: set[str] = set()
        self.thread_connections = []

        @sage_gateway.before
        def enter(n, body):
            if b"create_invoice" in body:
                with self.lock:
                    self.now += 1
                    self.most = max(self.most, self.now)
                    self.threads.add(threading.current_thread().name)
                    self.thread_connections.append(connections["default"])
                time.sleep(hold)  # Sage's latency: long enough for the next batch to overlap
            return None

        @sage_gateway.on
        def leave(n, body, answer):
            if b"create_invoice" in body:
                with self.lock:
                    self.now -= 1
            return answer


@pytest.fixture
def in_flight(settings):
    settings.INTACCT_REQUESTS_IN_FLIGHT = 2
    return 2


def lapse() -> None:
    long_ago = timezone.now() - dt.timedelta(days=1)
    am.SyncRecord.objects.exclude(last_attempt_at=None).update(last_attempt_at=long_ago)


def test_two_requests_go_out_at_once_and_each_load_reaches_sage_once(
    connection, sage_gateway, in_flight
):
    loads = [make_load(connection) for _ in range(6 * BATCH)]
    wire = Wire(sage_gateway)
    ledger_writers = set()

    def watch(execute, sql, params, many, context):
        if "accounting_syncrecord" in sql and sql.startswith("UPDATE"):
            ledger_writers.add(threading.current_thread().name)
        return execute(sql, params, many, context)

    with db.execute_wrapper(watch):
        summary = export.loads_export(connection=connection, batch_size=BATCH)

    assert summary.created == len(loads) and summary.failed == 0
    assert wire.most == in_flight, "requests went out one at a time"
    assert all(name.startswith("intacct-send") for name in wire.threads)
    # The ledger is written on the exporting thread's own connection, never a sender's.
    assert ledger_writers == {threading.current_thread().name}
    assert wire.thread_connections and all(c.connection is None for c in wire.thread_connections), (
        "a sender thread left its database connection open"
    )
    assert_exported_exactly_once(*loads)


def test_the_limit_holds_however_many_batches(connection, sage_gateway, settings):
    settings.INTACCT_REQUESTS_IN_FLIGHT = 3
    loads = [make_load(connection) for _ in range(8 * BATCH)]
    wire = Wire(sage_gateway, hold=0.1)

    summary = export.loads_export(connection=connection, batch_size=BATCH)

    assert summary.created == len(loads)
    assert wire.most == 3
    assert_exported_exactly_once(*loads)


def test_one_batchs_answer_lost_while_the_other_in_flight_succeeds(
    connection, sage_gateway, in_flight, sleeps
):
    loads = [make_load(connection) for _ in range(4 * BATCH)]
    Wire(sage_gateway)
    second = loads[BATCH].number.encode()  # in the second batch: on the wire with the first

    @sage_gateway.on
    def lose(n, body, answer):
        if second in body:  # Sage applied it; the answer never arrives, resends included
            return raise_from_callback(requests.ConnectionError("Remote end closed connection"))
        return answer

    summary = export.loads_export(connection=connection, batch_size=BATCH)

    assert summary.created == 3 * BATCH
    assert summary.failed == BATCH  # unknown: looked up by the next run
    states = dict(am.SyncRecord.objects.values_list("document_id", "state"))
    assert [states[load.pk] for load in loads[BATCH : 2 * BATCH]] == ["unknown"] * BATCH
    assert {states[load.pk] for load in loads[:BATCH] + loads[2 * BATCH :]} == {"synced"}
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == len(loads)

    sage_gateway.rules.remove(lose)
    for load in loads[BATCH : 2 * BATCH]:
        load.save()
    again = export.loads_export(connection=connection, batch_size=BATCH)

    assert again.created == BATCH
    assert_exported_exactly_once(*loads)
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()


class WorkerKilled(BaseException):
    """SIGKILL: nothing below the task gets to handle it."""


def test_a_worker_killed_with_two_requests_on_the_wire_loses_nothing(
    connection, sage_gateway, in_flight
):
    loads = [make_load(connection) for _ in range(4 * BATCH)]
    Wire(sage_gateway)
    second = loads[BATCH].number.encode()

    @sage_gateway.on
    def kill(n, body, answer):
        if second in body:  # applied in Sage; the worker dies before the ledger hears of it
            raise WorkerKilled
        return answer

    with pytest.raises(WorkerKilled):
        export.loads_export(connection=connection, batch_size=BATCH)

    sage_gateway.rules.remove(kill)
    lapse()  # the dead run's claims run out
    for load in loads:
        load.save()
    export.loads_export(connection=connection, batch_size=BATCH)

    assert_exported_exactly_once(*loads)
    assert not am.SyncRecord.objects.exclude(state="synced").exists()
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()


def test_two_exporters_with_requests_in_flight_send_each_load_once(connection, in_flight):
    loads = [make_load(connection) for _ in range(8 * BATCH)]
    summaries, failures = [], []
    start = threading.Barrier(2)

    def exporter():
        try:
            start.wait()
            summaries.append(export.loads_export(connection=connection, batch_size=BATCH))
        except Exception as error:  # surfaced below; a thread cannot fail the test itself
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=exporter) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert sum(s.created for s in summaries) == len(loads)
    assert_exported_exactly_once(*loads)
    assert not am.ErrorTransaction.objects.exists()
