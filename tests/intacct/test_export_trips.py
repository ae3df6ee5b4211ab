"""AP bills for trips, exported to the sandbox."""

from decimal import Decimal

from django.utils import timezone

from accounting import models as am
from intacct import export
from intacct import messages as msg
from intacct import models as m
from intacct.connections import services
from intacct.sandbox.models import SandboxRecord
from tests import factories as f


def make_trip(connection, *, carrier_name="Apex Carriers LLC", external_id="V2001", **kwargs):
    carrier = am.Carrier.objects.filter(name=carrier_name).first() or f.CarrierFactory(
        name=carrier_name
    )
    if external_id and not carrier.external_ids.filter(subsidiary=connection.subsidiary):
        f.ExternalIdFactory(
            subsidiary=connection.subsidiary,
            customer=None,
            carrier=carrier,
            external_id=external_id,
        )
    load = f.LoadFactory(invoice_as_subsidiary=connection.subsidiary)
    kwargs.setdefault("carrier_invoice_uploaded_at", timezone.now())
    trip = f.TripFactory(
        load=load,
        subsidiary=connection.subsidiary,
        carrier=carrier,
        carrier_invoice_number="CINV-881",
        **kwargs,
    )
    f.TripChargeFactory(trip=trip, kind="linehaul", rate=Decimal("800"))
    f.TripChargeFactory(trip=trip, kind="accessorial", item_code="LUMPER", rate=Decimal("75"))
    f.TripChargeFactory(trip=trip, kind="fuel", rate=Decimal("120"))
    return trip


def bills():
    return SandboxRecord.objects.filter(object="APBILL")


def test_a_trip_becomes_a_bill_numbered_by_the_trip_with_the_carrier_invoice_reference(connection):
    trip = make_trip(connection)
    summary = export.trips_export(connection=connection)
    assert (summary.created, summary.failed) == (1, 0)
    bill = bills().get()
    assert (
        bill.data["RECORDID"],
        bill.data["DOCNUMBER"],
        bill.data["VENDORID"],
        bill.data["TRIP_NUMBER"],
        bill.entity,
    ) == (trip.number, "CINV-881", "V2001", trip.number, "E100")
    # fuel lines stay out until "Include fuel transactions" is on
    assert [(i["ACCOUNTNO"], i["TRX_AMOUNT"]) for i in bill.data["ITEMS"]] == [
        ("5000", "800.00"),
        ("5000", "75.00"),
    ]
    assert am.SyncRecord.objects.get(document_type="trip").record_no == str(bill.pk)


def test_fuel_lines_join_the_bill_when_their_toggle_is_on(connection):
    services.connection_update_settings(connection=connection, ap={"include_fuel": True})
    m.AccountMapping.objects.create(
        connection=connection, side="ap", category="fuel", gl_account_no="5200"
    )
    make_trip(connection)
    export.trips_export(connection=connection)
    assert ("5200", "120.00") in [
        (i["ACCOUNTNO"], i["TRX_AMOUNT"]) for i in bills().get().data["ITEMS"]
    ]


def test_an_unlinked_carrier_fails_with_the_vendor_message(connection):
    trip = make_trip(connection, carrier_name="Keystone Carriers", external_id=None)
    export.trips_export(connection=connection)
    error = am.ErrorTransaction.objects.get()
    assert (error.message, error.entity_type, error.transaction_type, error.reference) == (
        msg.VENDOR_NOT_LINKED,
        "Trip",
        "Bill",
        trip.number,
    )


def test_a_line_without_an_expense_account_names_the_line(connection):
    m.AccountMapping.objects.filter(connection=connection, side="ap").delete()
    trip = make_trip(connection)
    export.trips_export(connection=connection)
    line = trip.lines.get(kind="linehaul")
    assert am.ErrorTransaction.objects.get().message == msg.MISSING_EXPENSE_ACCOUNT.format(
        line=line.pk
    )


