"""AP documents: trips, paystubs, carrier and driver settlements."""

from django.db.models import Prefetch, Q, QuerySet

from accounting import models as am
from intacct.connections import models as m

from ..payloads import Draft, Line, fields_reader, local_day
from ..resolution import RunData
from .fields import carrier_fields, charge_line, driver_fields, trip_fields
from .members import GROUPS, billed_in_a_group, in_sage_on_its_own, members_split

C = m.Category

# --- AP: trips, paystubs, settlements --------------------------------------------------------

TRIP_CATEGORY = {
    "linehaul": (C.LINEHAUL, None),
    "fuel_surcharge": (C.FUEL_SURCHARGE, None),
    "accessorial": (C.ACCESSORIALS, "include_accessorials"),
    "fuel": (C.FUEL, "include_fuel"),
    "toll": (C.TOLLS, "include_tolls"),
}
PAYSTUB_CATEGORY = {
    "pay": (C.DRIVER_PAY, None),
    "bonus": (C.DRIVER_PAY, None),
    "hourly": (C.DRIVER_PAY, None),
    "per_diem": (C.DRIVER_PAY, None),
    "reimbursement": (C.DRIVER_PAY, None),
    "deduction": (C.DEDUCTIONS, None),
    "fuel": (C.FUEL, "include_fuel"),
    "toll": (C.TOLLS, "include_tolls"),
    "escrow": (C.ESCROW, None),
}


def _toggled_lines(data: RunData, lines, categories: dict, fields: dict, memo_prefix="", **kw):
    """Lines whose AP toggle (fuel, tolls, accessorials) is on, with their categories."""
    chosen = []
    for line in lines:
        category, toggle = categories[line.kind]
        if toggle and not getattr(data.ap, toggle):
            continue
        chosen.append(charge_line(line, category, fields, memo_prefix, **kw))
    return chosen


def trip_lines(data: RunData, trip: am.Trip, memo_prefix: str = "") -> list[Line]:
    return _toggled_lines(data, trip.lines.all(), TRIP_CATEGORY, trip_fields(trip), memo_prefix)


def trip_draft(data: RunData, trip: am.Trip) -> Draft:
    """A carrier's (or driver's) bill for a trip: reference = the carrier's invoice number."""
    party = trip.carrier or trip.driver
    received = trip.carrier_invoice_uploaded_at or trip.approved_for_payment_at
    return Draft(
        side="ap",
        party=party,
        term_key=("carrier", trip.carrier_id) if trip.carrier_id else ("driver", trip.driver_id),
        date=local_day(received),
        description=f"Trip {trip.number} (load {trip.load.number})",
        reference=trip.carrier_invoice_number,
        lines=trip_lines(data, trip),
        value_of=fields_reader(trip_fields(trip)),
    )


TRIP_RELATED = (
    "subsidiary",
    "carrier",
    "driver__carrier",
    "load__customer",
    "load__invoice_as_subsidiary",
    "load__fleet",
    "load__office",
    "load__driver",
    "load__truck",
    "load__trailer",
)


def trips_ready(*, connection: m.Connection) -> QuerySet:
    """Trips whose carrier invoice is in or that are approved for payment, not inside an
    approved carrier settlement when carrier settlements export as their own bill (unless
    billed on their own before joining it)."""
    trips = am.Trip.objects.filter(
        Q(carrier_invoice_uploaded_at__isnull=False) | Q(approved_for_payment_at__isnull=False),
        subsidiary=connection.subsidiary,
    )
    ap = m.APSettings.objects.filter(connection=connection).first()
    if ap and ap.export_carrier_settlements:
        # Inside an approved settlement: billed by it, unless billed on its own before joining
        # it (the settlement leaves it out, documents.members): its own bill carries its changes.
        trips = trips.exclude(
            Q(carrier_settlement__status=am.CarrierSettlement.Status.APPROVED)
            & ~Q(in_sage_on_its_own(connection, "trip"))
        )
    trips = trips.exclude(billed_in_a_group(connection, "trip"))
    external = am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary)
    return trips.select_related(*TRIP_RELATED).prefetch_related(
        "lines",
        Prefetch("carrier__external_ids", queryset=external),
        Prefetch("driver__external_ids", queryset=external),
    )


def paystub_lines(data: RunData, stub: am.Paystub, memo_prefix: str = "") -> list[Line]:
    fields = driver_fields(stub.driver, stub.subsidiary, stub.number)
    return _toggled_lines(
        data, stub.lines.all(), PAYSTUB_CATEGORY, fields, memo_prefix, kind_code=True
    )


