"""Thin django-q2 tasks: each finds its connection and calls one service. Their schedules are
declared in code in `connections.schedules`; the receivers here queue work the TMS asks for
at once (batch invoicing, a carrier invoice upload)."""

import logging

from django.conf import settings
from django_q.tasks import async_task

from accounting.models import Load, Trip

from .connections.models import APSettings, Connection
from .connections.schedules import (
    ALERTS_TASK,
    EXPORT_TASK,
    LOADS_TASK,
    PAYMENT_TASK,
    RECONCILE_TASK,
    TRIP_TASK,
    schedules_ensure,
)
from .export import ExportSummary, loads_export, trips_export
from .export import connection_export as export_all
from .monitoring import alerts_send, export_run_record
from .notifications.services import notification_import
from .payments import payments_import
from .reconcile.services import connection_reconcile as reconcile

__all__ = [
    "ALERTS_TASK",
    "EXPORT_TASK",
    "LOADS_TASK",
    "PAYMENT_TASK",
    "RECONCILE_TASK",
    "TRIP_TASK",
    "schedules_ensure",
]

logger = logging.getLogger("intacct.tasks")


def connection_export(connection_id: int) -> dict:
    """Export one connection's ready documents of every type. Safe to run twice: the ledger
    and stable controlids keep every document to one Sage document."""
    connection = Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
    if connection is None or not connection.is_syncing:
        return {"skipped": "connection not active"}
    total = ExportSummary()
    for summary in export_all(
        connection=connection, batch_size=settings.INTACCT_BATCH_SIZE
    ).values():
        total.add(summary)
    logger.info(
        "Export for %s: %s created, %s updated, %s reversed, %s failed (%s unexpected), "
        "%s skipped (another run held them), %s requests",
        connection.subsidiary,
        total.created,
        total.updated,
        total.reversed,
        total.failed,
        total.unexpected,
        total.held,
        total.requests,
    )
    for error in total.errors + total.unexpected_errors:
        logger.warning("Export for %s: %s", connection.subsidiary, error)
    export_run_record(connection=connection, summary=total)
    return {
        "created": total.created,
        "updated": total.updated,
        "reversed": total.reversed,
        "failed": total.failed,
        "unexpected": total.unexpected,
        "held": total.held,
        "requests": total.requests,
    }


def trip_export(trip_id: int) -> dict:
    """Export one trip's bill now (after its carrier invoice upload). Safe to run twice."""
    trip = Trip.objects.filter(pk=trip_id).select_related("subsidiary").first()
    connection = (
        Connection.objects.filter(subsidiary_id=trip.subsidiary_id).first() if trip else None
    )
    if connection is None or not connection.is_syncing:
        return {"skipped": "no active connection"}
    summary = trips_export(connection=connection, ids=[trip_id])
    return {"created": summary.created, "failed": summary.failed}


def loads_export_now(connection_id: int, load_ids: list[int]) -> dict:
    """Export these loads' invoices now (after batch invoicing). Safe to run twice."""
    connection = Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
    if connection is None or not connection.is_syncing:
        return {"skipped": "connection not active"}
    summary = loads_export(
        connection=connection, ids=load_ids, batch_size=settings.INTACCT_BATCH_SIZE
    )
    return {"created": summary.created, "failed": summary.failed, "requests": summary.requests}


def loads_invoiced_receiver(sender, load_ids, **kwargs) -> None:
    """Batch invoicing: queue each syncing subsidiary's newly invoiced loads at once, in
    batches, rather than waiting for the next export cycle."""
    by_subsidiary: dict[int, list[int]] = {}
    for load_id, subsidiary_id in Load.objects.filter(pk__in=load_ids).values_list(
        "pk", "invoice_as_subsidiary_id"
    ):
        by_subsidiary.setdefault(subsidiary_id, []).append(load_id)
    for connection in Connection.objects.filter(subsidiary_id__in=by_subsidiary):
        if connection.is_syncing:
            async_task(LOADS_TASK, connection.pk, by_subsidiary[connection.subsidiary_id])


def carrier_invoice_uploaded_receiver(sender, trip, **kwargs) -> None:
    """ "Send carrier invoice upon upload": queue the trip's bill now, not at the next cycle."""
    ap = (
        APSettings.objects.filter(connection__subsidiary_id=trip.subsidiary_id)
        .select_related("connection")
        .first()
    )
    if ap and ap.send_carrier_invoice_on_upload and ap.connection.is_syncing:
        async_task(TRIP_TASK, trip.pk)


def connection_payments_import(connection_id: int) -> dict:
    """Import the payments Sage recorded in the lookback window. Safe to run twice: each Sage
    payment detail is stored once per connection."""
    connection = Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
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


def connection_alerts_send() -> dict:
    """Email the admins of each connection whose problems changed (one email per change)."""
    return {"sent": alerts_send()}


def payment_notification_import(notification_id: int) -> dict:
    """Import the payments a notification named, read back from Sage. Safe to run twice: the
    notification is claimed with a conditional update, and each Sage payment detail is stored
    once per connection."""
    notification = notification_import(notification_id=notification_id)
    if notification is None:
        return {"skipped": "already claimed or finished"}
    return {"status": notification.status, "run": notification.run_id}


def connection_reconcile(connection_id: int) -> dict:
    """Compare the connection's ledger with Sage (Reconcile with Sage). Safe to run twice: a
    second run finds the same drift and opens no second Error Transaction."""
    connection = Connection.objects.select_related("subsidiary").filter(pk=connection_id).first()
    if connection is None or not connection.is_syncing:
        return {"skipped": "connection not active"}
    run = reconcile(connection=connection)
    logger.info(
        "Reconcile for %s: %s, %s ledger rows, %s Sage documents, %s requests, found %s",
        connection.subsidiary,
        run.status,
        run.ledger_documents,
        run.sage_documents,
        run.requests,
        run.counts or "nothing",
    )
    return {"run": run.pk, "status": run.status, "counts": run.counts, "error": run.error}
