"""The fault matrix: every write path by every fault point, run until settled.

Each scenario builds a small mixed batch for one write path, arms one fault on the request
that path sends (or, for the payment import, reads), then runs the export (or the import)
again and again, a bounded number of times, moving claims past their lease and runs past the
task timeout between runs as the clock would. The final state must hold whatever happened:
every document once in Sage and linked in the ledger, every payment applied once, every run's
summary equal to what it did to the ledger and what Sage holds, no Error Transaction left open
for a settled document, no import run left Running.

A fault hits the targeted request once (the client's retry absorbs it) or for longer than the
client's retries (`outlasting`: the run ends with it and the next run settles it); a killed
worker and a database failing after the send happen once. The randomized version draws fault
sequences over a mixed batch of every path: 15 examples per CI run, the same each run;
`MATRIX_EXAMPLES=200` draws that many at random.
"""

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import requests
from django.db import DatabaseError, transaction
from django.db import connection as db
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting import models as am
from intacct import export
from intacct import models as m
from intacct.connections import services
from intacct.payments import services as payments
from intacct.sandbox import engine
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_faults_clear, sandbox_faults_set
from tests import factories as f

from .conftest import (
    Timeout,
    assert_exported_exactly_once,
    assert_payments_applied_exactly_once,
    make_load,
    make_trip,
    pay,
    raise_from_callback,
)

RETRIES = 1  # the client's retries in the matrix: a fault "outlasts" them after 2 attempts
MAX_RUNS = 5  # runs after the faulted one before a scenario must be settled
SAGE_DOCUMENTS = ["ARINVOICE", "APBILL"]


class WorkerKilled(BaseException):
    """SIGKILL: nothing below the task gets to handle it."""


# --- fault points ------------------------------------------------------------------------------


REFUSED = (
    "HTTPSConnectionPool: Failed to establish a new connection: [Errno 111] Connection refused"
)
DROPPED = "('Connection aborted.', RemoteDisconnected('Remote end closed connection'))"


@dataclass
class Fault:
    """One fault point, armed on the first request holding `target`, for `times` requests
    (the first and its resends)."""

    kind: str
    target: bytes = b""
    times: int = 1
    hits: int = 0
    db_down: bool = False  # armed by "db_error": the next application write fails
    last: bytes = b""  # the request struck last: only its resends are struck again

    def matches(self, body: bytes) -> bool:
        if self.hits >= self.times or self.target not in body:
            return False
        return not self.hits or self.last == body

    def before(self, n, body):
        """Faults that stop the request before Sage applies it."""
        if self.kind not in ("lost_before", "5xx_burst") or not self.matches(body):
            return None
        self.hits += 1
        self.last = body
        if self.kind == "lost_before":
            return raise_from_callback(requests.ConnectionError(REFUSED))
        sandbox_faults_set(fail_next=1, fail_status=503)
        return None  # the sandbox answers 503 without applying it

    def after(self, n, body, answer):
        """Faults that strike once Sage applied the request."""
        if self.kind in ("lost_before", "5xx_burst") or not self.matches(body):
            return answer
        self.hits += 1
        self.last = body
        if self.kind == "answer_lost":
            return raise_from_callback(requests.ConnectionError(DROPPED))
        if self.kind == "524":
            return type(answer)(524, b"", {})
        if self.kind == "timeout":
            return raise_from_callback(Timeout("Read timed out. (read timeout=60)"))
        if self.kind == "worker_killed":
            raise WorkerKilled
        if self.kind == "db_error":
            self.db_down = True
        return answer

    def __call__(self, execute, sql, params, many, context):
        """The database wrapper: once armed, the next write of the application fails."""
        if (
            self.db_down
            and sql.split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE")
            and "sandbox_" not in sql
        ):
            self.db_down = False
            raise DatabaseError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


