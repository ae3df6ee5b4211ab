"""Thin django-q2 tasks and the schedules that run them, declared in code."""

import logging

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from . import models as m

logger = logging.getLogger("intacct.tasks")

EXPORT_TASK = "intacct.tasks.connection_export"
TRIP_TASK = "intacct.tasks.trip_export"


def connection_export(connection_id: int) -> dict:
    """Export one connection's ready documents. Safe to run twice: the ledger and stable
    controlids keep every document to one Sage document."""
    from .export import loads_export, trips_export

    connection = m.Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
    if connection is None or not connection.is_syncing:
        return {"skipped": "connection not active"}
    totals = {"created": 0, "failed": 0, "requests": 0}
    for export in (loads_export, trips_export):
        summary = export(connection=connection, batch_size=settings.INTACCT_BATCH_SIZE)
        for key in totals:
            totals[key] += getattr(summary, key)
    logger.info(
        "Export for %s: %s created, %s failed, %s requests",
        connection.subsidiary,
        totals["created"],
        totals["failed"],
        totals["requests"],
    )
    return totals


def trip_export(trip_id: int) -> dict:
    """Export one trip's bill now (after its carrier invoice upload). Safe to run twice."""
    from accounting.models import Trip

    from .export import trips_export

    trip = Trip.objects.filter(pk=trip_id).select_related("subsidiary").first()
    connection = (
        m.Connection.objects.filter(subsidiary_id=trip.subsidiary_id).first() if trip else None
    )
    if connection is None or not connection.is_syncing:
        return {"skipped": "no active connection"}
    summary = trips_export(connection=connection, ids=[trip_id])
    return {"created": summary.created, "failed": summary.failed}


def carrier_invoice_uploaded_receiver(sender, trip, **kwargs) -> None:
    """ "Send carrier invoice upon upload": queue the trip's bill now, not at the next cycle."""
    ap = (
        m.APSettings.objects.filter(connection__subsidiary_id=trip.subsidiary_id)
        .select_related("connection")
        .first()
    )
    if ap and ap.send_carrier_invoice_on_upload and ap.connection.is_syncing:
        async_task(TRIP_TASK, trip.pk)


def _export_schedule_name(connection: m.Connection) -> str:
    return f"Sage Intacct export: {connection.subsidiary.code}"


def schedules_ensure() -> int:
    """Create or update every schedule from code: one export schedule per syncing connection;
    schedules of paused or disconnected connections are removed. Returns how many exist."""
    interval = settings.INTACCT_EXPORT_INTERVAL_MINUTES
    wanted = set()
    for connection in m.Connection.objects.select_related("subsidiary"):
        name = _export_schedule_name(connection)
        if not connection.is_syncing:
            continue
        wanted.add(name)
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": EXPORT_TASK,
                "args": str(connection.pk),
                "schedule_type": Schedule.MINUTES,
                "minutes": interval,
                "repeats": -1,
            },
        )
        Schedule.objects.filter(name=name, next_run__isnull=True).update(next_run=timezone.now())
    stale = Schedule.objects.filter(func=EXPORT_TASK).exclude(name__in=wanted)
    stale.delete()
    return len(wanted)
