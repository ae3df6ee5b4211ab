#!/usr/bin/env python
"""Ledgerline performance benchmarks: export, payment import, the Error Transactions admin and
payload building, against the built-in Sage Intacct sandbox with added latency per request.

    benchmarks/run [--loads 2000] [--trips 2000] [--payments 10000] [--errors 100000]
                   [--latency-ms 50] [--baseline-sample 200] [--batch-size 50]

The defaults take a few minutes on a 2-core machine; issue 9's sizes are
`--loads 10000 --trips 10000 --payments 50000` (about 12 minutes, most of it the sandbox).

Prints one table (documents, HTTP requests, write functions, database queries, wall time,
CPU time per document, peak memory per scenario) and then each target, PASS or FAIL. Runs on
its own database: a new SQLite file in a temporary folder, removed at the end, or the database
given with --database-url (use a dedicated one: the benchmark migrates and fills it).
"""

import argparse
import math
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import (
    InProcessSandbox,
    Measurement,
    database_empty,
    django_setup,
    measure,
)
from benchmarks.reconcile import reconcile_scenario

SCENARIOS = ("export", "rerun", "payments", "admin", "payload", "reconcile")


@dataclass
class Target:
    ok: bool
    text: str


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="benchmarks/run", description=__doc__.split("\n\n")[0].replace("\n", " ")
    )
    parser.add_argument("--loads", type=int, default=2_000, help="loads exported (AR)")
    parser.add_argument("--trips", type=int, default=2_000, help="trips exported (AP)")
    parser.add_argument(
        "--payments", type=int, default=10_000, help="Sage payment details imported"
    )
    parser.add_argument(
        "--details-per-payment",
        type=int,
        default=5,
        help="documents one Sage payment pays (a check paying several invoices)",
    )
    parser.add_argument(
        "--errors", type=int, default=100_000, help="Error Transactions in the admin list"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=50, help="added to every request by the sandbox"
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="export batch (default: INTACCT_BATCH_SIZE)"
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=None,
        help="export requests on the wire at once (default: INTACCT_REQUESTS_IN_FLIGHT)",
    )
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=200,
        help="loads and trips (each) in the batch-size-1 baseline; 0 = as many as --loads/"
        "--trips (10,000 requests at 50 ms is over 8 minutes of latency alone)",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {', '.join(SCENARIOS)} (payments, rerun, reconcile need export)",
    )
    parser.add_argument(
        "--peer",
        action="store_true",
        help="also send documents through fylein's sageintacctsdk, one call each, and compare "
        '(needs the bench extra: pip install -e ".[bench]"; needs the export scenario)',
    )
    parser.add_argument(
        "--peer-sample",
        type=int,
        default=500,
        help="loads and trips (each) the peer sends; 0 = as many as --loads/--trips",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a dedicated database to fill (default: a temporary SQLite file)",
    )
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.peer and "export" not in args.scenarios:
        parser.error("--peer compares with the export scenario: keep export in --scenarios")
    if {"rerun", "payments", "reconcile"} & set(args.scenarios) and "export" not in args.scenarios:
        parser.error("rerun, payments and reconcile work on what the export scenario exported")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    folder = django_setup(args.database_url)
    try:
        sandbox = InProcessSandbox()
        with sandbox.installed():
            rows, targets = run(args, sandbox)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            database_empty()
    print_report(args, rows, targets, time.perf_counter() - started)
    return 0 if all(t.ok for t in targets) else 1


# --- the scenarios --------------------------------------------------------------------------


