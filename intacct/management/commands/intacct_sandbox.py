"""Serve the built-in Sage Intacct sandbox on its own port."""

from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import run
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from intacct.sandbox import demo
from intacct.sandbox.gateway import SANDBOX_PATH
from intacct.sandbox.services import sandbox_seed
from intacct.sandbox.wsgi import sandbox_app


class Command(BaseCommand):
    help = "Serve the Sage Intacct sandbox gateway (seeding the demo company when missing)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--reset", action="store_true", help="Wipe the sandbox and seed the demo company again."
        )
        parser.add_argument(
            "--seed-only", action="store_true", help="Seed (or reset) and exit without serving."
        )

    def handle(self, *args, host, port, reset, seed_only, **options):
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "The database is not migrated: run `python manage.py migrate` first."
            )
        company = sandbox_seed(reset=reset)
        self.stdout.write(
            f"Sandbox company {company.company_id}: sender {demo.SENDER_ID}, "
            f"user {demo.USER_ID} (passwords in the README)."
        )
        if seed_only:
            return
        url = f"http://{host}:{port}{SANDBOX_PATH}"
        self.stdout.write(f"Serving the Sage Intacct sandbox at {url}  (Ctrl-C to stop)")
        self.stdout.write(f"Point the app at it with INTACCT_ENDPOINT_URL={url}")
        run(host, port, sandbox_app, threading=True)
