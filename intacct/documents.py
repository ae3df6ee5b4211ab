"""Every TMS document the product exports, as one shape: a `Draft` (who, when, which lines,
which TMS fields) that `draft_function` turns into the Sage function: `create_invoice` for AR,
`create` APBILL for AP. Each document type contributes only what is its own: which documents
are ready (`*_ready`, one queryset with everything prefetched) and how it reads (`*_draft`).

The `*_ready` querysets prefetch each document's lines, so `get_total()` sums them in memory;
they do not annotate totals (`with_totals()`): its GROUP BY over every joined column cost more
than the rest of reading a batch (benchmarks/, README "Performance").
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from accounting import models as am

from . import models as m
from .client import InvoiceLine
from .client import functions as fn
from .resolution import (
    CUSTOMERS,
    VENDORS,
    ExportError,
    RunData,
    ValueOf,
    custom_field_values,
    line_account,
    line_dimensions,
    party_resolve,
    term_resolve,
)

C = m.Category
READY_STATUSES = (am.BillingStatus.INVOICED, am.BillingStatus.FINANCED)


@dataclass
class Line:
    """One line of a Sage document before its GL account and dimensions are resolved."""

    id: int
    category: str
    item_code: str
    amount: Decimal  # signed: credits are negative
    memo: str
    value_of: ValueOf  # TMS fields seen from this line (dimension and line custom fields)
    label: str = ""  # how the resolution trail names it ("Accessorial DETENTION")


@dataclass
class Draft:
    """A TMS document as Sage will see it, before resolution."""

    side: str  # "ar" (an invoice) or "ap" (a bill)
    party: object  # customer, carrier, driver, or a subsidiary (intercompany)
    term_key: tuple | None  # key into RunData.custom_terms
    date: dt.date
    description: str
    reference: str  # AR: PO number; AP: the vendor's invoice number
    lines: list[Line]
    value_of: ValueOf  # TMS fields of the document (header custom fields)
    use_external_id: bool = True


def _fields(values: dict[str, str]) -> ValueOf:
    return lambda source: values.get(source) or ""


def _day(moment: dt.datetime | None) -> dt.date:
    return timezone.localtime(moment).date() if moment else timezone.localdate()


def draft_function(
    *,
    data: RunData,
    draft: Draft,
    number: str,
    controlid: str,
    term: str | None = None,
    trail: list | None = None,
) -> fn.Function:
    """The Sage function for `draft`, numbered `number`. Raises ExportError naming what to fix.

    `trail` (optional) receives a line per decision: which mapping level chose each account,
    where each dimension value came from, which term applies.
    """
    trail = trail if trail is not None else []
    ar = draft.side == "ar"
    party_id = party_resolve(
        data=data,
        side=CUSTOMERS if ar else VENDORS,
        party=draft.party,
        trail=trail,
        use_external_id=draft.use_external_id,
    )
    if not draft.lines:
        raise ExportError(f"{number} has no lines to {'invoice' if ar else 'bill'}.")
    lines = []
    for line in draft.lines:
        resolved = line_account(
            data=data,
            side=draft.side,
            category=line.category,
            item_code=line.item_code,
            line_id=line.id,
        )
        trail.append(
            f"Line {line.id} {line.label or line.memo} {line.amount}: account {resolved.account_no} "
            f"({resolved.level} mapping)"
        )
        dimensions = line_dimensions(
            data=data, value_of=line.value_of, line_id=line.id, trail=trail
        )
        custom = custom_field_values(
            data=data,
            target="ar_invoice_line" if ar else "ap_bill_line",
            value_of=line.value_of,
            check_length=ar,
        )
        lines.append((line, resolved.account_no, dimensions, custom))
    term = term_resolve(
        data=data, key=draft.term_key, party_name=draft.party.name, term=term, trail=trail
    )
    header = custom_field_values(
        data=data,
        target="ar_invoice" if ar else "ap_bill",
        value_of=draft.value_of,
        check_length=ar,
    )
    if ar:
        return fn.create_invoice(
            controlid=controlid,
            customer_id=party_id,
            date_created=draft.date,
            term_name=term,
            invoice_no=number,
            po_number=draft.reference or None,
            description=draft.description,
            custom_fields=header,
            lines=[
                InvoiceLine(
                    amount=line.amount,
                    glaccountno=account,
                    memo=line.memo,
                    dimensions=dimensions,
                    custom_fields=custom,
                )
                for line, account, dimensions, custom in lines
            ],
        )
    items = [
        {
            "ACCOUNTNO": account,
            "TRX_AMOUNT": line.amount,
            "ENTRYDESCRIPTION": line.memo,
            **{name.upper(): value for name, value in dimensions.items()},
            **custom,
        }
        for line, account, dimensions, custom in lines
    ]
    values = {
        "WHENCREATED": draft.date,
        "VENDORID": party_id,
        "RECORDID": number,
        "DOCNUMBER": draft.reference or None,
        "DESCRIPTION": draft.description,
        "TERMNAME": term,
        **header,
        "APBILLITEMS": {"APBILLITEM": items},
    }
    return fn.create("APBILL", values, controlid=controlid)


# --- TMS fields -------------------------------------------------------------------------------


def _name(obj) -> str:
    return obj.name if obj is not None else ""


def load_fields(load: am.Load) -> dict[str, str]:
    """A load's TMS fields, as dimension and custom-field sources name them."""
    driver = load.driver
    return {
        "subsidiary": _name(load.invoice_as_subsidiary),
        "fleet": _name(load.fleet),
        "office": _name(load.office),
        "driver": _name(driver),
        "driver_name": _name(driver),
        "contractor_type": driver.contractor_type if driver else "",
        "truck": load.truck.number if load.truck_id else "",
        "truck_number": load.truck.number if load.truck_id else "",
        "trailer": load.trailer.number if load.trailer_id else "",
        "trailer_number": load.trailer.number if load.trailer_id else "",
        "customer": load.customer.name,
        "load_number": load.number,
        "reference_number": load.reference_number,
        "po_number": load.po_number,
        "shipper": load.shipper_name,
        "consignee": load.consignee_name,
        "dispatcher": load.dispatcher,
        "notes": load.notes,
        "pickup_date": load.pickup_date.strftime("%m/%d/%Y") if load.pickup_date else "",
        "delivery_date": load.delivery_date.strftime("%m/%d/%Y") if load.delivery_date else "",
    }