def run(args, sandbox: InProcessSandbox) -> tuple[list[Measurement], list[Target]]:
    from django.conf import settings

    from benchmarks import data
    from intacct.sandbox.services import sandbox_faults_clear, sandbox_seed

    args.batch_size = args.batch_size or settings.INTACCT_BATCH_SIZE
    if args.in_flight is not None:
        settings.INTACCT_REQUESTS_IN_FLIGHT = args.in_flight
    args.in_flight = settings.INTACCT_REQUESTS_IN_FLIGHT
    sandbox.latency_s = args.latency_ms / 1000
    sample_loads = args.baseline_sample or args.loads
    sample_trips = args.baseline_sample or args.trips
    args.sample_loads = min(sample_loads, args.loads)
    args.sample_trips = min(sample_trips, args.trips)
    rows: list[Measurement] = []
    targets: list[Target] = []
    args.notes = []

    say("Setting up: sandbox company, two connected subsidiaries, documents ...")
    sandbox_seed()
    sandbox_faults_clear()
    main = data.connect("RF", "Ridgeline Freight")
    baseline = data.connect("RL", "Ridgeline Logistics")
    if "export" in args.scenarios or "payload" in args.scenarios:
        data.documents_create(main, loads=args.loads, trips=args.trips, prefix="A")
    if "export" in args.scenarios:
        data.documents_create(
            baseline, loads=args.sample_loads, trips=args.sample_trips, prefix="B"
        )
    sandbox_faults_clear()  # the harness sleeps the latency (on the sending thread)
    _statistics()

    if "export" in args.scenarios:
        export_scenario(args, sandbox, main, baseline, rows, targets)
    if args.peer:
        from benchmarks.peer import peer_scenario

        args.peer_loads = min(args.peer_sample or args.loads, args.loads)
        args.peer_trips = min(args.peer_sample or args.trips, args.trips)
        peer_scenario(args, sandbox, baseline, rows[0], rows, targets)
    if "rerun" in args.scenarios:
        rerun_scenario(args, sandbox, main, rows, targets)
    if "payload" in args.scenarios:  # before the import closes (completes) the loads
        payload_scenario(args, sandbox, main, rows, targets)
    if "payments" in args.scenarios:
        payments_scenario(args, sandbox, main, rows, targets)
    if "admin" in args.scenarios:
        admin_scenario(args, sandbox, [main.subsidiary, baseline.subsidiary], rows, targets)
    if "reconcile" in args.scenarios:
        reconcile_scenario(args, sandbox, main, rows, targets, Target)
    rows.sort(key=lambda row: row.label[0])  # in scenario order
    return rows, targets


