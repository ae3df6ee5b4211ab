"""The schedules that run the integration, declared in code: per syncing connection, an export
every INTACCT_EXPORT_INTERVAL_MINUTES, a payment import every 12 hours and Reconcile with Sage
every INTACCT_RECONCILE_INTERVAL_MINUTES (daily).

Schedules name their task by its dotted path (`intacct.tasks`), so this module imports none of
the work they start; connection services call `schedules_ensure` when a connection starts or
stops syncing.
"""

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from .models import Connection

EXPORT_TASK = "intacct.tasks.connection_export"
TRIP_TASK = "intacct.tasks.trip_export"
LOADS_TASK = "intacct.tasks.loads_export_now"
PAYMENT_TASK = "intacct.tasks.connection_payments_import"
RECONCILE_TASK = "intacct.tasks.connection_reconcile"
PAYMENT_IMPORT_INTERVAL_MINUTES = 12 * 60
ALERTS_TASK = "intacct.tasks.connection_alerts_send"
ALERTS_SCHEDULE = "Sage Intacct alerts"
ALERTS_INTERVAL_MINUTES = 5


def _export_schedule_name(connection: Connection) -> str:
    return f"Sage Intacct export: {connection.subsidiary.code}"


def _payment_schedule_name(connection: Connection) -> str:
    return f"Sage Intacct payment import: {connection.subsidiary.code}"


def _reconcile_schedule_name(connection: Connection) -> str:
    return f"Sage Intacct reconcile: {connection.subsidiary.code}"


def schedules_ensure() -> int:
    """Create or update every schedule from code: per syncing connection, one export schedule,
    one payment import every 12 hours and one daily reconcile; schedules of paused or
    disconnected connections are removed; one alert check for all connections every 5 minutes.
    Returns how many connections are scheduled."""
    kinds = (
        (_export_schedule_name, EXPORT_TASK, settings.INTACCT_EXPORT_INTERVAL_MINUTES),
        (_payment_schedule_name, PAYMENT_TASK, PAYMENT_IMPORT_INTERVAL_MINUTES),
        (_reconcile_schedule_name, RECONCILE_TASK, settings.INTACCT_RECONCILE_INTERVAL_MINUTES),
    )
    wanted = {func: set() for _, func, _ in kinds}
    for connection in Connection.objects.select_related("subsidiary"):
        if not connection.is_syncing:
            continue
        for schedule_name, func, interval in kinds:
            name = schedule_name(connection)
            wanted[func].add(name)
            Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "args": str(connection.pk),
                    "schedule_type": Schedule.MINUTES,
                    "minutes": interval,
                    "repeats": -1,
                },
            )
            Schedule.objects.filter(name=name, next_run__isnull=True).update(
                next_run=timezone.now()
            )
    for func, names in wanted.items():
        Schedule.objects.filter(func=func).exclude(name__in=names).delete()
    _schedule(ALERTS_SCHEDULE, ALERTS_TASK, ALERTS_INTERVAL_MINUTES)
    return len(wanted[EXPORT_TASK])


def _schedule(name: str, func: str, minutes: int) -> None:
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "args": None,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
    Schedule.objects.filter(name=name, next_run__isnull=True).update(next_run=timezone.now())