ONCE_OR_LONGER = ["lost_before", "answer_lost", "5xx_burst", "524", "timeout"]
ONCE = ["worker_killed", "db_error"]
FAULT_POINTS = [
    *[(kind, times) for kind in ONCE_OR_LONGER for times in ("once", "outlasting")],
    *[(kind, "once") for kind in ONCE],
]


# --- write paths -------------------------------------------------------------------------------


def change_linehaul(document, rate: str) -> None:
    line = document.lines.get(kind="linehaul")
    line.rate = Decimal(rate)
    line.save()
    document.save()


def exported(connection, doc):
    export.connection_export(connection=connection)
    assert am.SyncRecord.objects.get(document_id=doc.pk, role="").state == "synced"
    return SandboxRecord.objects.get(
        pk=int(am.SyncRecord.objects.get(document_id=doc.pk, role="").record_no)
    )


@dataclass
class Scenario:
    """The documents a path exports, what the finished state must show besides them."""

    loads: list = field(default_factory=list)
    trips: list = field(default_factory=list)
    party: object = None  # an auto-created customer or carrier
    changed: object = None  # a load updated in place or reversed and recreated
    expected_total: str = ""
    payments: bool = False
    reversed: bool = False


def ar_create(connection) -> Scenario:
    return Scenario(loads=[make_load(connection), make_load(connection)])


def ap_create(connection) -> Scenario:
    return Scenario(trips=[make_trip(connection), make_trip(connection)])


def draft_update(connection) -> Scenario:
    load = make_load(connection)
    invoice = exported(connection, load)
    invoice.state = engine.DRAFT
    engine.save(invoice, timezone.now())
    change_linehaul(load, "3")
    return Scenario(loads=[load, make_load(connection)], changed=load, expected_total="1650.00")


def reverse(connection) -> Scenario:
    load = make_load(connection)
    exported(connection, load)
    change_linehaul(load, "3")
    return Scenario(
        loads=[load, make_load(connection)], changed=load, expected_total="1650.00", reversed=True
    )


def net30_retry(connection) -> Scenario:
    customer = f.CustomerFactory(name="Blue River Grocers")
    f.ExternalIdFactory(subsidiary=connection.subsidiary, customer=customer, external_id="C1002")
    m.CustomPaymentTerm.objects.create(connection=connection, customer=customer, term_name="Net 45")
    return Scenario(loads=[make_load(connection, customer=customer), make_load(connection)])


def customer_create(connection) -> Scenario:
    services.connection_update_settings(
        connection=connection, ar={"auto_create_customer": True, "name_matching_fallback": False}
    )
    customer = f.CustomerFactory(name="Valley Fresh Farms")
    return Scenario(
        loads=[make_load(connection, customer=customer), make_load(connection)], party=customer
    )


def vendor_create(connection) -> Scenario:
    services.connection_update_settings(
        connection=connection, ap={"auto_create_vendor": True, "name_matching_fallback": False}
    )
    carrier = f.CarrierFactory(name="Prairie Line Haulers")
    return Scenario(
        trips=[make_trip(connection, carrier=carrier), make_trip(connection)], party=carrier
    )


def payment_import(connection) -> Scenario:
    loads, trips = [make_load(connection), make_load(connection)], [make_trip(connection)]
    export.connection_export(connection=connection)
    pay(loads[0], Decimal("400.00"), check_number="1001")
    pay(loads[0], Decimal("1000.00"), check_number="1002")
    pay(loads[1], Decimal("100.00"))
    pay(trips[0])
    return Scenario(loads=loads, trips=trips, payments=True)


# path → (its setup, the request its fault strikes)
PATHS = {
    "AR create": (ar_create, b"<create_invoice>"),
    "AP create": (ap_create, b"<APBILL>"),
    "update of a Draft": (draft_update, b"<update_invoice"),
    "reverse": (reverse, b"<reverse_invoice"),
    "recreate": (reverse, b"<create_invoice>"),
    "Net 30 retry": (net30_retry, b"-net30"),
    "customer auto-create": (customer_create, b"<CUSTOMER>"),
    "vendor auto-create": (vendor_create, b"<VENDOR>"),
    "payment import": (payment_import, b"<object>ARPYMTDETAIL</object>"),
}