def test_trips_without_a_carrier_invoice_or_inside_a_settlement_wait(connection):
    make_trip(connection, carrier_invoice_uploaded_at=None)
    settlement = f.CarrierSettlementFactory(subsidiary=connection.subsidiary, status="approved")
    settled = make_trip(connection, carrier_settlement=settlement)
    services.connection_update_settings(
        connection=connection, ap={"export_carrier_settlements": True}
    )
    assert export.trips_export(connection=connection).created == 0
    services.connection_update_settings(
        connection=connection, ap={"export_carrier_settlements": False}
    )
    assert export.trips_export(connection=connection).created == 1
    assert bills().get().data["RECORDID"] == settled.number


def test_the_ap_master_toggle_stops_bills(connection):
    make_trip(connection)
    services.connection_update_settings(connection=connection, ap={"export_ap_bills": False})
    assert export.trips_export(connection=connection).created == 0
    assert not bills().exists()


def test_a_company_driver_trip_bills_the_driver_vendor(connection):
    driver = f.DriverFactory(name="Alice Moreno", subsidiary=connection.subsidiary)
    f.ExternalIdFactory(
        subsidiary=connection.subsidiary, customer=None, driver=driver, external_id="V3001"
    )
    load = f.LoadFactory(invoice_as_subsidiary=connection.subsidiary)
    trip = f.TripFactory(
        load=load,
        subsidiary=connection.subsidiary,
        carrier=None,
        driver=driver,
        approved_for_payment_at=timezone.now(),
        carrier_invoice_number="",
    )
    f.TripChargeFactory(trip=trip, rate=Decimal("300"))
    export.trips_export(connection=connection)
    bill = bills().get()
    assert (bill.data["VENDORID"], bill.data.get("DOCNUMBER", "")) == ("V3001", "")


def _upload_carrier_invoice(admin_client, trip, capture):
    """Upload a carrier invoice document on the trip's admin page."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    url = reverse("admin:accounting_trip_change", args=[trip.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "load": trip.load.pk,
            "subsidiary": trip.subsidiary.pk,
            "carrier": trip.carrier.pk,
            "driver": "",
            "carrier_settlement": "",
            "approved_for_payment_at_0": "",
            "approved_for_payment_at_1": "",
            "carrier_invoice_uploaded_at_0": "",
            "carrier_invoice_uploaded_at_1": "",
            "miles": "",
            "carrier_invoice_document": SimpleUploadedFile(
                "invoice.pdf", b"%PDF-1.4 carrier invoice"
            ),
        }
    )
    lines = list(trip.lines.all())
    for prefix, rows in (("lines", lines), ("payments", [])):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": str(len(rows)),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    for index, line in enumerate(lines):
        data.update(
            {
                f"lines-{index}-id": line.pk,
                f"lines-{index}-trip": trip.pk,
                f"lines-{index}-kind": line.kind,
                f"lines-{index}-item_code": line.item_code,
                f"lines-{index}-description": line.description,
                f"lines-{index}-quantity": str(line.quantity),
                f"lines-{index}-rate": str(line.rate),
            }
        )
    with capture(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302
    trip.refresh_from_db()
    assert trip.carrier_invoice_uploaded_at is not None


def test_send_carrier_invoice_upon_upload_exports_the_bill_at_once(
    connection, admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # the task runs inline instead of on the cluster
    services.connection_update_settings(
        connection=connection, ap={"send_carrier_invoice_on_upload": True}
    )
    trip = make_trip(connection, carrier_invoice_uploaded_at=None)
    _upload_carrier_invoice(admin_client, trip, django_capture_on_commit_callbacks)
    assert bills().get().data["RECORDID"] == trip.number


def test_without_the_toggle_an_upload_waits_for_the_next_cycle(
    connection, admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    trip = make_trip(connection, carrier_invoice_uploaded_at=None)
    _upload_carrier_invoice(admin_client, trip, django_capture_on_commit_callbacks)
    assert not bills().exists()
    assert export.trips_export(connection=connection).created == 1