def _statistics(table: str = "") -> None:
    """PostgreSQL: what autovacuum does within a minute to tables that were bulk-loaded on a
    production server (the development server runs with it off): gather the planner's
    statistics, and mark the pages all-visible, so that a count can read an index alone.
    Without the statistics the trips' eligibility query was planned blind and took 3.7 s per
    batch at 10,000 trips; without the visibility map a count of a year of Error Transactions
    read 80,000 rows from the table (41 ms at 100,000 rows, 10 ms after)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")


def _export(sandbox, connection, *, batch_size: int, label: str, documents: int) -> Measurement:
    from intacct.connections.sage import client_for
    from intacct.export import connection_export

    say(f"{label} ...")
    client = client_for(connection)
    with measure(sandbox, label, documents, sample_rss=True) as row:
        summaries = connection_export(connection=connection, batch_size=batch_size, client=client)
    row.extra = {
        name: sum(getattr(s, name) for s in summaries.values())
        for name in ("created", "updated", "unchanged", "failed", "skipped")
    }
    row.extra["errors"] = [e for s in summaries.values() for e in s.errors]
    return row


def _batches(counts, batch_size: int) -> int:
    return sum(math.ceil(n / batch_size) for n in counts)


def export_scenario(args, sandbox, main, baseline, rows, targets) -> None:
    b = args.batch_size
    documents = args.loads + args.trips
    sample = args.sample_loads + args.sample_trips
    batched = _export(
        sandbox,
        main,
        batch_size=b,
        label=f"1 export {args.loads:,} loads + {args.trips:,} trips, batch {b}",
        documents=documents,
    )
    rows.append(batched)
    sampled = "" if sample == documents else " (sample)"
    single = _export(
        sandbox,
        baseline,
        batch_size=1,
        label=f"1 baseline {args.sample_loads:,} + {args.sample_trips:,}, batch 1{sampled}",
        documents=sample,
    )
    rows.append(single)

    # What a run costs with nothing to send (settings, mappings, one empty read per document
    # type): the same for both, so it is left out of the queries per batch.
    empty = _export(sandbox, baseline, batch_size=1, label="(empty run)", documents=0)
    batched_batches = _batches((args.loads, args.trips), b)
    single_batches = sample
    constant = batched.requests - batched_batches
    single_constant = single.requests - single_batches
    targets.append(
        Target(
            batched.extra["created"] == documents and not batched.extra["failed"],
            f"export: every document created once ({batched.extra['created']:,} created, "
            f"{batched.extra['failed']} failed; baseline {single.extra['created']:,} created)",
        )
    )
    targets.append(
        Target(
            constant == single_constant and constant <= 3,
            f"export requests = ceil(documents / batch size) + a constant: {batched.requests:,} = "
            f"{batched_batches:,} + {constant} (baseline: {single.requests:,} = "
            f"{single_batches:,} + {single_constant})",
        )
    )
    per_doc_batched = batched.requests / documents
    per_doc_single = single.requests / sample
    ratio = per_doc_single / per_doc_batched
    note = (
        f"; baseline measured on {sample:,} documents, so {documents:,} at batch 1 would take "
        f"~{documents + single_constant:,} requests, "
        f"~{(documents + single_constant) * args.latency_ms / 60000:.1f} min of latency alone"
        if sampled
        else ""
    )
    targets.append(
        Target(
            ratio >= 20,
            f"at least 20x fewer requests than batch size 1: {ratio:.1f}x "
            f"({per_doc_single:.3f} vs {per_doc_batched:.4f} requests per document{note})",
        )
    )
    # The export reads READ_BATCHES batches at once and inserts their ledger rows in one
    # bulk_create, which SQLite splits into statements of 999 parameters at most: those
    # extra statements grow with the batch size, not with the documents.
    from accounting import models as am
    from intacct.export.services import READ_BATCHES

    reads = _batches((args.loads, args.trips), b * READ_BATCHES)
    split = reads * (math.ceil(b * READ_BATCHES / _bulk_rows(am.SyncRecord)) - 1)
    q_batched = (batched.queries - empty.queries - split) / batched_batches
    q_single = (single.queries - empty.queries) / single_batches
    split_note = f"; less {split:,} INSERT statements SQLite splits off" if split else ""
    line = (
        f"database queries per batch constant: {q_batched:.1f} per batch of {b} vs "
        f"{q_single:.1f} per batch of 1, besides {empty.queries} per run "
        f"({batched.queries / documents:.2f} vs {single.queries / sample:.2f} per document"
        f"{split_note})"
    )
    if reads < 8:  # a last, partial read weighs as much as the full ones
        targets.append(Target(True, f"{line}: too few reads of {READ_BATCHES} batches to tell"))
    else:
        targets.append(Target(q_batched <= q_single + 0.5, line))
    targets.append(_flat_memory(batched))
    latency = args.latency_ms / 1000
    targets.append(_at_the_floor(args, batched, latency))
    for name, row, count in (("batched", batched, documents), ("batch size 1", single, sample)):
        own = row.own_s
        args.notes.append(
            f"export {name:<12}: {row.requests / count:.3f} requests, "
            f"{row.queries / count:.2f} queries, {row.wall_s * 1000 / count:.1f} ms wall "
            f"({own * 1000 / count:.1f} ms own) per document"
        )


def _at_the_floor(args, row: Measurement, latency: float) -> Target:
    """Own time against the latency floor: the requests' latency one after another (issue
    21's measure). With requests in flight the wire's own floor is that divided by how many
    are on it at once, printed beside it."""
    floor = row.requests * latency
    if not floor:
        return Target(True, "export at the latency floor: no added latency to compare with")
    ratio = row.own_s / floor
    wire = floor / max(args.in_flight, 1)
    return Target(
        ratio <= 1.5,
        f"export own time <= 1.5x the latency floor: {row.own_s:.2f} s own for "
        f"{row.requests:,} requests x {args.latency_ms} ms = {floor:.2f} s floor, {ratio:.2f}x "
        f"({row.own_s * 1000 / row.documents:.2f} ms own per document; {args.in_flight} in "
        f"flight, so the wire's floor is {wire:.2f} s, {row.own_s / wire:.2f}x that)",
    )


def _flat_memory(row: Measurement) -> Target:
    """Resident memory after the first tenth of the requests against the end: a run that
    keeps every document grows ~9x its first tenth's growth; a streaming one stays put."""
    samples = row.rss_by_request
    if len(samples) < 10:
        return Target(
            True, f"memory flat in document count: too few requests to tell ({row.label})"
        )
    tenth = samples[len(samples) // 10][1]
    end = max(rss for _, rss in samples[len(samples) // 10 :])
    growth = end - tenth
    return Target(
        growth <= 10,
        f"memory flat in document count: +{growth:.1f} MB resident over the last 90% of the "
        f"export's requests (peak {row.peak_mb:.0f} MB)",
    )


def rerun_scenario(args, sandbox, main, rows, targets) -> None:
    documents = args.loads + args.trips
    row = _export(
        sandbox,
        main,
        batch_size=args.batch_size,
        label="2 re-run the export, nothing changed",
        documents=documents,
    )
    rows.append(row)
    targets.append(
        Target(
            row.writes == 0 and row.extra["created"] == 0,
            f"re-run sends zero writes: {row.writes} write functions in {row.requests} "
            f"request(s), {row.queries} queries",
        )
    )


PAYMENTS_MEMORY_MB = 10  # peak resident memory over the process's at the start of the run


def payments_scenario(args, sandbox, main, rows, targets) -> None:
    """Import `--payments` Sage payment details twice: every detail stored once, then nothing;
    the run's peak memory within PAYMENTS_MEMORY_MB of where it started (Sage's pages stream
    into the staging table), queries growing with chunks of staged details, requests with
    pages."""
    from accounting import models as am
    from benchmarks import data
    from intacct import models as m
    from intacct.connections.sage import client_for
    from intacct.payments import payments_import
    from intacct.payments import services as payment_services

    say(f"Recording {args.payments:,} payment details in Sage ...")
    paid = data.payments_create(main, details=args.payments, per_payment=args.details_per_payment)
    chunk = payment_services.APPLY_CHUNK
    for n, label in (
        (1, f"3 import {args.payments:,} payment details"),
        (2, "3 import again (duplicates only)"),
    ):
        say(f"{label} ...")
        before = am.Payment.objects.count()
        with _app_memory(sandbox) as app, measure(sandbox, label, args.payments) as row:
            result = payments_import(connection=main, client=client_for(main))
        row.extra = {
            "applied": result.applied,
            "duplicates": result.duplicates,
            "closed": result.closed,
            "status": result.status,
            "stored": am.Payment.objects.count() - before,
        }
        rows.append(row)
        if n == 1:
            targets.append(
                Target(
                    result.status == "succeeded"
                    and result.applied == args.payments
                    and result.closed == paid,
                    f"import stores each detail once: {result.applied:,} applied, "
                    f"{result.closed:,} of {paid:,} documents closed (paid off)",
                )
            )
        else:
            targets.append(
                Target(
                    result.applied == 0
                    and result.duplicates == args.payments
                    and row.extra["stored"] == 0,
                    f"the same import again changes nothing: {result.duplicates:,} duplicates, "
                    f"{row.extra['stored']} stored",
                )
            )
        targets.append(
            Target(
                app["growth_mb"] <= PAYMENTS_MEMORY_MB,
                f"import memory flat: the application's peak +{app['growth_mb']:.1f} MB over "
                f"its memory at the start, for {args.payments:,} details (run {n}; target "
                f"+{PAYMENTS_MEMORY_MB} MB; the process's peak RSS, the in-process sandbox's "
                f"own memory included, +{row.growth_mb:.1f} MB)",
            )
        )
        # Bulk inserts split where the database limits the values in one statement (SQLite:
        # 999): the staged details (every detail read) and the new payments; the rest is a
        # fixed number of queries per chunk of APPLY_CHUNK staged details, and per run.
        stage = payment_services.STAGE_BATCH
        inserts = math.ceil(args.payments / stage) * math.ceil(
            stage / _bulk_rows(m.PaymentDetailStage)
        ) + math.ceil(row.extra["stored"] / _bulk_rows(am.Payment))
        chunks = math.ceil(args.payments / chunk)
        bound = 20 + inserts + 30 * chunks
        targets.append(
            Target(
                row.queries <= bound,
                f"import queries grow with chunks of {chunk:,} details, not with payments: "
                f"{row.queries:,} for {args.payments:,} details = {inserts:,} bulk-insert "
                f"statements + {row.queries - inserts} for {chunks} chunk(s) "
                f"(bound {bound:,}; run {n})",
            )
        )
        per_page = 2000
        bound = 1 + 2 * (
            math.ceil(args.payments / per_page) + math.ceil(args.payments / 500) * 2 + 25
        )
        targets.append(
            Target(
                row.requests <= max(bound, 10),
                f"import requests are pages, not payments: {row.requests} for "
                f"{args.payments:,} details (run {n})",
            )
        )


@contextmanager
def _app_memory(sandbox):
    """The application's peak Python memory over what it held at the start (tracemalloc),
    leaving out the sandbox's: the in-process sandbox answers a query by loading every record
    of the object (a real Sage keeps that on its side), so the peak is taken between its
    answers, each answer (the XML page the client then reads) counting as the application's."""
    import tracemalloc

    result = {"growth_mb": 0.0}
    send = sandbox.send
    tracemalloc.start(1)
    start = tracemalloc.get_traced_memory()[0]
    peak = start

    def between_answers(adapter, request, **kwargs):
        nonlocal peak
        peak = max(peak, tracemalloc.get_traced_memory()[1])  # the application's, so far
        response = send(adapter, request, **kwargs)
        tracemalloc.reset_peak()  # the sandbox's work is over; its memory freed
        return response

    sandbox.send = between_answers
    try:
        yield result
    finally:
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        sandbox.send = send
        result["growth_mb"] = (peak - start) / 2**20


def _bulk_rows(model) -> int:
    """Rows per INSERT statement Django's bulk_create makes on this database."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    return connection.ops.bulk_batch_size(fields, [None] * 100_000)


ADMIN_PAGES = (
    ("first page", ""),
    ("filtered: Failed trips", "?status__exact=failed&entity_type__exact=Trip"),
    ("search: a reference", "?q=T0000123"),
    ("search: words of the message", "?q=Net+45"),
    ("a year of the date hierarchy", "?created_at__year={year}"),
)
ADMIN_TARGET_MS = 150  # server time of the Error Transactions list at 100,000 rows


def admin_scenario(args, sandbox, subsidiaries, rows, targets) -> None:
    """The Error Transactions list with `--errors` rows: each page's queries the same as with
    1,000 rows, and its server time (the median of 5 requests, after one to warm the caches)
    within ADMIN_TARGET_MS."""
    import os
    import statistics

    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from benchmarks import data

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    browser = Client()
    browser.force_login(user)
    url = reverse("admin:accounting_errortransaction_changelist")
    small = min(1_000, args.errors)
    year = timezone.localdate().year
    pages = [(name, query.format(year=year)) for name, query in ADMIN_PAGES]
    say(f"Writing {args.errors:,} Error Transactions ...")
    data.errors_create(subsidiaries, count=small)
    browser.get(url)  # the new failures' causes are worked out once, on the first view
    few = {}
    for name, query in pages:
        with measure(sandbox, name, small) as row:
            page = browser.get(url + query)
        assert page.status_code == 200, page.status_code
        few[name] = row.queries
    data.errors_create(subsidiaries, count=args.errors - small, start=small)
    say("First view of the list: the new failures' causes are worked out ...")
    with measure(sandbox, "first view", args.errors) as first:
        browser.get(url)
    args.notes.append(
        f"Error Transactions: the first view after writing {args.errors - small:,} rows worked "
        f"out their causes in {first.wall_s:.1f} s ({first.queries} queries); each row once"
    )
    # What autovacuum does to a table that grew (and was rewritten by the first view) this
    # much: without the statistics the planner takes 100,000 rows for 20,000.
    _statistics("accounting_errortransaction")
    for name, query in pages:
        label = f"4 Error Transactions {args.errors:,} rows: {name}"
        say(f"{label} ...")
        browser.get(url + query)  # warm (template and URL caches), as a served page is
        walls, servers = [], []
        for _ in range(5):
            with CaptureQueriesContext(db) as captured, measure(sandbox, label, args.errors) as row:
                page = browser.get(url + query)
            assert page.status_code == 200, page.status_code
            walls.append(row.wall_s * 1000)
            # Server time: the request's CPU in this process (on SQLite the database's work
            # too), plus the wait on PostgreSQL's own process; wall time on a shared machine
            # also counts other processes' turns on the CPU.
            sql = sum(float(q["time"]) for q in captured.captured_queries) * 1000
            servers.append(row.cpu_s * 1000 + (sql if db.vendor == "postgresql" else 0))
        row.wall_s = statistics.median(walls) / 1000
        rows.append(row)
        ms = statistics.median(servers)
        targets.append(
            Target(
                row.queries == few[name],
                f"admin {name}: a constant number of queries: {row.queries} with "
                f"{args.errors:,} rows, {few[name]} with {small:,}",
            )
        )
        timing = (
            f"admin {name}: {ms:.0f} ms server time at {args.errors:,} rows (target "
            f"{ADMIN_TARGET_MS} ms at 100,000; wall {statistics.median(walls):.0f} ms, load "
            f"average {os.getloadavg()[0]:.1f})"
        )
        if args.errors >= 100_000:  # the target's size; below it the time is only shown
            targets.append(Target(ms <= ADMIN_TARGET_MS, timing))
        else:
            args.notes.append(timing)


def payload_scenario(args, sandbox, main, rows, targets) -> None:
    import xml.etree.ElementTree as ET

    from intacct.connections.sage import client_for
    from intacct.export import DOCUMENT_TYPES, document_function, run_data

    documents = args.loads + args.trips
    label = f"5 payload building, {documents:,} documents (no I/O)"
    say(f"{label} ...")
    building = 0.0
    built = 0
    data = run_data(main, client_for(main), dry_run=True)
    data.sage_terms("APTERM")  # the run's one read of Sage's terms (the bills' due dates)
    with measure(sandbox, label, documents) as row:
        for document_type in ("load", "trip"):
            kind = DOCUMENT_TYPES[document_type]
            docs = kind.ready(connection=main).order_by("pk")
            last = 0
            while True:
                batch = list(docs.filter(pk__gt=last)[: args.batch_size])
                if not batch:
                    break
                last = batch[-1].pk
                cpu = time.process_time()
                for doc in batch:
                    function = document_function(
                        data=data, document_type=document_type, doc=doc, controlid="bench"
                    )
                    ET.tostring(function.body)
                building += time.process_time() - cpu
                built += len(batch)
    row.extra = {"reading_cpu_s": row.cpu_s - building}
    row.cpu_s = building
    rows.append(row)
    targets.append(
        Target(
            built == documents and row.requests == 0,
            f"payload building alone: {row.cpu_ms_per_document:.2f} ms CPU per document "
            f"({built:,} built, {row.requests} requests; reading them took "
            f"{row.extra['reading_cpu_s']:.1f} s CPU and {row.queries} queries)",
        )
    )


# --- the report -----------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def print_report(args, rows: list[Measurement], targets: list[Target], total_s: float) -> None:
    import os
    import platform

    from django.db import connection

    print()
    print(
        f"Ledgerline benchmarks: sandbox in-process, +{args.latency_ms} ms per request, "
        f"batch {args.batch_size}, {args.in_flight} in flight, {connection.vendor} database; "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end, "
        f"{os.cpu_count()} CPUs; {total_s / 60:.1f} min in all"
    )
    header = (
        f"{'scenario':<58} {'docs':>7} {'requests':>8} {'writes':>7} {'queries':>7} "
        f"{'wall s':>7} {'sandbox s':>9} {'own s':>7} {'CPU ms/doc':>10} {'peak MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row.label[:58]:<58} {row.documents:>7,} {row.requests:>8,} {row.writes:>7,} "
            f"{row.queries:>7,} {row.wall_s:>7.2f} {row.sandbox_s:>9.2f} "
            f"{row.own_s:>7.2f} "
            f"{row.cpu_ms_per_document:>10.3f} {row.peak_mb:>7.0f}"
        )
    print()
    print("wall s includes the in-process sandbox (sandbox s: its work plus the added latency);")
    print("own s = wall s less the sandbox's own work, latency kept: what the run would take")
    print("against a Sage answering in that latency. CPU ms/doc: the application's and the")
    print("client's CPU only. Queries: the application's only. Peak MB: the process's peak RSS.")
    print()
    for note in getattr(args, "notes", []):
        print(note)
    print()
    for target in targets:
        print(f"{'PASS' if target.ok else 'FAIL'}  {target.text}")


if __name__ == "__main__":
    sys.exit(main())
