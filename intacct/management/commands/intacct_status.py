"""Print each connection's integration status; exit non-zero when something is overdue or
Sage refuses a connection's credentials (for cron, a monitor or a deploy check)."""

import json

from django.core.management.base import BaseCommand, CommandError

from intacct.monitoring import connections_status

FAILING = "{count} connection(s) overdue or refused by Sage Intacct: see the problems above."
UNKNOWN_SUBSIDIARY = (
    "No Active or Paused Sage Intacct connection for subsidiary {code}: run without "
    "--subsidiary to list them."
)


class Command(BaseCommand):
    help = (
        "Integration status per connection: last successful export and payment import, "
        "documents waiting, open Error Transactions, overdue schedules, failing credentials. "
        "Exits 1 when something is overdue or credentials are failing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--subsidiary", help="Only the connection of this subsidiary code.")
        parser.add_argument(
            "--json", action="store_true", help="Print the status endpoint's JSON instead."
        )

    def handle(self, *args, subsidiary=None, **options):
        statuses = connections_status()
        if subsidiary:
            statuses = [s for s in statuses if s.subsidiary == subsidiary]
            if not statuses:
                raise CommandError(UNKNOWN_SUBSIDIARY.format(code=subsidiary))
        if options["json"]:
            self._json(statuses)
        else:
            for status in statuses:
                self._print(status)
            if not statuses:
                self.stdout.write("No Active or Paused Sage Intacct connection.")
        failing = [s for s in statuses if s.failing]
        if failing:
            raise CommandError(FAILING.format(count=len(failing)))

    def _json(self, statuses):
        body = {
            "ok": all(s.ok for s in statuses),
            "failing": any(s.failing for s in statuses),
            "connections": [s.as_dict() for s in statuses],
        }
        self.stdout.write(json.dumps(body, indent=2))

    def _print(self, status):
        head = f"{status.subsidiary} {status.subsidiary_name} ({status.status})"
        style = self.style.SUCCESS if status.ok else self.style.ERROR
        self.stdout.write(style(f"{head}: {'OK' if status.ok else 'needs attention'}"))
        self.stdout.write(f"  last successful export:         {_when(status.last_export_at)}")
        self.stdout.write(
            f"  last successful payment import: {_when(status.last_payment_import_at)}"
        )
        waiting = status.documents_waiting
        self.stdout.write(
            f"  documents waiting:              {'unknown (see the log)' if waiting is None else waiting}"
        )
        self.stdout.write(f"  open Error Transactions:        {status.open_errors}")
        for problem in status.problems:
            self.stdout.write(f"  - {problem.message}")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z") if moment else "never"