def paystub_draft(data: RunData, stub: am.Paystub) -> Draft:
    return Draft(
        side="ap",
        party=stub.driver,
        term_key=("driver", stub.driver_id),
        date=local_day(stub.finalized_at),
        description=f"Paystub {stub.number} ({stub.period_start:%m/%d/%Y}-{stub.period_end:%m/%d/%Y})",
        reference=stub.number,
        lines=paystub_lines(data, stub),
        value_of=fields_reader(driver_fields(stub.driver, stub.subsidiary, stub.number)),
    )


def paystubs_ready(*, connection: m.Connection) -> QuerySet:
    """Finalized paystubs, not inside an approved driver settlement when driver settlements
    export as their own bill."""
    stubs = am.Paystub.objects.filter(
        subsidiary=connection.subsidiary, finalized_at__isnull=False
    ).exclude(status=am.Paystub.Status.DRAFT)
    ap = m.APSettings.objects.filter(connection=connection).first()
    if ap and ap.export_driver_settlements:
        stubs = stubs.exclude(driver_settlement__status=am.DriverSettlement.Status.APPROVED)
    stubs = stubs.exclude(billed_in_a_group(connection, "paystub"))
    return stubs.select_related("subsidiary", "driver__carrier").prefetch_related(
        "lines",
        Prefetch(
            "driver__external_ids",
            am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary),
        ),
    )


def _settlement_draft(
    data: RunData, document_type: str, settlement, members, *, lines_of, party, party_kind, fields
) -> Draft:
    """A settlement's members as one bill, each line naming its member; a member already
    billed on its own is left out (documents.members)."""
    billed, notes = members_split(data, document_type, settlement, members)
    label = GROUPS[document_type].label
    lines = []
    for doc in billed:
        lines += lines_of(data, doc, memo_prefix=f"{GROUPS[document_type].member} {doc.number}: ")
    return Draft(
        side="ap",
        party=party,
        term_key=(party_kind, party.pk),
        date=local_day(settlement.approved_at),
        description=f"{label.capitalize()} {settlement.number}",
        reference=settlement.number,
        lines=lines,
        value_of=fields_reader(fields),
        members=tuple(doc.pk for doc in billed),
        notes=tuple(notes),
    )


def carrier_settlement_draft(data: RunData, settlement: am.CarrierSettlement) -> Draft:
    """A carrier's approved trips as one bill."""
    return _settlement_draft(
        data,
        "carrier_settlement",
        settlement,
        settlement.trips.all(),
        lines_of=trip_lines,
        party=settlement.carrier,
        party_kind="carrier",
        fields=carrier_fields(settlement.carrier, settlement.subsidiary, settlement.number),
    )


def driver_settlement_draft(data: RunData, settlement: am.DriverSettlement) -> Draft:
    """A driver's finalized paystubs as one bill."""
    return _settlement_draft(
        data,
        "driver_settlement",
        settlement,
        settlement.paystubs.all(),
        lines_of=paystub_lines,
        party=settlement.driver,
        party_kind="driver",
        fields=driver_fields(settlement.driver, settlement.subsidiary, settlement.number),
    )


def _settlements_ready(connection, model, *, party: str, party_related: str, documents: Prefetch):
    """Approved settlements with their documents and the party's External Accounting IDs."""
    external = am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary)
    return (
        model.objects.filter(subsidiary=connection.subsidiary, status=model.Status.APPROVED)
        .select_related("subsidiary", party_related)
        .prefetch_related(documents, Prefetch(f"{party}__external_ids", external))
    )


def carrier_settlements_ready(*, connection: m.Connection) -> QuerySet:
    trips = am.Trip.objects.select_related(*TRIP_RELATED).prefetch_related("lines").order_by("pk")
    return _settlements_ready(
        connection,
        am.CarrierSettlement,
        party="carrier",
        party_related="carrier",
        documents=Prefetch("trips", queryset=trips),
    )


def driver_settlements_ready(*, connection: m.Connection) -> QuerySet:
    stubs = (
        am.Paystub.objects.select_related("subsidiary", "driver__carrier")
        .prefetch_related("lines")
        .order_by("pk")
    )
    return _settlements_ready(
        connection,
        am.DriverSettlement,
        party="driver",
        party_related="driver__carrier",
        documents=Prefetch("paystubs", queryset=stubs),
    )
