"""Scale-out as it runs in production: two `manage.py qcluster` processes (two machines) share
Redis and PostgreSQL and talk to the sandbox over HTTP. One is killed (SIGKILL) in the middle
of the run; the other finishes. Every document reaches Sage once, every payment is stored once.

Redis does not hand a task back when the cluster that took it dies: the schedule queues the
connection's export again on its next tick, and that run takes over the dead cluster's claims
once INTACCT_CLAIM_LEASE_SECONDS have passed. The test plays the schedule's part (every
TICK_SECONDS it queues the connections that still have work), with a lease of a few seconds.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.core.signals import request_started
from django.db import connection as db
from django_q.brokers import redis_broker
from django_q.models import Schedule
from django_q.tasks import async_task

from accounting import models as am
from intacct import export
from intacct.connections.schedules import EXPORT_TASK, PAYMENT_TASK
from intacct.payments.models import PaymentImportRun
from intacct.sandbox.gateway import SANDBOX_PATH
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_payment_record, sandbox_seed
from tests.intacct.conftest import connect
from tests.intacct.test_export import make_load

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        db.vendor != "postgresql",
        reason="two task clusters share the database: set DATABASE_URL to PostgreSQL",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
# Its own Redis database: CI gives /9, a developer sets one of theirs.
REDIS_URL = os.environ.get("CLUSTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
SUBSIDIARIES = [
    ("RF", "Ridgeline Freight"),
    ("RL", "Ridgeline Logistics"),
    ("RH", "Ridgeline Holdings"),
]
NEW_LOADS = 40  # per connection, exported by the clusters
PAID_LOADS = 6  # per connection, exported beforehand and paid in Sage
LEASE_SECONDS = 3
TICK_SECONDS = 2
DEADLINE_SECONDS = 240


class ClusterBroker(redis_broker.Redis):
    """The clusters' Redis queue, reached from this process (whose own settings use the
    database as broker)."""

    def __init__(self, url: str):
        self.url = url
        super().__init__(list_key="ledgerline")

    def get_connection(self, list_key=None):
        return redis.Redis.from_url(self.url)


def database_url() -> str:
    s = db.settings_dict
    user = quote(s["USER"] or "postgres")
    password = f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def cluster_env(endpoint: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        INTACCT_ENDPOINT_URL=endpoint,
        INTACCT_CLAIM_LEASE_SECONDS=str(LEASE_SECONDS),
        INTACCT_BATCH_SIZE="5",
        INTACCT_MAX_RETRIES="1",
        Q_WORKERS="2",
        LOG_LEVEL="WARNING",
    )
    return env


def start_cluster(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches every worker
    )


@pytest.fixture
def sandbox_over_http(live_server, settings):
    """The app's sandbox gateway served by the live server; counts the requests it answers."""
    endpoint = live_server.url + SANDBOX_PATH
    settings.INTACCT_ENDPOINT_URL = endpoint
    sandbox_seed()
    seen = Counter()

    def count(sender, environ, **kwargs):
        if environ.get("PATH_INFO") == SANDBOX_PATH:
            seen["requests"] += 1

    request_started.connect(count, weak=False)
    yield endpoint, seen
    request_started.disconnect(count)


@pytest.fixture
def broker():
    broker = ClusterBroker(REDIS_URL)
    try:
        broker.connection.ping()
    except redis.ConnectionError:
        pytest.fail(f"The cluster test needs Redis at {REDIS_URL} (CLUSTER_TEST_REDIS_URL).")
    broker.connection.flushdb()
    yield broker
    broker.connection.flushdb()


def paid_in_sage(connection) -> list[am.Load]:
    """Loads exported now (in this process) and paid in full in Sage."""
    loads = [make_load(connection) for _ in range(PAID_LOADS)]
    summary = export.loads_export(connection=connection, ids=[load.pk for load in loads])
    assert summary.created == PAID_LOADS, summary
    for record in am.SyncRecord.objects.filter(document_id__in=[load.pk for load in loads]):
        sandbox_payment_record(document=SandboxRecord.objects.get(pk=int(record.record_no)))
    return loads


def work_left(connections, loads_by_connection) -> tuple[list, list]:
    """(connections with loads not yet synced, connections whose paid loads lack a payment)."""
    exports, imports = [], []
    for connection in connections:
        loads = loads_by_connection[connection.pk]
        synced = am.SyncRecord.objects.filter(
            connection=connection, document_id__in=loads["all"], state="synced"
        ).count()
        if synced < len(loads["all"]):
            exports.append(connection)
        paid = am.Payment.objects.filter(load_id__in=loads["paid"]).count()
        if paid < len(loads["paid"]):
            imports.append(connection)
    return exports, imports


