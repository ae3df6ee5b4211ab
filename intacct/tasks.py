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
LOADS_TASK = "intacct.tasks.loads_export_now"
PAYMENT_TASK = "intacct.tasks.connection_payments_import"
PAYMENT_IMPORT_INTERVAL_MINUTES = 12 * 60


def connection_export(connection_id: int) -> dict:
    """Export one connection's ready documents of every type. Safe to run twice: the ledger
    and stable controlids keep every document to one Sage document."""
    from .export import ExportSummary
    from .export import connection_export as export_all

    connection = m.Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
    if connection is None or not connection.is_syncing:
        return {"skipped": "connection not active"}
    total = ExportSummary()
    for summary in export_all(
        connection=connection, batch_size=settings.INTACCT_BATCH_SIZE
    ).values():
        total.add(summary)
    logger.info(
        "Export for %s: %s created, %s updated, %s reversed, %s failed, %s requests",
        connection.subsidiary,
        total.created,
        total.updated,
        total.reversed,
        total.failed,
        total.requests,
    )
    return {
        "created": total.created,
        "updated": total.updated,
        "reversed": total.reversed,
        "failed": total.failed,
        "requests": total.requests,
    }


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


def loads_export_now(connection_id: int, load_ids: list[int]) -> dict:
    """Export these loads' invoices now (after batch invoicing). Safe to run twice."""
    from .export import loads_export

    connection = m.Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
    if connection is None or not connection.is_syncing:
        return {"skipped": "connection not active"}
    summary = loads_export(
        connection=connection, ids=load_ids, batch_size=settings.INTACCT_BATCH_SIZE
    )
    return {"created": summary.created, "failed": summary.failed, "requests": summary.requests}


def loads_invoiced_receiver(sender, load_ids, **kwargs) -> None:
    """Batch invoicing: queue each syncing subsidiary's newly invoiced loads at once, in
    batches, rather than waiting for the next export cycle."""
    from accounting.models import Load

    by_subsidiary: dict[int, list[int]] = {}
    for load_id, subsidiary_id in Load.objects.filter(pk__in=load_ids).values_list(
        "pk", "invoice_as_subsidiary_id"
    ):
        by_subsidiary.setdefault(subsidiary_id, []).append(load_id)
    for connection in m.Connection.objects.filter(subsidiary_id__in=by_subsidiary):
        if connection.is_syncing:
            async_task(LOADS_TASK, connection.pk, by_subsidiary[connection.subsidiary_id])


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


def _payment_schedule_name(connection: m.Connection) -> str:
    return f"Sage Intacct payment import: {connection.subsidiary.code}"


def connection_payments_import(connection_id: int) -> dict:
    """Import the payments Sage recorded in the lookback window. Safe to run twice: each Sage
    payment detail is stored once per connection."""
    from .payments import payments_import

    connection = m.Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
    if connection is None or not connection.is_syncing:
        return {"skipped": "connection not active"}
    run = payments_import(connection=connection)
    logger.info(
        "Payment import for %s: %s fetched, %s applied, %s duplicates, %s skipped, %s",
        connection.subsidiary,
        run.fetched,
        run.applied,
        run.duplicates,
        run.skipped,
        run.status,
    )
    return {"run": run.pk, "status": run.status, "applied": run.applied, "error": run.error}


def schedules_ensure() -> int:
    """Create or update every schedule from code: per syncing connection, one export schedule
    and one payment import every 12 hours; schedules of paused or disconnected connections are
    removed. Returns how many connections are scheduled."""
    kinds = (
        (_export_schedule_name, EXPORT_TASK, settings.INTACCT_EXPORT_INTERVAL_MINUTES),
        (_payment_schedule_name, PAYMENT_TASK, PAYMENT_IMPORT_INTERVAL_MINUTES),
    )
    wanted = {func: set() for _, func, _ in kinds}
    for connection in m.Connection.objects.select_related("subsidiary"):
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
    return len(wanted[EXPORT_TASK])