def trip_fields(trip: am.Trip) -> dict[str, str]:
    driver = trip.driver
    return {
        **load_fields(trip.load),
        "subsidiary": trip.subsidiary.name,
        "driver": _name(driver),
        "driver_name": _name(driver),
        "contractor_type": driver.contractor_type if driver else "",
        "carrier": _name(trip.carrier),
        "trip_number": trip.number,
        "miles": str(trip.miles) if trip.miles is not None else "",
    }


def _driver_fields(driver: am.Driver, subsidiary, number: str) -> dict[str, str]:
    # Documents that are neither a load nor a trip answer "load/trip number" with their own.
    return {
        "subsidiary": subsidiary.name,
        "driver": driver.name,
        "driver_name": driver.name,
        "contractor_type": driver.contractor_type,
        "carrier": _name(driver.carrier),
        "load_number": number,
        "trip_number": number,
    }


def _carrier_fields(carrier: am.Carrier, subsidiary, number: str) -> dict[str, str]:
    return {
        "subsidiary": subsidiary.name,
        "carrier": carrier.name,
        "load_number": number,
        "trip_number": number,
    }


def _charge_line(line, category: str, fields: dict, memo_prefix="", kind_code=False) -> Line:
    # Driver pay items are named by their kind when no item code is set (BONUS, PER_DIEM).
    return Line(
        id=line.pk,
        category=category,
        item_code=line.item_code or (line.kind.upper() if kind_code else ""),
        amount=line.signed_amount,
        memo=f"{memo_prefix}{line.description or line.get_kind_display()}",
        value_of=_fields({**fields, "charge_code": line.item_code}),
        label=f"{line.get_kind_display()} {line.item_code}".strip(),
    )


