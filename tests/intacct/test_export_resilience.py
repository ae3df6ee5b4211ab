"""No document can stop a run: each failure lands on its own Error Transaction, and the run goes
on with the next document and the next document type."""

import dataclasses
import io
import logging
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone

from accounting import models as am
from intacct import export, tasks
from intacct import messages as msg
from intacct.connections import services
from intacct.export import outcomes
from intacct.export.documents import ap
from intacct.sandbox.models import SandboxRecord
from tests import factories as f

from .test_export import make_load
from .test_export_trips import make_trip


def open_error(document_type, document):
    return am.ErrorTransaction.objects.get(
        document_type=document_type,
        document_id=document.pk,
        status=am.ErrorTransaction.Status.FAILED,
    )


def bills():
    return SandboxRecord.objects.filter(object="APBILL")


def unlinked_echeck(connection):
    """An e-check for a load whose customer, and paid to a driver whom, Sage does not know."""
    load = make_load(connection, customer_name="Nowhere Grocers", external_id=None)
    payee = f.DriverFactory(name="Nobody Known", subsidiary=connection.subsidiary)
    return f.ECheckFactory(
        subsidiary=connection.subsidiary,
        payee_driver=payee,
        load=load,
        amount=Decimal("150.00"),
        export_ar=True,
        export_ap=True,
        status="issued",
        issued_at=timezone.now(),
    )


def test_failed_echecks_land_on_error_transactions_and_the_rest_of_the_run_exports(connection):
    services.connection_update_settings(
        connection=connection, ar={"export_echecks": True}, ap={"export_echecks": True}
    )
    echeck = unlinked_echeck(connection)
    trip = make_trip(connection)  # trips come after e-checks in a run

    result = tasks.connection_export(connection.pk)

    ar_error, ap_error = open_error("echeck_ar", echeck), open_error("echeck", echeck)
    assert (ar_error.message, ar_error.total) == (msg.CUSTOMER_NOT_LINKED, Decimal("150.00"))
    assert (ap_error.message, ap_error.total) == (msg.VENDOR_NOT_LINKED, Decimal("150.00"))
    assert bills().filter(key=trip.number).exists()
    assert result["unexpected"] == 0
    # The next scheduled run does the same: the e-checks fail again, nothing else is held up.
    tasks.connection_export(connection.pk)
    ar_error.refresh_from_db()
    ap_error.refresh_from_db()
    assert (ar_error.attempts, ap_error.attempts) == (2, 2)
    assert bills().filter(key=trip.number).count() == 1


def test_an_unexpected_error_in_one_document_is_its_error_transaction_and_the_batch_goes_on(
    connection, monkeypatch, caplog
):
    broken, fine = make_trip(connection), make_trip(connection)
    real = ap.trip_lines

    def trip_lines(data, trip, memo_prefix=""):
        if trip.pk == broken.pk:
            raise KeyError("carrier_rate")
        return real(data, trip, memo_prefix)

    monkeypatch.setattr(ap, "trip_lines", trip_lines)
    with caplog.at_level(logging.ERROR, logger="intacct.export"):
        summary = export.trips_export(connection=connection)

    assert (summary.created, summary.failed, summary.unexpected) == (1, 1, 1)
    assert bills().filter(key=fine.number).exists()
    assert not bills().filter(key=broken.number).exists()
    error = open_error("trip", broken)
    assert "Unexpected error (KeyError)" in error.message
    reference = error.message.split("Support reference ")[1].split(":")[0]
    assert reference.startswith("LL-")
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info[0] is KeyError  # the traceback is in the log

    # Fixed: the next run exports it and resolves its Error Transaction.
    monkeypatch.setattr(ap, "trip_lines", real)
    assert export.trips_export(connection=connection).created == 1
    error.refresh_from_db()
    assert error.status == am.ErrorTransaction.Status.RESOLVED


def test_an_unexpected_error_that_stops_a_document_type_does_not_stop_the_next(
    connection, monkeypatch
):
    load, trip = make_load(connection), make_trip(connection)

    def ready(*, connection):
        raise RuntimeError("database view missing")

    kind = export.DOCUMENT_TYPES["load"]
    monkeypatch.setitem(export.DOCUMENT_TYPES, "load", dataclasses.replace(kind, ready=ready))
    result = tasks.connection_export(connection.pk)

    assert result["unexpected"] == 1
    assert bills().filter(key=trip.number).exists()
    assert not SandboxRecord.objects.filter(object="ARINVOICE", key=load.number).exists()

    out = io.StringIO()
    call_command("intacct_export", stdout=out)
    assert "Load → Invoice: unexpected error (RuntimeError) stopped this document type" in (
        out.getvalue()
    )
    assert "1 unexpected errors" in out.getvalue()


def test_export_now_says_a_run_hit_unexpected_errors(connection, admin_client, monkeypatch):
    make_trip(connection)

    def ready(*, connection):
        raise RuntimeError("database view missing")

    kind = export.DOCUMENT_TYPES["paystub"]
    monkeypatch.setitem(export.DOCUMENT_TYPES, "paystub", dataclasses.replace(kind, ready=ready))
    page = admin_client.post(
        f"/admin/intacct/connection/{connection.pk}/export-now/", follow=True
    ).content.decode()

    assert "1 created" in page
    assert "1 unexpected error(s): this is a defect, not your data" in page
    assert "Paystub → Bill: unexpected error (RuntimeError)" in page
    assert outcomes.support_reference()[:3] in page  # the reference is shown ("LL-…")
