"""The integration's status per connection, as the connection page, the JSON endpoint,
`manage.py intacct_status` and the alerts all read it."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from accounting import models as am
from intacct.connections.models import Connection
from intacct.connections.schedules import (
    EXPORT_TASK,
    PAYMENT_IMPORT_INTERVAL_MINUTES,
    PAYMENT_TASK,
)
from intacct.export import DOCUMENT_TYPES, ExportSummary, documents_eligible
from intacct.payments.models import PaymentImportRun

from .models import MonitorState

logger = logging.getLogger("intacct.monitoring")

# A schedule is overdue when nothing succeeded for this many of its intervals: one missed run
# is a slow run, two mean the cluster is down or Sage keeps failing.
OVERDUE_INTERVALS = 2

CREDENTIALS = "credentials"
OPEN_ERRORS = "open_errors"
EXPORT_OVERDUE = "export_overdue"
PAYMENTS_OVERDUE = "payments_overdue"
# The problems that make `manage.py intacct_status` exit non-zero.
FAILING = (CREDENTIALS, EXPORT_OVERDUE, PAYMENTS_OVERDUE)

CREDENTIALS_FAILING = (
    "Sage Intacct refuses this connection's credentials ({detail}). Enter the Web Services "
    "user's current password on the Credentials step, then press Test connection."
)
TOO_MANY_OPEN_ERRORS = (
    "{count} documents failed to export and are waiting on the Error Transactions page "
    "(alert threshold {threshold}, INTACCT_ALERT_OPEN_ERRORS). Fix each as its message says, "
    "then Retry Sync."
)
EXPORT_LATE = (
    "No export has reached Sage Intacct since {since} ({ago} ago; the schedule runs every "
    "{interval} minutes). {cause}"
)
PAYMENTS_LATE = (
    "No payment import has succeeded since {since} ({ago} ago; the schedule runs every "
    "{interval} hours). {cause}"
)
NO_SCHEDULE = (
    "Its schedule is missing: run `python manage.py ensure_schedules` (the Procfile's release "
    "step)."
)
CLUSTER_LATE = (
    "Its schedule was due at {due} and has not run: check that a task cluster "
    "(`python manage.py qcluster`) is running and reaches the broker."
)
RUNS_FAILING = (
    "The schedule runs but does not succeed: read the latest run's error (the task cluster's "
    "log, or the payment import log), then press {button} on the connection page."
)


@dataclass
class Problem:
    code: str
    message: str
    fix_url: str  # a path in this app (alerts put LEDGERLINE_BASE_URL in front)


@dataclass
class ConnectionStatus:
    connection_id: int
    subsidiary: str
    subsidiary_name: str
    status: str
    syncing: bool
    last_export_at: dt.datetime | None
    last_payment_import_at: dt.datetime | None
    documents_waiting: int | None  # None: a document type could not be counted (see the log)
    open_errors: int
    export_overdue: bool = False
    payments_overdue: bool = False
    credentials_failing: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def failing(self) -> bool:
        """Overdue or refused by Sage (what a monitor should page on)."""
        return any(problem.code in FAILING for problem in self.problems)

    @property
    def problem_codes(self) -> list[str]:
        return sorted(problem.code for problem in self.problems)

    def as_dict(self) -> dict:
        """JSON-ready: names, times, counts and problems; never a credential."""
        return {
            "connection": self.connection_id,
            "subsidiary": self.subsidiary,
            "subsidiary_name": self.subsidiary_name,
            "status": self.status,
            "syncing": self.syncing,
            "ok": self.ok,
            "last_export_at": _iso(self.last_export_at),
            "last_payment_import_at": _iso(self.last_payment_import_at),
            "documents_waiting": self.documents_waiting,
            "open_error_transactions": self.open_errors,
            "export_overdue": self.export_overdue,
            "payments_overdue": self.payments_overdue,
            "credentials_failing": self.credentials_failing,
            "problems": [
                {"code": p.code, "message": p.message, "fix_url": p.fix_url} for p in self.problems
            ],
        }


def connections_status(
    *, connection_ids: list[int] | None = None, now: dt.datetime | None = None
) -> list[ConnectionStatus]:
    """The status of every Active or Paused connection (or of those given), by subsidiary.

    Five queries for all connections together, plus one count per enabled document type for
    each syncing connection (documents waiting): never a query per document.
    """
    now = now or timezone.now()
    connections = list(
        Connection.objects.select_related(
            "subsidiary", "ar_settings", "ap_settings", "advanced_settings", "monitor_state"
        )
        .filter(status__in=[Connection.Status.ACTIVE, Connection.Status.PAUSED])
        .filter(**({"pk__in": connection_ids} if connection_ids is not None else {}))
        .order_by("subsidiary__code")
    )
    if not connections:
        return []
    ids = [c.pk for c in connections]
    open_errors = dict(
        am.ErrorTransaction.objects.filter(
            status=am.ErrorTransaction.Status.FAILED,
            subsidiary_id__in=[c.subsidiary_id for c in connections],
        )
        .values_list("subsidiary_id")
        .annotate(n=Count("id"))
    )
    last_imports = dict(
        PaymentImportRun.objects.filter(
            connection_id__in=ids, status=PaymentImportRun.Status.SUCCEEDED
        )
        .values_list("connection_id")
        .annotate(at=Max("finished_at"))
    )
    next_runs = {
        (func, args): next_run
        for func, args, next_run in Schedule.objects.filter(
            func__in=[EXPORT_TASK, PAYMENT_TASK], args__in=[str(pk) for pk in ids]
        ).values_list("func", "args", "next_run")
    }
    return [
        _status(
            connection,
            now=now,
            open_errors=open_errors.get(connection.subsidiary_id, 0),
            last_import=last_imports.get(connection.pk),
            next_runs=next_runs,
        )
        for connection in connections
    ]


def _status(connection, *, now, open_errors, last_import, next_runs) -> ConnectionStatus:
    state = getattr(connection, "monitor_state", None)
    status = ConnectionStatus(
        connection_id=connection.pk,
        subsidiary=connection.subsidiary.code,
        subsidiary_name=connection.subsidiary.name,
        status=connection.get_status_display(),
        syncing=connection.is_syncing,
        last_export_at=state.last_export_at if state else None,
        last_payment_import_at=last_import,
        documents_waiting=documents_waiting(connection) if connection.is_syncing else 0,
        open_errors=open_errors,
    )
    page = reverse("admin:intacct_connection_change", args=[connection.pk])
    if connection.last_test_ok is False:
        status.credentials_failing = True
        status.problems.append(
            Problem(
                CREDENTIALS,
                CREDENTIALS_FAILING.format(
                    detail=connection.last_test_message or "sign-in refused"
                ),
                reverse("admin:intacct_wizard_credentials", args=[connection.pk]),
            )
        )
    threshold = settings.INTACCT_ALERT_OPEN_ERRORS
    if threshold > 0 and open_errors >= threshold:
        status.problems.append(
            Problem(
                OPEN_ERRORS,
                TOO_MANY_OPEN_ERRORS.format(count=open_errors, threshold=threshold),
                reverse("admin:accounting_errortransaction_changelist")
                + f"?status__exact=failed&subsidiary__id__exact={connection.subsidiary_id}",
            )
        )
    if not connection.is_syncing:
        return status
    activated = connection.activated_at or connection.created_at
    export_interval = dt.timedelta(minutes=settings.INTACCT_EXPORT_INTERVAL_MINUTES)
    since = status.last_export_at or activated
    if now - since > OVERDUE_INTERVALS * export_interval:
        status.export_overdue = True
        cause = _cause(next_runs.get((EXPORT_TASK, str(connection.pk)), False), now, "Export now")
        status.problems.append(
            Problem(
                EXPORT_OVERDUE,
                EXPORT_LATE.format(
                    since=_when(since),
                    ago=_ago(now - since),
                    interval=settings.INTACCT_EXPORT_INTERVAL_MINUTES,
                    cause=cause,
                ),
                page,
            )
        )
    payment_interval = dt.timedelta(minutes=PAYMENT_IMPORT_INTERVAL_MINUTES)
    since = last_import or activated
    if now - since > OVERDUE_INTERVALS * payment_interval:
        status.payments_overdue = True
        cause = _cause(
            next_runs.get((PAYMENT_TASK, str(connection.pk)), False), now, "Import payments now"
        )
        status.problems.append(
            Problem(
                PAYMENTS_OVERDUE,
                PAYMENTS_LATE.format(
                    since=_when(since),
                    ago=_ago(now - since),
                    interval=PAYMENT_IMPORT_INTERVAL_MINUTES // 60,
                    cause=cause,
                ),
                page,
            )
        )
    return status


def documents_waiting(connection: Connection) -> int | None:
    """Documents ready to export and not synced since their last change, over the document
    types the connection's settings turn on (one count per such type). None when a type
    cannot be counted (a defect, logged with its traceback): the status still shows the rest,
    and the page that shows it still opens."""
    groups = {
        "ar": getattr(connection, "ar_settings", None),
        "ap": getattr(connection, "ap_settings", None),
        "advanced": getattr(connection, "advanced_settings", None),
    }
    total = 0
    for document_type, kind in DOCUMENT_TYPES.items():
        if not all(getattr(groups[group], toggle, False) for group, toggle in kind.toggles):
            continue
        try:
            total += documents_eligible(connection=connection, document_type=document_type).count()
        except Exception:
            logger.exception(
                "Documents waiting for %s: %s could not be counted", connection, document_type
            )
            return None
    return total


def export_run_record(
    *, connection: Connection, summary: ExportSummary, now: dt.datetime | None = None
) -> bool:
    """Note a scheduled export run that reached Sage: no request failed as a whole and the
    credentials were accepted (documents refused one by one are Error Transactions, not a
    failed run). Returns whether it counted."""
    if summary.errors or Connection.objects.filter(pk=connection.pk, last_test_ok=False).exists():
        return False
    MonitorState.objects.update_or_create(
        connection=connection, defaults={"last_export_at": now or timezone.now()}
    )
    return True


def _cause(next_run, now: dt.datetime, button: str) -> str:
    if next_run is False:
        return NO_SCHEDULE
    if next_run is not None and next_run < now - dt.timedelta(minutes=5):
        return CLUSTER_LATE.format(due=_when(next_run))
    return RUNS_FAILING.format(button=button)


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _ago(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