# --- AR: loads, summary invoices, e-checks, carrier statements, intercompany -----------------

LOAD_CATEGORY = {
    "linehaul": C.LINEHAUL,
    "fuel_surcharge": C.FUEL_SURCHARGE,
    "accessorial": C.ACCESSORIALS,
    "driver_bill": C.LINEHAUL,
    "deduction": C.DEDUCTIONS,
}


def load_lines(data: RunData, load: am.Load, side: str = "ar", memo_prefix: str = "") -> list:
    """The load's charge lines; driver bills and deduction credits only when their AR toggles
    are on."""
    fields = load_fields(load)
    lines = []
    for line in load.lines.all():
        if line.kind == "driver_bill" and not data.ar.include_driver_bills:
            continue
        if line.kind == "deduction" and not data.ar.export_deductions_as_credits:
            continue
        lines.append(_charge_line(line, LOAD_CATEGORY[line.kind], fields, memo_prefix))
    return lines


def load_draft(data: RunData, load: am.Load) -> Draft:
    return Draft(
        side="ar",
        party=load.customer,
        term_key=("customer", load.customer_id),
        date=_day(load.invoiced_at),
        description=f"Load {load.number}",
        reference=load.po_number,
        lines=load_lines(data, load),
        value_of=_fields(load_fields(load)),
    )


def _loads_prefetch(connection, queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "customer", "invoice_as_subsidiary", "fleet", "office", "driver", "truck", "trailer"
    ).prefetch_related(
        "lines",
        Prefetch(
            "customer__external_ids",
            queryset=am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary),
        ),
    )


def loads_ready(*, connection: m.Connection) -> QuerySet:
    """Invoiced or financed loads the subsidiary invoices, not on a summary invoice."""
    loads = am.Load.objects.filter(
        invoice_as_subsidiary=connection.subsidiary,
        billing_status__in=READY_STATUSES,
        summary_invoice=None,
    )
    return _loads_prefetch(connection, loads)


def summary_invoice_draft(data: RunData, summary: am.SummaryInvoice) -> Draft:
    """One invoice for many loads: each load's lines, their memos naming the load."""
    lines = []
    for load in summary.loads.all():
        lines += load_lines(data, load, memo_prefix=f"Load {load.number}: ")
    return Draft(
        side="ar",
        party=summary.customer,
        term_key=("customer", summary.customer_id),
        date=_day(summary.issued_at),
        description=f"Summary invoice {summary.number}",
        reference="",
        lines=lines,
        value_of=_fields(
            {
                "subsidiary": summary.subsidiary.name,
                "customer": summary.customer.name,
                "load_number": summary.number,
            }
        ),
    )


def summary_invoices_ready(*, connection: m.Connection) -> QuerySet:
    external = am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary)
    loads = (
        am.Load.objects.select_related(
            "customer", "invoice_as_subsidiary", "fleet", "office", "driver", "truck", "trailer"
        )
        .prefetch_related("lines")
        .order_by("pk")
    )
    return (
        am.SummaryInvoice.objects.filter(
            subsidiary=connection.subsidiary, status=am.SummaryInvoice.Status.ISSUED
        )
        .select_related("subsidiary", "customer")
        .prefetch_related(
            Prefetch("loads", queryset=loads), Prefetch("customer__external_ids", external)
        )
    )


def _echeck_line(echeck: am.ECheck, fields: dict) -> Line:
    return Line(
        id=echeck.pk,
        category=C.ECHECKS,
        item_code=echeck.reason.upper(),
        amount=echeck.amount,
        memo=f"E-check {echeck.number} ({echeck.get_reason_display()})",
        value_of=_fields(fields),
    )