# Cells that fail until the matching fix of issue 16 is merged (strict: they must then pass).
# Found by the matrix, open: Sage applied an update in place or a reversal, then its answer was
# lost past the retries, the worker died or the ledger write failed; the next runs never settle
# the document (the update is refused again and again) or link more than Sage holds.


# --- running until settled ---------------------------------------------------------------------


@dataclass
class Outcome:
    runs: int = 0
    wrong_summaries: list = field(default_factory=list)
    observed_created: int = 0


def _ledger_state() -> dict[int, tuple]:
    return {
        pk: (state, record_no, synced_at)
        for pk, state, record_no, synced_at in am.SyncRecord.objects.values_list(
            "pk", "state", "record_no", "synced_at"
        )
    }


def _changes(before: dict, after: dict) -> tuple[int, int]:
    """(rows newly linked to a Sage document, rows synced again on the same document: also a
    row a dead run left pending on its Sage document, which the next run settles as a change)."""
    created = updated = 0
    for pk, (state, record_no, synced_at) in after.items():
        if state != "synced":
            continue
        old = before.get(pk)
        if old is None or old[1] != record_no:
            created += 1
        elif old[0] != "synced" or old[2] != synced_at:
            updated += 1
    return created, updated


def lapse() -> None:
    """What time does between two scheduled runs of a crashed worker: claims past any lease,
    Running import runs past the task timeout."""
    long_ago = timezone.now() - dt.timedelta(days=1)
    am.SyncRecord.objects.exclude(last_attempt_at=None).update(last_attempt_at=long_ago)
    m.PaymentImportRun.objects.filter(status="running").update(started_at=long_ago)


def _sage_last() -> int:
    return SandboxRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def export_once(connection, outcome: Outcome, fault: Fault | None) -> export.ExportSummary | None:
    before, sage_before = _ledger_state(), _sage_last()
    summary = None
    try:
        with db.execute_wrapper(fault or (lambda execute, *args: execute(*args))):
            summary = export.ExportSummary()
            for part in export.connection_export(connection=connection).values():
                summary.add(part)
    except (WorkerKilled, DatabaseError):
        summary = None  # the task died: it reports nothing
    created, updated = _changes(before, _ledger_state())
    outcome.observed_created += created
    if summary is not None and (summary.created, summary.updated) != (created, updated):
        outcome.wrong_summaries.append(
            f"run {outcome.runs}: reported {summary.created} created, {summary.updated} "
            f"updated; the ledger shows {created} and {updated}"
        )
    # What Sage got from this run is reported created, or left unknown for the next run.
    got = (
        SandboxRecord.objects.filter(object__in=SAGE_DOCUMENTS, pk__gt=sage_before)
        .exclude(state="Reversal")
        .count()
    )
    unknown = am.SyncRecord.objects.filter(state="unknown").count()
    if summary is not None and got > summary.created + unknown:
        outcome.wrong_summaries.append(
            f"run {outcome.runs}: Sage got {got} documents, the run reported {summary.created} "
            f"created and {unknown} unknown"
        )
    return summary


def import_once(connection, outcome: Outcome, fault: Fault | None) -> m.PaymentImportRun | None:
    stored = am.Payment.objects.count()
    run = None
    try:
        with db.execute_wrapper(fault or (lambda execute, *args: execute(*args))):
            run = payments.payments_import(connection=connection)
    except (WorkerKilled, DatabaseError):
        run = m.PaymentImportRun.objects.order_by("-pk").first()
    applied = am.Payment.objects.count() - stored
    if run.status != "running" and run.applied != applied:
        outcome.wrong_summaries.append(
            f"import {run.pk}: reported {run.applied} applied, {applied} stored"
        )
    return run


def quiet(summary: export.ExportSummary | None) -> bool:
    return summary is not None and not (
        summary.created
        or summary.updated
        or summary.reversed
        or summary.failed
        or summary.skipped
        or summary.errors
    )


