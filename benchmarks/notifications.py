#!/usr/bin/env python
"""Payments within a minute: what one payment notification costs, and how long a payment takes
from being recorded in Sage to its load being Completed.

    .venv/bin/python benchmarks/notifications.py [--payments 50] [--latency-ms 300]

For each of N exported loads: an accountant records a payment of everything due in the sandbox
console, its Smart Event's notification is posted to the connection's endpoint (through Django's
test client: no socket), and the narrow import runs at once (the task cluster's work, inline).
Measured per notification: Sage requests, the application's queries (endpoint and import; the
sandbox's own are left out), and wall time from the payment recorded to the load Completed, with
`--latency-ms` added by the sandbox to every Sage request. Then the 12-hour import runs and must
apply nothing. Uses a throwaway SQLite database (or --database-url, an empty one).
"""

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import InProcessSandbox, database_empty, django_setup, measure


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--payments", type=int, default=50, help="loads paid, one notification each"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=300, help="added by the sandbox to every Sage request"
    )
    parser.add_argument("--database-url", default=None, help="an empty database of its own")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    folder = django_setup(args.database_url)
    try:
        sandbox = InProcessSandbox()
        with sandbox.installed():
            ok = run(args, sandbox)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            database_empty()
    return 0 if ok else 1


def run(args, sandbox: InProcessSandbox) -> bool:
    from django.test import Client
    from django_q.conf import Conf

    from accounting import models as am
    from benchmarks import data
    from intacct.export import loads_export
    from intacct.notifications.models import PaymentNotification
    from intacct.notifications.services import notification_path, notification_secret_rotate
    from intacct.payments import payments_import
    from intacct.sandbox.models import SandboxRecord
    from intacct.sandbox.services import sandbox_faults_set, sandbox_payment_record, sandbox_seed

    Conf.SYNC = True  # the queued import runs inline, as a free worker would at once
    print(f"Setting up: {args.payments} loads exported to the sandbox ...", flush=True)
    sandbox_seed()
    connection = data.connect("RF", "Ridgeline Freight")
    data.documents_create(connection, loads=args.payments, trips=0, prefix="N")
    load_ids = list(am.Load.objects.values_list("pk", flat=True))
    loads_export(connection=connection, ids=load_ids, batch_size=50)
    path = notification_path(
        connection=connection, secret=notification_secret_rotate(connection=connection)
    )
    records = dict(
        am.SyncRecord.objects.filter(document_type="load").values_list("document_id", "record_no")
    )
    sandbox_faults_set(latency_ms=args.latency_ms)
    client = Client()
    requests, queries, seconds = [], [], []
    for load_id in load_ids:
        invoice = SandboxRecord.objects.get(pk=int(records[load_id]))
        started = time.perf_counter()
        payment = sandbox_payment_record(document=invoice)
        body = {"object": payment.object, "recordno": str(payment.pk)}
        with measure(sandbox, "notification", 1) as step:
            answer = client.post(path, data=json.dumps(body), content_type="application/json")
        seconds.append(time.perf_counter() - started)
        requests.append(step.requests)
        queries.append(step.queries)
        if answer.status_code != 202:
            print(f"FAIL  notification answered {answer.status_code}: {answer.content!r}")
            return False
    completed = am.Load.objects.filter(billing_status=am.BillingStatus.COMPLETED).count()
    imported = PaymentNotification.objects.filter(status="imported").count()
    with measure(sandbox, "scheduled", args.payments) as scheduled:
        run_after = payments_import(connection=connection)

    n = args.payments
    print()
    print(f"Payments within a minute: {n} payments, Sage latency {args.latency_ms} ms/request")
    print(f"  notifications imported           {imported} / {n}")
    print(f"  loads Completed                  {completed} / {n}")
    print(f"  Sage requests per notification   {min(requests)}-{max(requests)}")
    print(
        f"  app queries per notification     {min(queries)}-{max(queries)} (endpoint, import, task result)"
    )
    print(
        f"  recorded -> Completed            median {statistics.median(seconds) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms"
    )
    print(
        f"  12-hour import afterwards        {run_after.fetched} read, {run_after.applied} "
        f"applied, {run_after.duplicates} already imported, {scheduled.requests} requests, "
        f"{scheduled.queries} queries"
    )
    checks = {
        "every payment reached its load": completed == imported == n,
        "requests per notification do not grow": max(requests) == min(requests),
        "queries per notification do not grow": max(queries) == min(queries),
        "the 12-hour import applied nothing again": run_after.applied == 0
        and run_after.duplicates == n,
        "within a minute": max(seconds) < 60,
    }
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'}  {name}")
    return all(checks.values())


if __name__ == "__main__":
    sys.exit(main())