def _echeck_fields(echeck: am.ECheck) -> dict[str, str]:
    base = (
        trip_fields(echeck.trip)
        if echeck.trip_id
        else load_fields(echeck.load)
        if echeck.load_id
        else {}
    )
    return {"load_number": echeck.number, "trip_number": echeck.number, **base}


def echeck_ar_draft(data: RunData, echeck: am.ECheck) -> Draft:
    """An e-check billed to the load's customer (a reimbursable lumper, toll, ...)."""
    fields = _echeck_fields(echeck)
    return Draft(
        side="ar",
        party=echeck.load.customer,
        term_key=("customer", echeck.load.customer_id),
        date=_day(echeck.issued_at),
        description=f"E-check {echeck.number} for load {echeck.load.number}",
        reference=echeck.load.po_number,
        lines=[_echeck_line(echeck, fields)],
        value_of=_fields(fields),
    )


def echeck_draft(data: RunData, echeck: am.ECheck) -> Draft:
    """An e-check paid to its driver or carrier (AP)."""
    fields = _echeck_fields(echeck)
    payee = echeck.payee
    return Draft(
        side="ap",
        party=payee,
        term_key=("driver", payee.pk) if echeck.payee_driver_id else ("carrier", payee.pk),
        date=_day(echeck.issued_at),
        description=f"E-check {echeck.number} ({echeck.get_reason_display()})",
        reference=echeck.number,
        lines=[_echeck_line(echeck, fields)],
        value_of=_fields(fields),
    )


def _echecks_ready(connection, **filters) -> QuerySet:
    external = am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary)
    return (
        am.ECheck.objects.filter(
            subsidiary=connection.subsidiary, status=am.ECheck.Status.ISSUED, **filters
        )
        .select_related(
            "subsidiary",
            "payee_driver__carrier",
            "payee_carrier",
            "load__customer",
            "load__invoice_as_subsidiary",
            "load__fleet",
            "load__office",
            "load__driver",
            "load__truck",
            "load__trailer",
            "trip__subsidiary",
            "trip__carrier",
            "trip__driver",
            "trip__load__customer",
            "trip__load__invoice_as_subsidiary",
            "trip__load__fleet",
            "trip__load__office",
            "trip__load__driver",
            "trip__load__truck",
            "trip__load__trailer",
        )
        .prefetch_related(
            Prefetch("payee_driver__external_ids", external),
            Prefetch("payee_carrier__external_ids", external),
            Prefetch("load__customer__external_ids", external),
        )
    )


def echecks_ar_ready(*, connection: m.Connection) -> QuerySet:
    return _echecks_ready(connection, export_ar=True, load__isnull=False)


def echecks_ready(*, connection: m.Connection) -> QuerySet:
    return _echecks_ready(connection, export_ap=True)


STATEMENT_CATEGORY = {"charge": C.LINEHAUL, "credit": C.DEDUCTIONS}


def carrier_statement_draft(data: RunData, statement: am.CarrierStatement) -> Draft:
    """A carrier statement: an invoice to the carrier (AR) or a bill from it (AP)."""
    fields = _carrier_fields(statement.carrier, statement.subsidiary, statement.number)
    ar = statement.direction == am.CarrierStatement.Direction.AR
    return Draft(
        side=statement.direction,
        party=statement.carrier,
        # On AR the carrier is a Sage customer: its External Accounting ID is its vendor ID.
        use_external_id=not ar,
        term_key=None if ar else ("carrier", statement.carrier_id),
        date=statement.statement_date,
        description=f"Carrier statement {statement.number}",
        reference="" if ar else statement.number,
        lines=[
            _charge_line(line, STATEMENT_CATEGORY[line.kind], fields)
            for line in statement.lines.all()
        ],
        value_of=_fields(fields),
    )