def settle(connection, scenario: Scenario, fault: Fault | None) -> Outcome:
    """The faulted run, then runs until one has nothing left to do (at most MAX_RUNS)."""
    outcome = Outcome()
    while outcome.runs <= MAX_RUNS:
        outcome.runs += 1
        armed = fault if outcome.runs == 1 else None
        if scenario.payments:
            run = import_once(connection, outcome, armed)
            done = run.status == "succeeded" and run.applied == 0 and outcome.runs > 1
        else:
            done = quiet(export_once(connection, outcome, armed)) and outcome.runs > 1
        if fault and fault.kind in ("5xx_burst",):
            sandbox_faults_clear()
        lapse()
        if done:
            break
    return outcome


def assert_settled(scenario: Scenario, outcome: Outcome, sage_before: int) -> None:
    assert outcome.runs <= MAX_RUNS, "not settled within the bounded runs"
    assert outcome.wrong_summaries == []
    if scenario.payments:
        assert_payments_applied_exactly_once()
        assert not m.PaymentImportRun.objects.filter(status="running").exists()
        return
    if scenario.changed is None:
        assert_exported_exactly_once(*scenario.loads, *scenario.trips)
    else:
        assert_exported_exactly_once(*[d for d in scenario.loads if d != scenario.changed])
        _assert_changed_once(scenario)
    new_in_sage = (
        SandboxRecord.objects.filter(object__in=SAGE_DOCUMENTS, pk__gt=sage_before)
        .exclude(state="Reversal")
        .count()
    )
    assert outcome.observed_created == new_in_sage, "the ledger links fewer than Sage holds"
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()
    if scenario.party is not None:
        _assert_party_created_once(scenario.party)


def _assert_changed_once(scenario: Scenario) -> None:
    load = scenario.changed
    record = am.SyncRecord.objects.get(document_type="load", document_id=load.pk, role="")
    assert record.state == "synced"
    current = SandboxRecord.objects.get(pk=int(record.record_no))
    assert (current.state, current.data["TOTALENTERED"]) in {
        ("Posted", scenario.expected_total),
        (engine.DRAFT, scenario.expected_total),
    }
    numbers = [load.number, f"{load.number}-R", f"{load.number}-2"]
    versions = SandboxRecord.objects.filter(object="ARINVOICE", key__in=numbers)
    if scenario.reversed:
        assert sorted(versions.values_list("state", flat=True)) == [
            "Posted",
            "Reversal",
            "Reversed",
        ]
    else:
        assert versions.count() == 1


def _assert_party_created_once(party) -> None:
    is_customer = isinstance(party, am.Customer)
    sage_object = "CUSTOMER" if is_customer else "VENDOR"
    created = SandboxRecord.objects.filter(object=sage_object, data__NAME=party.name)
    assert created.count() == 1, f"{party.name} created {created.count()} times in Sage"
    subsidiary = am.SyncRecord.objects.first().connection.subsidiary
    assert party.external_accounting_id(subsidiary) == created.get().key


# --- the matrix ----------------------------------------------------------------------------------


def cells():
    for path in PATHS:
        for kind, times in FAULT_POINTS:
            # the application's own transactions, not the test's, as in test_faults.py
            marks = [pytest.mark.django_db(transaction=True)] if kind == "db_error" else []
            yield pytest.param(path, kind, times, id=f"{path}-{kind}-{times}", marks=marks)


@pytest.fixture
def few_retries(settings):
    settings.INTACCT_MAX_RETRIES = RETRIES


@pytest.mark.parametrize(("path", "kind", "times"), list(cells()))
def test_every_write_path_settles_after_every_fault(
    connection, sage_gateway, few_retries, record_property, path, kind, times
):
    setup, target = PATHS[path]
    scenario = setup(connection)
    sage_before = _sage_last()
    fault = Fault(kind, target=target, times=1 if times == "once" else RETRIES + 1)
    sage_gateway.before(fault.before)
    sage_gateway.on(fault.after)

    outcome = settle(connection, scenario, fault)

    record_property("fault_scenarios", 1)
    assert fault.hits, f"the fault never struck {target!r}"
    assert_settled(scenario, outcome, sage_before)


