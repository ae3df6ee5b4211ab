"""What the benchmarks stand on: their own database, the sandbox answering in this process, and
a meter that counts HTTP requests, write functions, the application's database queries, wall
and CPU time and peak memory for one measured step.

The sandbox runs in the benchmark's process: every HTTP call a Sage Intacct client makes to
`SANDBOX_URL` is answered by `intacct.sandbox.gateway.handle` without a socket, after the
harness has slept the request's latency on the sending thread. Export sends from sender
threads (INTACCT_REQUESTS_IN_FLIGHT); the sandbox's own work still runs on the main thread,
when it waits for an answer (`InProcessSandbox`), so it never overlaps the application's. Its
time is measured apart (`sandbox_s` with the latency, `work_s` without, `sandbox_cpu_s`), and
its queries on the shared connection are not counted as the application's. A step's *own*
time is its wall time less the sandbox's work: what it takes against a Sage that answers in
the latency alone.
"""

import os
import queue
import re
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_HOST = "http://sandbox.benchmark"
SANDBOX_PATH = "/intacct-sandbox/xmlgw.phtml"
SANDBOX_URL = SANDBOX_HOST + SANDBOX_PATH
WRITE_FUNCTIONS = frozenset(
    {
        "create",
        "create_invoice",
        "update",
        "update_invoice",
        "reverse_invoice",
        "delete",
        "delete_invoice",
    }
)
_FUNCTION = re.compile(rb'<function controlid="[^"]*"><(\w+)')
_PAGE = os.sysconf("SC_PAGE_SIZE")


def django_setup(database_url: str | None) -> Path | None:
    """Configure Django on the benchmark's own database and migrate it. Without
    `database_url`, a new SQLite file in a temporary folder (returned, for removal)."""
    sys.path.insert(0, str(ROOT))
    folder = None
    if database_url is None:
        folder = Path(tempfile.mkdtemp(prefix="ledgerline-bench-"))
        database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["INTACCT_ENDPOINT_URL"] = SANDBOX_URL
    os.environ["MEDIA_ROOT"] = str(folder or tempfile.mkdtemp(prefix="ledgerline-bench-"))
    for name in ("LOG_LEVEL", "DJANGO_LOG_LEVEL", "INTACCT_LOG_LEVEL", "DB_LOG_LEVEL"):
        os.environ[name] = "WARNING"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if folder is None:
        _refuse_unless_empty()
    call_command("migrate", verbosity=0)
    # As in production: no per-query bookkeeping in memory (DEBUG keeps every query's SQL).
    settings.DEBUG = False
    return folder


def _refuse_unless_empty() -> None:
    """A database given by URL must hold no Ledgerline data (nor be migrated by someone else's
    hand): the benchmark migrates it, fills it, and empties it at the end."""
    from django.db import connection

    from accounting.models import Subsidiary

    tables = connection.introspection.table_names()
    if tables and (Subsidiary._meta.db_table not in tables or Subsidiary.objects.exists()):
        raise SystemExit(
            "The benchmark database is not empty. Give it a database of its own (it is "
            "migrated, filled, and emptied at the end), e.g. "
            "--database-url postgres://postgres@127.0.0.1:5432/ledgerline_bench"
        )