def _statements_ready(connection, direction) -> QuerySet:
    return (
        am.CarrierStatement.objects.filter(subsidiary=connection.subsidiary, direction=direction)
        .select_related("subsidiary", "carrier")
        .prefetch_related(
            "lines",
            Prefetch(
                "carrier__external_ids",
                am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary),
            ),
        )
    )


def carrier_statements_ar_ready(*, connection: m.Connection) -> QuerySet:
    return _statements_ready(connection, am.CarrierStatement.Direction.AR)


def carrier_statements_ap_ready(*, connection: m.Connection) -> QuerySet:
    return _statements_ready(connection, am.CarrierStatement.Direction.AP)


def _cross_subsidiary(partner_field: str) -> Q:
    """Loads billed across two subsidiaries whose partner connection enables it too."""
    partner_enabled = (
        f"{partner_field}__intacct_connection__advanced_settings__cross_subsidiary_billing"
    )
    return (
        Q(tender_as_subsidiary__isnull=False)
        & ~Q(tender_as_subsidiary=F("invoice_as_subsidiary"))
        & Q(**{partner_enabled: True})
    )


def intercompany_bill_draft(data: RunData, load: am.Load) -> Draft:
    """Invoice-As side: the bill from the Tender-As subsidiary for hauling the load."""
    return Draft(
        side="ap",
        party=load.tender_as_subsidiary,
        use_external_id=False,
        term_key=None,
        date=_day(load.invoiced_at),
        description=f"Intercompany bill for load {load.number} from {load.tender_as_subsidiary}",
        reference=load.number,
        lines=load_lines(data, load),
        value_of=_fields({**load_fields(load), "trip_number": load.number}),
    )


def intercompany_invoice_draft(data: RunData, load: am.Load) -> Draft:
    """Tender-As side: the invoice back to the Invoice-As subsidiary for hauling the load."""
    return Draft(
        side="ar",
        party=load.invoice_as_subsidiary,
        use_external_id=False,
        term_key=None,
        date=_day(load.invoiced_at),
        description=f"Intercompany invoice for load {load.number} to {load.invoice_as_subsidiary}",
        reference=load.po_number,
        lines=load_lines(data, load),
        value_of=_fields({**load_fields(load), "subsidiary": load.tender_as_subsidiary.name}),
    )


def intercompany_bills_ready(*, connection: m.Connection) -> QuerySet:
    loads = am.Load.objects.filter(
        _cross_subsidiary("tender_as_subsidiary"),
        invoice_as_subsidiary=connection.subsidiary,
        billing_status__in=READY_STATUSES,
    )
    return _loads_prefetch(connection, loads).select_related("tender_as_subsidiary")


