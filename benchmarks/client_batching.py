#!/usr/bin/env python
"""Send N create functions through the client to the sandbox over real HTTP, batched vs one by one.

    .venv/bin/python benchmarks/client_batching.py [--functions 10000] [--batch 100]

Uses a throwaway SQLite database and a sandbox server on a free loopback port, so it touches
nothing of yours. Prints requests made, wall time, and CPU time per function (client and
sandbox share this process, so CPU is both together).
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

ROOT = Path(__file__).resolve().parents[1]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def setup_django(database: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run(client_factory, functions, batch: int) -> dict:
    client = client_factory()
    client.open_session()
    sent_before = client.requests_sent
    wall, cpu = time.perf_counter(), time.process_time()
    failures = 0
    for start in range(0, len(functions), batch):
        results = client.execute(functions[start : start + batch])
        failures += sum(1 for r in results if not r.ok)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "batch": batch,
        "requests": client.requests_sent - sent_before,
        "failures": failures,
        "wall_s": wall,
        "cpu_ms_per_function": cpu * 1000 / len(functions),
        "wall_ms_per_function": wall * 1000 / len(functions),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        from accounting import demo_data
        from intacct.client import Credentials, IntacctClient, SenderCredentials
        from intacct.client import functions as fn
        from intacct.sandbox.gateway import SANDBOX_PATH
        from intacct.sandbox.services import sandbox_seed
        from intacct.sandbox.wsgi import sandbox_app

        sandbox_seed()
        server = ThreadedServer(("127.0.0.1", 0), QuietHandler)
        server.set_app(sandbox_app)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}{SANDBOX_PATH}"

        def client_factory():
            return IntacctClient(
                endpoint_url=url,
                sender=SenderCredentials(demo_data.SAGE_SENDER_ID, demo_data.SAGE_SENDER_PASSWORD),
                credentials=Credentials(
                    demo_data.SAGE_COMPANY_ID,
                    demo_data.SAGE_USER_ID,
                    demo_data.SAGE_USER_PASSWORD,
                    location_id="E100",
                ),
            )

        rows = []
        for label, batch in (("batched", args.batch), ("one per request", 1)):
            functions = [
                fn.create(
                    "CUSTOMER",
                    {"CUSTOMERID": f"B{batch}-{i}", "NAME": f"Bench {i}"},
                    controlid=f"bench-{batch}-{i}",
                )
                for i in range(args.functions)
            ]
            rows.append((label, run(client_factory, functions, batch)))
        server.shutdown()

    print(f"{args.functions} create functions, client -> sandbox over HTTP on loopback")
    print(
        f"{'mode':<16} {'batch':>5} {'requests':>9} {'failures':>8} {'wall s':>8} "
        f"{'wall ms/fn':>10} {'cpu ms/fn':>9}"
    )
    for label, row in rows:
        print(
            f"{label:<16} {row['batch']:>5} {row['requests']:>9} {row['failures']:>8} "
            f"{row['wall_s']:>8.2f} {row['wall_ms_per_function']:>10.3f} "
            f"{row['cpu_ms_per_function']:>9.3f}"
        )
    batched, single = rows[0][1], rows[1][1]
    print(
        f"batching made {single['requests'] / batched['requests']:.0f}x fewer requests and was "
        f"{single['wall_s'] / batched['wall_s']:.1f}x faster"
    )


if __name__ == "__main__":
    main()