# --- the randomized version ----------------------------------------------------------------------


EXAMPLES = int(os.environ.get("MATRIX_EXAMPLES", "15"))
TARGETS = [target for _, target in PATHS.values() if b"PYMT" not in target]
faults = st.lists(
    st.tuples(
        st.sampled_from([kind for kind, _ in FAULT_POINTS]),
        st.sampled_from(TARGETS),
        st.integers(min_value=1, max_value=RETRIES + 1),
        st.integers(min_value=1, max_value=3),  # the run it strikes in
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="MATRIX_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=faults)
def test_random_fault_sequences_over_a_mixed_batch_settle(
    connection, sage_gateway, few_retries, record_property, drawn
):
    with transaction.atomic():
        sage_gateway.rules.clear()
        sage_gateway.before_rules.clear()
        sandbox_faults_clear()
        _random_scenario(connection, sage_gateway, drawn)
        record_property("fault_scenarios", 1)
        transaction.set_rollback(True)


def _random_scenario(connection, sage_gateway, drawn) -> None:
    services.connection_update_settings(
        connection=connection,
        ar={"auto_create_customer": True, "name_matching_fallback": False},
        ap={"auto_create_vendor": True, "name_matching_fallback": False},
    )
    draft, posted = make_load(connection), make_load(connection)
    export.connection_export(connection=connection)
    invoice = SandboxRecord.objects.get(
        pk=int(am.SyncRecord.objects.get(document_id=draft.pk, document_type="load").record_no)
    )
    invoice.state = engine.DRAFT
    engine.save(invoice, timezone.now())
    change_linehaul(draft, "3")
    change_linehaul(posted, "3")
    net30 = net30_retry(connection).loads
    customer = f.CustomerFactory(name="Valley Fresh Farms")
    carrier = f.CarrierFactory(name="Prairie Line Haulers")
    loads = [make_load(connection), *net30, make_load(connection, customer=customer)]
    trips = [make_trip(connection), make_trip(connection, carrier=carrier)]
    sage_before = _sage_last()
    by_run: dict[int, list[Fault]] = {}
    for kind, target, times, run in drawn:
        by_run.setdefault(run, []).append(Fault(kind, target=target, times=times))

    outcome = Outcome()
    for run in range(1, 4 + MAX_RUNS):
        armed = by_run.get(run, [])
        sage_gateway.before_rules[:] = [fault.before for fault in armed]
        sage_gateway.rules[:] = [fault.after for fault in armed]
        outcome.runs += 1
        summary = export_once(connection, outcome, _chain(armed))
        sandbox_faults_clear()
        lapse()
        if run > max(by_run) and quiet(summary):
            break
    else:
        pytest.fail(f"not settled after {outcome.runs} runs: {drawn}")

    assert outcome.wrong_summaries == [], drawn
    assert_exported_exactly_once(*loads, *trips)
    _assert_changed_once(Scenario(changed=draft, expected_total="1650.00"))
    _assert_changed_once(Scenario(changed=posted, expected_total="1650.00", reversed=True))
    new_in_sage = (
        SandboxRecord.objects.filter(object__in=SAGE_DOCUMENTS, pk__gt=sage_before)
        .exclude(state="Reversal")
        .count()
    )
    assert outcome.observed_created == new_in_sage, drawn
    assert not am.ErrorTransaction.objects.filter(status="failed").exists(), drawn
    _assert_party_created_once(customer)
    _assert_party_created_once(carrier)


def _chain(armed: list[Fault]):
    def wrapper(execute, sql, params, many, context):
        for fault in armed:
            if fault.db_down:
                return fault(execute, sql, params, many, context)
        return execute(sql, params, many, context)

    return wrapper