def intercompany_invoices_ready(*, connection: m.Connection) -> QuerySet:
    loads = am.Load.objects.filter(
        _cross_subsidiary("invoice_as_subsidiary"),
        tender_as_subsidiary=connection.subsidiary,
        billing_status__in=READY_STATUSES,
    )
    return _loads_prefetch(connection, loads).select_related("tender_as_subsidiary")


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
        chosen.append(_charge_line(line, category, fields, memo_prefix, **kw))
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
        date=_day(received),
        description=f"Trip {trip.number} (load {trip.load.number})",
        reference=trip.carrier_invoice_number,
        lines=trip_lines(data, trip),
        value_of=_fields(trip_fields(trip)),
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
    approved carrier settlement when carrier settlements export as their own bill."""
    trips = am.Trip.objects.filter(
        Q(carrier_invoice_uploaded_at__isnull=False) | Q(approved_for_payment_at__isnull=False),
        subsidiary=connection.subsidiary,
    )
    ap = m.APSettings.objects.filter(connection=connection).first()
    if ap and ap.export_carrier_settlements:
        trips = trips.exclude(carrier_settlement__status=am.CarrierSettlement.Status.APPROVED)
    external = am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary)
    return trips.select_related(*TRIP_RELATED).prefetch_related(
        "lines",
        Prefetch("carrier__external_ids", queryset=external),
        Prefetch("driver__external_ids", queryset=external),
    )


def paystub_lines(data: RunData, stub: am.Paystub, memo_prefix: str = "") -> list[Line]:
    fields = _driver_fields(stub.driver, stub.subsidiary, stub.number)
    return _toggled_lines(
        data, stub.lines.all(), PAYSTUB_CATEGORY, fields, memo_prefix, kind_code=True
    )


def paystub_draft(data: RunData, stub: am.Paystub) -> Draft:
    return Draft(
        side="ap",
        party=stub.driver,
        term_key=("driver", stub.driver_id),
        date=_day(stub.finalized_at),
        description=f"Paystub {stub.number} ({stub.period_start:%m/%d/%Y}-{stub.period_end:%m/%d/%Y})",
        reference=stub.number,
        lines=paystub_lines(data, stub),
        value_of=_fields(_driver_fields(stub.driver, stub.subsidiary, stub.number)),
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
    return stubs.select_related("subsidiary", "driver__carrier").prefetch_related(
        "lines",
        Prefetch(
            "driver__external_ids",
            am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary),
        ),
    )


def _settlement_draft(settlement, *, party, term_key, label, lines, fields) -> Draft:
    return Draft(
        side="ap",
        party=party,
        term_key=term_key,
        date=_day(settlement.approved_at),
        description=f"{label} {settlement.number}",
        reference=settlement.number,
        lines=lines,
        value_of=_fields(fields),
    )


def carrier_settlement_draft(data: RunData, settlement: am.CarrierSettlement) -> Draft:
    """A carrier's approved trips as one bill, each line naming its trip."""
    lines = []
    for trip in settlement.trips.all():
        lines += trip_lines(data, trip, memo_prefix=f"Trip {trip.number}: ")
    return _settlement_draft(
        settlement,
        party=settlement.carrier,
        term_key=("carrier", settlement.carrier_id),
        label="Carrier settlement",
        lines=lines,
        fields=_carrier_fields(settlement.carrier, settlement.subsidiary, settlement.number),
    )


