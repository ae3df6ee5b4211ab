"""Every list and change page of the admin, walked as a signed-in superuser: the pages to
visit, and what one visit costs (server time, database queries, size, options in selects).

Used by `tests/accounting/test_admin_walk.py` (query counts constant as the demo grows) and by
`benchmarks/performance.py`'s admin scenario (server time of each page on the demo data).
"""

import os
import re
import statistics
import time
from dataclasses import dataclass

_OPTION = re.compile(rb"<option\b")


@dataclass
class Visit:
    name: str
    url: str
    status: int
    queries: int
    ms: float  # wall time of the request handled in this process (no network)
    cpu_ms: float  # this process's CPU for it: on SQLite the database's work too
    sql_ms: float  # time waiting on the database (PostgreSQL: another process's work)
    options: int  # <option> elements: a select listing a whole table shows here
    kb: float


def admin_pages() -> list[tuple[str, str]]:
    """(name, URL) of the list page of every model the admin site shows, and of the change
    page of its first row (by primary key) when it has one."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    pages = []
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        try:
            pages.append((f"{model._meta.label} list", reverse(f"{prefix}_changelist")))
        except NoReverseMatch:
            continue
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            pages.append((f"{model._meta.label} change", reverse(f"{prefix}_change", args=[first])))
    return pages


def visit(client, name: str, url: str, *, repeat: int = 1) -> Visit:
    """GET `url` (after one request to warm the caches); the median of `repeat` requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    times, cpus, sqls, queries = [], [], [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            cpus.append((time.process_time() - cpu) * 1000)
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
        sqls.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    body = response.content
    return Visit(
        name,
        url,
        response.status_code,
        queries,
        statistics.median(times),
        statistics.median(cpus),
        statistics.median(sqls),
        len(_OPTION.findall(body)),
        len(body) / 1024,
    )


def walk(client, *, repeat: int = 1) -> list[Visit]:
    return [visit(client, name, url, repeat=repeat) for name, url in admin_pages()]


# --- the demo pages' server times: python benchmarks/admin_pages.py [--database-url URL] ------

PAGE_TARGET_MS = 300


def demo_build(loads: int) -> None:
    """The demo as `bin/run` serves it (`seed_demo`, the sandbox's demo company), with
    Ridgeline Freight connected to the sandbox, its documents exported, half of the exported
    invoices paid in Sage and imported back: every page has rows to show."""
    from accounting import models as am
    from accounting.services import demo_seed
    from benchmarks import data
    from intacct import export
    from intacct.payments import payments_import
    from intacct.sandbox.models import SandboxRecord
    from intacct.sandbox.services import (
        SandboxActionError,
        sandbox_payment_record,
        sandbox_seed,
    )

    sandbox_seed()
    demo_seed(loads=loads)
    connection = data.connect("RF", "Ridgeline Freight")
    export.connection_export(connection=connection)
    records = am.SyncRecord.objects.filter(
        connection=connection, sage_object="ARINVOICE", state="synced"
    ).exclude(record_no="")
    for record in records[: records.count() // 2]:
        try:
            sandbox_payment_record(document=SandboxRecord.objects.get(pk=int(record.record_no)))
        except SandboxActionError:
            continue
    payments_import(connection=connection)


def main(argv=None) -> int:
    import argparse
    import shutil
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.harness import InProcessSandbox, database_empty, django_setup

    parser = argparse.ArgumentParser(description="Server time of every admin page on the demo.")
    parser.add_argument("--loads", type=int, default=200, help="seed_demo's loads (its default)")
    parser.add_argument("--repeat", type=int, default=3, help="requests per page (median)")
    parser.add_argument("--database-url", default=None, help="a dedicated database")
    args = parser.parse_args(argv)
    folder = django_setup(args.database_url)
    try:
        with InProcessSandbox().installed():
            from django.conf import settings
            from django.contrib.auth import get_user_model
            from django.db import connection
            from django.test import Client

            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
            print(f"Building the demo ({args.loads} loads) ...", file=sys.stderr, flush=True)
            demo_build(args.loads)
            user = get_user_model().objects.create_superuser("bench", "b@example.com", "bench")
            client = Client()
            client.force_login(user)
            visits = walk(client, repeat=args.repeat)
            vendor = connection.vendor
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            database_empty()
    print(
        f"\nEvery admin page on the demo ({args.loads} loads), {vendor}, median of "
        f"{args.repeat} requests after one to warm the caches:"
    )

    def server(v: Visit) -> float:
        # On a shared machine wall time counts other processes' turns on the CPU; the work
        # this request needed is its CPU, plus the wait on PostgreSQL's own process.
        return v.cpu_ms + (v.sql_ms if vendor == "postgresql" else 0)

    print(
        f"{'page':<40} {'status':>6} {'server ms':>9} {'CPU ms':>7} {'SQL ms':>7} "
        f"{'wall ms':>7} {'queries':>7} {'options':>7} {'KB':>5}"
    )
    for v in sorted(visits, key=lambda v: -server(v)):
        print(
            f"{v.name[:40]:<40} {v.status:>6} {server(v):>9.0f} {v.cpu_ms:>7.0f} "
            f"{v.sql_ms:>7.0f} {v.ms:>7.0f} {v.queries:>7} {v.options:>7} {v.kb:>5.0f}"
        )
    slow = [v for v in visits if server(v) > PAGE_TARGET_MS or v.status != 200]
    worst = max(visits, key=server)
    print(
        f"\n{'PASS' if not slow else 'FAIL'}  every admin page <= {PAGE_TARGET_MS} ms server "
        f"time: {len(visits)} pages, median {statistics.median(map(server, visits)):.0f} ms, "
        f"slowest {server(worst):.0f} ms ({worst.name}), most queries "
        f"{max(v.queries for v in visits)}, most select options "
        f"{max(v.options for v in visits)}; {len(slow)} over (wall: median "
        f"{statistics.median(v.ms for v in visits):.0f} ms, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    return 0 if not slow else 1


if __name__ == "__main__":
    raise SystemExit(main())