def database_empty() -> None:
    """Remove everything the benchmark wrote (for a database given by URL)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


# --- memory -------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


def _peak_reset() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so the next peak is this step's own."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- the sandbox in this process ----------------------------------------------------------


@dataclass
class Counters:
    requests: int = 0
    writes: int = 0  # write functions (create, update, reverse, delete) sent
    queries: int = 0  # the application's, not the sandbox's
    sandbox_s: float = 0.0  # wall time inside the sandbox, its added latency included
    sandbox_cpu_s: float = 0.0
    rss_by_request: list = field(default_factory=list)  # (request number, RSS MB)
    work_s: float = 0.0  # the sandbox's own work, its latency left out

    def copy(self) -> "Counters":
        return Counters(
            self.requests,
            self.writes,
            self.queries,
            self.sandbox_s,
            self.sandbox_cpu_s,
            work_s=self.work_s,
        )


class _Job:
    """A request a sender thread hands to the main thread for the sandbox to answer."""

    def __init__(self, body: bytes):
        self.body = body
        self.answer = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class InProcessSandbox:
    """Routes every requests call to SANDBOX_URL into the sandbox gateway and keeps counts.

    The latency is slept on the thread that sends (a sender thread sleeps it while the main
    thread goes on). The sandbox's own work then runs on the main thread, on its database
    connection: at once when the main thread sent the request, otherwise the next time the main
    thread waits for an answer (`Future.result`). So the sandbox's work never overlaps the
    application's, and a step's own time is its wall time less the sandbox's work, exactly,
    however many requests are in flight; the sandbox's queries are told apart from the
    application's on the one connection.
    """

    def __init__(self):
        self.counters = Counters()
        self.local = threading.local()  # .in_sandbox: this thread is answering a request
        self.lock = threading.Lock()
        self.jobs: queue.Queue = queue.Queue()
        self.sample_rss = False
        self.latency_s = 0.0  # slept before each answer (Sage's round trip)
        self.aliases: set[str] = set()  # other gateway hosts the sandbox answers for (--peer)

    def send(self, adapter, request, **kwargs):
        import requests
        from requests.structures import CaseInsensitiveDict

        if not request.url.startswith((SANDBOX_HOST, *self.aliases)):
            raise requests.ConnectionError(f"The benchmark reaches only the sandbox: {request.url}")
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        counters = self.counters
        writes = sum(1 for name in _FUNCTION.findall(body) if name.decode() in WRITE_FUNCTIONS)
        with self.lock:
            counters.requests += 1
            counters.writes += writes
            counters.sandbox_s += self.latency_s
        if self.latency_s:
            time.sleep(self.latency_s)
        if threading.current_thread() is threading.main_thread():
            answer = self._answer(body)
        else:
            job = _Job(body)
            self.jobs.put(job)
            # The main thread answers it when it next waits; one that never waits again (it
            # is leaving on an error) must not hang the sender: after a while, answer here.
            if not job.done.wait(30):
                self.jobs.put(None)
                job.answer = self._answer(body)
            if job.error is not None:
                raise job.error
            answer = job.answer
        if self.sample_rss:
            with self.lock:
                counters.rss_by_request.append((counters.requests, rss_mb()))
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body
        response._content_consumed = True
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def _answer(self, body: bytes):
        from intacct.sandbox import gateway

        counters = self.counters
        wall, cpu = time.perf_counter(), time.thread_time()
        self.local.in_sandbox = True
        try:
            return gateway.handle(body, endpoint_url=SANDBOX_URL)
        finally:
            self.local.in_sandbox = False
            with self.lock:
                counters.sandbox_s += time.perf_counter() - wall
                counters.work_s += time.perf_counter() - wall
                counters.sandbox_cpu_s += time.thread_time() - cpu

    def answer_until(self, future) -> None:
        """On the main thread: answer the sender threads' requests until `future` is done."""
        if future.done():
            return
        future.add_done_callback(lambda _: self.jobs.put(None))
        while not future.done():
            job = self.jobs.get()
            if job is None or job.done.is_set():
                continue
            try:
                job.answer = self._answer(job.body)
            except BaseException as error:  # handed to the sender, as a transport would
                job.error = error
            job.done.set()

    def count_query(self, execute, sql, params, many, context):
        if not getattr(self.local, "in_sandbox", False):
            self.counters.queries += 1
        return execute(sql, params, many, context)

    @contextmanager
    def installed(self):
        from concurrent.futures import Future

        from django.db import connection
        from requests.adapters import HTTPAdapter

        sandbox = self
        result = Future.result

        def send(adapter, request, **kwargs):
            return sandbox.send(adapter, request, **kwargs)

        def waited(future, timeout=None):
            if threading.current_thread() is threading.main_thread():
                sandbox.answer_until(future)
            return result(future, timeout)

        with (
            mock.patch.object(HTTPAdapter, "send", send),
            mock.patch.object(Future, "result", waited),
            connection.execute_wrapper(self.count_query),
        ):
            yield self


# --- measuring one step -------------------------------------------------------------------


@dataclass
class Measurement:
    label: str
    documents: int
    requests: int = 0
    writes: int = 0
    queries: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the application's (and client's): the sandbox's own CPU is left out
    sandbox_s: float = 0.0
    own_s: float = 0.0  # wall time less the sandbox's own work (its latency kept)
    peak_mb: float = 0.0  # peak resident memory of the process during the step
    growth_mb: float = 0.0  # that peak above the resident memory at the start
    rss_by_request: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def cpu_ms_per_document(self) -> float:
        return self.cpu_s * 1000 / self.documents if self.documents else 0.0


@contextmanager
def measure(sandbox: InProcessSandbox, label: str, documents: int, *, sample_rss=False):
    """Measure the block; yields the Measurement, filled in when the block ends."""
    import gc

    gc.collect()
    result = Measurement(label, documents)
    before = sandbox.counters.copy()
    sandbox.counters.rss_by_request = []
    sandbox.sample_rss = sample_rss
    start_rss = rss_mb()
    tracked = _peak_reset()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        end = time.perf_counter()
        result.wall_s = end - wall
        cpu = time.process_time() - cpu
        after = sandbox.counters
        sandbox.sample_rss = False
        result.requests = after.requests - before.requests
        result.writes = after.writes - before.writes
        result.queries = after.queries - before.queries
        result.sandbox_s = after.sandbox_s - before.sandbox_s
        result.cpu_s = cpu - (after.sandbox_cpu_s - before.sandbox_cpu_s)
        result.own_s = result.wall_s - (after.work_s - before.work_s)
        result.peak_mb = peak_mb() if tracked else rss_mb()
        result.growth_mb = max(0.0, result.peak_mb - start_rss)
        result.rss_by_request = after.rss_by_request