@pytest.mark.django_db(transaction=True)
def test_two_clusters_one_killed_export_each_document_once_and_apply_each_payment_once(
    sandbox_over_http, broker, tmp_path, capsys
):
    endpoint, sandbox_requests = sandbox_over_http
    connections = [connect(code, name) for code, name in SUBSIDIARIES]
    loads_by_connection = {}
    for connection in connections:
        paid = paid_in_sage(connection)
        new = [make_load(connection) for _ in range(NEW_LOADS)]
        loads_by_connection[connection.pk] = {
            "paid": [load.pk for load in paid],
            "all": [load.pk for load in paid + new],
        }
    # Only what this test queues runs: the schedules activation made would start at once.
    Schedule.objects.all().delete()
    requests_before = sandbox_requests["requests"]

    env = cluster_env(endpoint)
    logs = {name: tmp_path / f"cluster-{name}.log" for name in ("a", "b")}
    clusters = {name: start_cluster(env, log) for name, log in logs.items()}
    started = time.monotonic()
    try:
        for connection in connections:
            for func in (EXPORT_TASK, PAYMENT_TASK, EXPORT_TASK, PAYMENT_TASK):
                async_task(func, connection.pk, broker=broker)

        # Kill cluster A once the run is under way, before it is done.
        total = sum(len(loads["all"]) for loads in loads_by_connection.values())
        synced_at_kill = None
        while time.monotonic() - started < DEADLINE_SECONDS:
            synced = am.SyncRecord.objects.filter(state="synced").count()
            if synced >= total // 3:
                os.killpg(clusters["a"].pid, signal.SIGKILL)
                clusters["a"].wait()
                synced_at_kill = synced
                break
            time.sleep(0.2)
        assert synced_at_kill is not None, logs["a"].read_text()[-3000:]
        held_at_kill = am.SyncRecord.objects.exclude(claimed_by="").exclude(state="synced")
        held_at_kill = held_at_kill.count()
        imports_left_running = PaymentImportRun.objects.filter(status="running").count()

        # The schedule's part: queue each connection that still has work whenever the queue
        # is empty; cluster B alone does it.
        ticks = 0
        while time.monotonic() - started < DEADLINE_SECONDS:
            exports, imports = work_left(connections, loads_by_connection)
            if not exports and not imports:
                break
            if broker.queue_size() == 0:
                ticks += 1
                for connection in exports:
                    async_task(EXPORT_TASK, connection.pk, broker=broker)
                for connection in imports:
                    async_task(PAYMENT_TASK, connection.pk, broker=broker)
            time.sleep(TICK_SECONDS)
        elapsed = time.monotonic() - started
    finally:
        for process in clusters.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in clusters.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert clusters["a"].returncode == -signal.SIGKILL

    failures = "\n".join(f"--- cluster {n}\n{p.read_text()[-3000:]}" for n, p in logs.items())
    assert work_left(connections, loads_by_connection) == ([], []), failures

    # Every load is one Sage invoice: no invoice number twice, none missing.
    loads = am.Load.objects.filter(
        pk__in=[pk for loads in loads_by_connection.values() for pk in loads["all"]]
    )
    invoices = Counter(
        SandboxRecord.objects.filter(object="ARINVOICE").values_list("key", flat=True)
    )
    assert sorted(invoices) == sorted(load.number for load in loads)
    assert set(invoices.values()) == {1}
    assert am.SyncRecord.objects.filter(state="synced").count() == total
    assert not am.ErrorTransaction.objects.filter(status="failed").exists()

    # Every Sage payment detail is one stored payment, and each paid load is completed.
    paid = [pk for loads in loads_by_connection.values() for pk in loads["paid"]]
    payments = am.Payment.objects.filter(load_id__in=paid)
    assert payments.count() == len(paid)
    assert sorted(payments.values_list("load_id", flat=True)) == sorted(paid)
    assert set(am.Load.objects.filter(pk__in=paid).values_list("billing_status", flat=True)) == {
        "completed"
    }

    requests = sandbox_requests["requests"] - requests_before
    with capsys.disabled():
        print(
            f"\ntwo clusters: {len(connections)} connections, {total} loads "
            f"({total - len(paid)} exported by the clusters, {len(paid)} payments imported); "
            f"cluster A killed at {synced_at_kill}/{total} synced, {held_at_kill} documents "
            f"claimed and {imports_left_running} payment import(s) running; all done "
            f"{elapsed:.1f}s after the clusters started, {ticks} schedule tick(s) after the "
            f"kill; {requests} requests to the sandbox"
        )