def driver_settlement_draft(data: RunData, settlement: am.DriverSettlement) -> Draft:
    """A driver's finalized paystubs as one bill, each line naming its paystub."""
    lines = []
    for stub in settlement.paystubs.all():
        lines += paystub_lines(data, stub, memo_prefix=f"Paystub {stub.number}: ")
    return _settlement_draft(
        settlement,
        party=settlement.driver,
        term_key=("driver", settlement.driver_id),
        label="Driver settlement",
        lines=lines,
        fields=_driver_fields(settlement.driver, settlement.subsidiary, settlement.number),
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


# --- the document types -------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentType:
    """One kind of TMS document and the Sage document it becomes.

    `toggles`: every setting that must be on, as (settings, field) with settings one of "ar",
    "ap", "advanced"; `suffix`: appended to the TMS number for the Sage number (intercompany
    documents share their load's number).
    """

    document_type: str
    model: type
    sage_object: str
    entity_type: str
    transaction_type: str
    toggles: tuple
    ready: Callable
    draft: Callable
    suffix: str = ""
    subsidiary_field: str = "subsidiary"  # the document's field naming the exporting subsidiary

    def applies_to(self, doc) -> bool:
        """Whether `doc` (an instance of `model`) can export as this type at all."""
        if self.model is am.ECheck:
            return doc.export_ar if self.side == "ar" else doc.export_ap
        if self.model is am.CarrierStatement:
            return doc.direction == self.side
        if self.suffix == "-IC":
            return doc.is_cross_subsidiary
        return True

    @property
    def prefix(self) -> str:  # of the stable controlids
        return (
            f"{'ar-invoice' if self.sage_object == 'ARINVOICE' else 'ap-bill'}-{self.document_type}"
        )

    @property
    def side(self) -> str:
        return "ar" if self.sage_object == "ARINVOICE" else "ap"

    def sage_number(self, doc, version: int = 1) -> str:
        """The Sage document number: the TMS number (a new version after a reversal gets -2, -3)."""
        number = f"{doc.number}{self.suffix}"
        return number if version == 1 else f"{number}-{version}"


AR_ON = ("ar", "export_ar_invoices")
AP_ON = ("ap", "export_ap_bills")
CROSS_ON = ("advanced", "cross_subsidiary_billing")

DOCUMENT_TYPES = {
    t.document_type: t
    for t in (
        DocumentType(
            "load",
            am.Load,
            "ARINVOICE",
            "Load",
            "Invoice",
            (AR_ON,),
            loads_ready,
            load_draft,
            subsidiary_field="invoice_as_subsidiary",
        ),
        DocumentType(
            "summary_invoice",
            am.SummaryInvoice,
            "ARINVOICE",
            "Summary Invoice",
            "Invoice",
            (AR_ON,),
            summary_invoices_ready,
            summary_invoice_draft,
        ),
        DocumentType(
            "echeck_ar",
            am.ECheck,
            "ARINVOICE",
            "E-check",
            "Invoice",
            (AR_ON, ("ar", "export_echecks")),
            echecks_ar_ready,
            echeck_ar_draft,
            suffix="-AR",
        ),
        DocumentType(
            "carrier_statement_ar",
            am.CarrierStatement,
            "ARINVOICE",
            "Carrier Statement",
            "Invoice",
            (AR_ON, ("ar", "export_carrier_statements")),
            carrier_statements_ar_ready,
            carrier_statement_draft,
        ),
        DocumentType(
            "load_intercompany_invoice",
            am.Load,
            "ARINVOICE",
            "Load",
            "Intercompany Invoice",
            (AR_ON, CROSS_ON),
            intercompany_invoices_ready,
            intercompany_invoice_draft,
            suffix="-IC",
            subsidiary_field="tender_as_subsidiary",
        ),
        DocumentType("trip", am.Trip, "APBILL", "Trip", "Bill", (AP_ON,), trips_ready, trip_draft),
        DocumentType(
            "paystub",
            am.Paystub,
            "APBILL",
            "Paystub",
            "Bill",
            (AP_ON,),
            paystubs_ready,
            paystub_draft,
        ),
        DocumentType(
            "carrier_settlement",
            am.CarrierSettlement,
            "APBILL",
            "Carrier Settlement",
            "Bill",
            (AP_ON, ("ap", "export_carrier_settlements")),
            carrier_settlements_ready,
            carrier_settlement_draft,
        ),
        DocumentType(
            "driver_settlement",
            am.DriverSettlement,
            "APBILL",
            "Driver Settlement",
            "Bill",
            (AP_ON, ("ap", "export_driver_settlements")),
            driver_settlements_ready,
            driver_settlement_draft,
        ),
        DocumentType(
            "echeck",
            am.ECheck,
            "APBILL",
            "E-check",
            "Bill",
            (AP_ON, ("ap", "export_echecks")),
            echecks_ready,
            echeck_draft,
        ),
        DocumentType(
            "carrier_statement_ap",
            am.CarrierStatement,
            "APBILL",
            "Carrier Statement",
            "Bill",
            (AP_ON, ("ap", "export_carrier_statements")),
            carrier_statements_ap_ready,
            carrier_statement_draft,
        ),
        DocumentType(
            "load_intercompany_bill",
            am.Load,
            "APBILL",
            "Load",
            "Intercompany Bill",
            (AP_ON, CROSS_ON),
            intercompany_bills_ready,
            intercompany_bill_draft,
            suffix="-IC",
            subsidiary_field="invoice_as_subsidiary",
        ),
    )
}
