"""Export to Sage Intacct: AR invoices for individual loads, AP bills for trips.

Eligibility → resolution → payload → batched, idempotent send → sync ledger or Error
Transaction. Each kind of document runs the same steps (`_export`):
1. Skip everything unless the connection is Active with Primary Sync and the side's master
   toggle (Export AR Invoices / Export AP Bills) on.
2. Open the session once; if Sage refuses the credentials, fail every eligible document with
   "Sage client is not initialized" without calling Sage per document.
3. Per batch: resolve each document (customer or vendor, GL account per line, dimensions, custom
   fields, term) from data read once per run; one that cannot resolve becomes an Error
   Transaction.
4. Write the ledger rows (stable controlids) before sending and claim them with a conditional
   update; send the batch with uniqueid=true.
5. Record each result: RECORDNO on success (an applied version whose answer was lost is looked up
   by its number), Net 30 retry on an invalid term, otherwise an Error Transaction with Sage's
   message; a later success resolves it.
"""

import copy
import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Q
from django.utils import timezone

from accounting import models as am

from . import messages as msg
from . import models as m
from .client import InvoiceLine, errors
from .client import Q as SageQ
from .client import functions as fn
from .client.redaction import redact
from .sage import client_for
from .services import account_resolve, dimension_explain

NET_30 = "Net 30"
# A claim older than this is taken over (its exporter died); longer than any request can take.
CLAIM_LEASE = dt.timedelta(minutes=20)
READY_STATUSES = (am.BillingStatus.INVOICED, am.BillingStatus.FINANCED)
LOAD_CATEGORY = {
    "linehaul": m.Category.LINEHAUL,
    "fuel_surcharge": m.Category.FUEL_SURCHARGE,
    "accessorial": m.Category.ACCESSORIALS,
    "driver_bill": m.Category.LINEHAUL,
    "deduction": m.Category.DEDUCTIONS,
}
DIMENSION_FIELD = {d.value: f"{d.value}id" for d in m.Dimension}


class ExportError(Exception):
    """A document cannot be exported as it is; the message says what to fix."""


@dataclass
class ExportSummary:
    created: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class RunData:
    """What one run reads once: settings, mappings, terms, Sage customers for name matching."""

    connection: m.Connection
    ar: m.ARSettings
    ap: m.APSettings
    advanced: m.AdvancedSettings
    accounts: list
    dimensions: list
    custom_fields: list
    custom_terms: dict
    client: object
    dry_run: bool = False  # preview: read from Sage, never write (no auto-created customers)
    _sage_parties: dict = field(default_factory=dict)

    def sage_parties(self, side: "PartySide") -> list[dict]:
        """Sage's customers or vendors (ID and name), read once per run for name matching."""
        if side.object not in self._sage_parties:
            self._sage_parties[side.object] = list(
                self.client.iter_query(side.object, [side.id_field, "NAME"])
            )
        return self._sage_parties[side.object]


def run_data(connection: m.Connection, client, *, dry_run: bool = False) -> RunData:
    return RunData(
        dry_run=dry_run,
        connection=connection,
        ar=m.ARSettings.objects.get(connection=connection),
        ap=m.APSettings.objects.get(connection=connection),
        advanced=m.AdvancedSettings.objects.get(connection=connection),
        accounts=list(connection.account_mappings.all()),
        dimensions=list(connection.dimension_mappings.prefetch_related("value_maps")),
        custom_fields=list(connection.custom_field_mappings.all()),
        custom_terms={
            ("customer", t.customer_id)
            if t.customer_id
            else ("carrier", t.carrier_id)
            if t.carrier_id
            else ("driver", t.driver_id): t.term_name
            for t in connection.custom_terms.all()
        },
        client=client,
    )


# --- resolution -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartySide:
    """Customers (AR) or vendors (AP): where Sage keeps them and which settings apply."""

    label: str
    object: str
    id_field: str
    not_linked: str
    settings: str  # "ar" or "ap"
    auto_create: str


CUSTOMERS = PartySide(
    "Customer", "CUSTOMER", "CUSTOMERID", msg.CUSTOMER_NOT_LINKED, "ar", "auto_create_customer"
)
VENDORS = PartySide(
    "Vendor", "VENDOR", "VENDORID", msg.VENDOR_NOT_LINKED, "ap", "auto_create_vendor"
)


def party_resolve(*, data: RunData, side: PartySide, party, trail: list | None = None) -> str:
    """The Sage ID of a customer, carrier or driver: External Accounting ID for this subsidiary →
    name match (exact, case-insensitive; two matches is an error, never a guess) → Auto Create
    → ExportError with the seeds' "not linked" message."""
    trail = trail if trail is not None else []
    settings = getattr(data, side.settings)
    external = party.external_accounting_id(data.connection.subsidiary)
    if external:
        trail.append(f"{side.label} {party.name}: {external} (External Accounting ID)")
        return external
    if settings.name_matching_fallback:
        wanted = party.name.strip().lower()
        matches = [
            p for p in data.sage_parties(side) if (p.get("NAME") or "").strip().lower() == wanted
        ]
        if len(matches) > 1:
            ids = ", ".join(p[side.id_field] for p in matches)
            raise ExportError(
                f"{side.not_linked}: {len(matches)} Sage {side.label.lower()}s are "
                f"named {party.name} ({ids}); set the External Accounting ID."
            )
        if matches:
            trail.append(f"{side.label} {party.name}: {matches[0][side.id_field]} (name match)")
            return matches[0][side.id_field]
    if getattr(settings, side.auto_create):
        model = party._meta.model_name
        party_id = f"{side.object[0]}-{model[0].upper()}{party.pk}"
        trail.append(f"{side.label} {party.name}: {party_id} (created by Auto Create {side.label})")
        if data.dry_run:
            return party_id
        (result,) = data.client.execute(
            [
                fn.create(
                    side.object,
                    {side.id_field: party_id, "NAME": party.name},
                    controlid=f"{side.object.lower()}-{model}-{party.pk}",
                )
            ]
        )
        if not result.ok:
            raise ExportError(f"{side.not_linked}: {result.error()}")
        data._sage_parties.pop(side.object, None)
        return party_id
    raise ExportError(side.not_linked)


def _dimension_source(load: am.Load, source: str) -> str:
    values = {
        "subsidiary": load.invoice_as_subsidiary.name if load.invoice_as_subsidiary_id else "",
        "fleet": load.fleet.name if load.fleet_id else "",
        "office": load.office.name if load.office_id else "",
        "driver": load.driver.name if load.driver_id else "",
        "truck": load.truck.number if load.truck_id else "",
        "trailer": load.trailer.number if load.trailer_id else "",
        "contractor_type": load.driver.contractor_type if load.driver_id else "",
        "customer": load.customer.name,
        "carrier": "",
    }
    return values.get(source, "")


def _tms_field(load: am.Load, line, source: str) -> str:
    values = {
        "load_number": load.number,
        "reference_number": load.reference_number,
        "po_number": load.po_number,
        "shipper": load.shipper_name,
        "consignee": load.consignee_name,
        "dispatcher": load.dispatcher,
        "driver_name": load.driver.name if load.driver_id else "",
        "truck_number": load.truck.number if load.truck_id else "",
        "trailer_number": load.trailer.number if load.trailer_id else "",
        "notes": load.notes,
        "charge_code": line.item_code if line is not None else "",
        "pickup_date": load.pickup_date.strftime("%m/%d/%Y") if load.pickup_date else "",
        "delivery_date": load.delivery_date.strftime("%m/%d/%Y") if load.delivery_date else "",
    }
    return values.get(source, "")


def _custom_fields(data: RunData, load, line, target: str) -> dict[str, str]:
    # AR only: Sage's max length is checked here (the seeds' "exceeds the Sage max length").
    return _checked_custom_fields(
        data, target, lambda source: _tms_field(load, line, source), check_length=True
    )


def _dimensions(data: RunData, load, line, trail: list) -> dict[str, str]:
    values = {}
    for mapping in data.dimensions:
        source = _dimension_source(load, mapping.source)
        value, how = dimension_explain(mapping=mapping, tms_value=source)
        trail.append(
            f"  {mapping.get_dimension_display()} from {mapping.get_source_display()} "
            f"{source!r}: {value or '—'} ({how})"
        )
        if mapping.required and not value:
            raise ExportError(msg.NO_MAPPED_DIMENSION.format(line=line.pk))
        if value:
            values[DIMENSION_FIELD[mapping.dimension]] = value
    if data.dimensions and not values:
        raise ExportError(msg.NO_MAPPED_DIMENSION.format(line=line.pk))
    return values


def load_invoice_function(
    *,
    data: RunData,
    load: am.Load,
    controlid: str,
    term: str | None = None,
    trail: list | None = None,
) -> fn.Function:
    """The create_invoice for a load. Raises ExportError naming what to fix.

    `trail` (optional) receives a line per decision: which mapping level chose each account,
    where each dimension value came from, which term applies.
    """
    trail = trail if trail is not None else []
    customer_id = party_resolve(data=data, side=CUSTOMERS, party=load.customer, trail=trail)
    lines = []
    for line in load.lines.all():
        if line.kind == "driver_bill" and not data.ar.include_driver_bills:
            continue
        if line.kind == "deduction" and not data.ar.export_deductions_as_credits:
            continue
        resolved = account_resolve(
            mappings=data.accounts,
            side="ar",
            category=LOAD_CATEGORY[line.kind],
            item_code=line.item_code,
        )
        if resolved is None:
            raise ExportError(msg.MISSING_REVENUE_ACCOUNT.format(line=line.pk))
        trail.append(
            f"Line {line.pk} {line.get_kind_display()} {line.item_code} "
            f"{line.signed_amount}: account {resolved.account_no} "
            f"({resolved.level} mapping)"
        )
        lines.append(
            InvoiceLine(
                amount=line.signed_amount,
                glaccountno=resolved.account_no,
                memo=line.description or line.get_kind_display(),
                dimensions=_dimensions(data, load, line, trail),
                custom_fields=_custom_fields(data, load, line, "ar_invoice_line"),
            )
        )
    if not lines:
        raise ExportError(f"Load {load.number} has no charge lines to invoice.")
    if term:
        trail.append(f"Term {term} (retry after Sage refused the first term)")
    elif ("customer", load.customer_id) in data.custom_terms:
        term = data.custom_terms[("customer", load.customer_id)]
        trail.append(f"Term {term} (custom term for {load.customer.name})")
    else:
        term = data.advanced.default_payment_term
        trail.append(f"Term {term} (default payment terms)")
    invoiced = (
        timezone.localtime(load.invoiced_at).date() if load.invoiced_at else timezone.localdate()
    )
    return fn.create_invoice(
        controlid=controlid,
        customer_id=customer_id,
        date_created=invoiced,
        term_name=term,
        invoice_no=load.number,
        po_number=load.po_number or None,
        description=f"Load {load.number}",
        custom_fields=_custom_fields(data, load, None, "ar_invoice"),
        lines=lines,
    )


# --- AP bills for trips --------------------------------------------------------------------------

TRIP_CATEGORY = {
    "linehaul": (m.Category.LINEHAUL, None),
    "fuel_surcharge": (m.Category.FUEL_SURCHARGE, None),
    "accessorial": (m.Category.ACCESSORIALS, "include_accessorials"),
    "fuel": (m.Category.FUEL, "include_fuel"),
    "toll": (m.Category.TOLLS, "include_tolls"),
}


def _trip_value(trip: am.Trip, line, source: str) -> str:
    """A TMS field of a trip (dimension sources and custom-field sources alike)."""
    load, driver = trip.load, trip.driver
    values = {
        "subsidiary": trip.subsidiary.name,
        "fleet": load.fleet.name if load.fleet_id else "",
        "office": load.office.name if load.office_id else "",
        "driver": driver.name if driver else "",
        "driver_name": driver.name if driver else "",
        "truck": load.truck.number if load.truck_id else "",
        "truck_number": load.truck.number if load.truck_id else "",
        "trailer": load.trailer.number if load.trailer_id else "",
        "trailer_number": load.trailer.number if load.trailer_id else "",
        "contractor_type": driver.contractor_type if driver else "",
        "customer": load.customer.name,
        "carrier": trip.carrier.name if trip.carrier_id else "",
        "trip_number": trip.number,
        "load_number": load.number,
        "reference_number": load.reference_number,
        "po_number": load.po_number,
        "shipper": load.shipper_name,
        "consignee": load.consignee_name,
        "dispatcher": load.dispatcher,
        "miles": str(trip.miles) if trip.miles is not None else "",
        "charge_code": line.item_code if line is not None else "",
    }
    return values.get(source, "")


def _checked_custom_fields(data, target, value_of, *, check_length=False) -> dict[str, str]:
    """Custom-field values for `target` from `value_of(tms_field)`, refusing a missing
    required value and, when asked, a value longer than Sage's max length."""
    values = {}
    for mapping in data.custom_fields:
        if mapping.target != target:
            continue
        value = value_of(mapping.source)
        name = mapping.sage_label or mapping.sage_field_id
        if mapping.required and not value:
            raise ExportError(msg.REQUIRED_CUSTOM_FIELD_MISSING.format(name=name))
        if check_length and mapping.max_length and len(value) > mapping.max_length:
            raise ExportError(msg.CUSTOM_FIELD_TOO_LONG.format(name=name))
        if value:
            values[mapping.sage_field_id] = value
    return values


def trip_bill_function(
    *,
    data: RunData,
    trip: am.Trip,
    controlid: str,
    term: str | None = None,
    trail: list | None = None,
) -> fn.Function:
    """The APBILL create for a trip: bill number = trip number, reference = the carrier's
    invoice number. Raises ExportError naming what to fix."""
    trail = trail if trail is not None else []
    party = trip.carrier or trip.driver
    vendor_id = party_resolve(data=data, side=VENDORS, party=party, trail=trail)
    items = []
    for line in trip.lines.all():
        category, toggle = TRIP_CATEGORY[line.kind]
        if toggle and not getattr(data.ap, toggle):
            continue
        resolved = account_resolve(
            mappings=data.accounts, side="ap", category=category, item_code=line.item_code
        )
        if resolved is None:
            raise ExportError(msg.MISSING_EXPENSE_ACCOUNT.format(line=line.pk))
        trail.append(
            f"Line {line.pk} {line.get_kind_display()} {line.item_code} "
            f"{line.signed_amount}: account {resolved.account_no} "
            f"({resolved.level} mapping)"
        )
        dimensions = {}
        for mapping in data.dimensions:
            source = _trip_value(trip, line, mapping.source)
            value, how = dimension_explain(mapping=mapping, tms_value=source)
            trail.append(
                f"  {mapping.get_dimension_display()} from "
                f"{mapping.get_source_display()} {source!r}: {value or '—'} ({how})"
            )
            if mapping.required and not value:
                raise ExportError(msg.NO_MAPPED_DIMENSION.format(line=line.pk))
            if value:
                dimensions[DIMENSION_FIELD[mapping.dimension].upper()] = value
        if data.dimensions and not dimensions:
            raise ExportError(msg.NO_MAPPED_DIMENSION.format(line=line.pk))
        items.append(
            {
                "ACCOUNTNO": resolved.account_no,
                "TRX_AMOUNT": line.signed_amount,
                "ENTRYDESCRIPTION": line.description or line.get_kind_display(),
                **dimensions,
                **_checked_custom_fields(
                    data, "ap_bill_line", lambda source, line=line: _trip_value(trip, line, source)
                ),
            }
        )
    if not items:
        raise ExportError(f"Trip {trip.number} has no charge lines to bill.")
    key = ("carrier", trip.carrier_id) if trip.carrier_id else ("driver", trip.driver_id)
    if term:
        trail.append(f"Term {term} (retry after Sage refused the first term)")
    elif key in data.custom_terms:
        term = data.custom_terms[key]
        trail.append(f"Term {term} (custom term for {party.name})")
    else:
        term = data.advanced.default_payment_term
        trail.append(f"Term {term} (default payment terms)")
    received = trip.carrier_invoice_uploaded_at or trip.approved_for_payment_at or timezone.now()
    values = {
        "WHENCREATED": timezone.localtime(received).date(),
        "VENDORID": vendor_id,
        "RECORDID": trip.number,
        "DOCNUMBER": trip.carrier_invoice_number or None,
        "DESCRIPTION": f"Trip {trip.number} (load {trip.load.number})",
        "TERMNAME": term,
        **_checked_custom_fields(data, "ap_bill", lambda source: _trip_value(trip, None, source)),
        "APBILLITEMS": {"APBILLITEM": items},
    }
    return fn.create("APBILL", values, controlid=controlid)


def trips_eligible(*, connection: m.Connection):
    """Trips of the subsidiary whose carrier invoice is in or that are approved for payment,
    changed after activation, not synced, and not inside an approved carrier settlement when
    carrier settlements export as their own bill."""
    synced = am.SyncRecord.objects.filter(
        connection=connection, document_type="trip", state=am.SyncRecord.State.SYNCED
    ).values("document_id")
    trips = am.Trip.objects.filter(
        Q(carrier_invoice_uploaded_at__isnull=False) | Q(approved_for_payment_at__isnull=False),
        subsidiary=connection.subsidiary,
        updated_at__gte=connection.activated_at,
    ).exclude(pk__in=synced)
    ap = m.APSettings.objects.filter(connection=connection).first()
    if ap and ap.export_carrier_settlements:
        trips = trips.exclude(carrier_settlement__status=am.CarrierSettlement.Status.APPROVED)
    external = am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary)
    return (
        trips.select_related(
            "subsidiary",
            "carrier",
            "driver",
            "load__customer",
            "load__fleet",
            "load__office",
            "load__truck",
            "load__trailer",
        )
        .prefetch_related(
            "lines",
            Prefetch("carrier__external_ids", queryset=external),
            Prefetch("driver__external_ids", queryset=external),
        )
        .with_totals()
        .order_by("pk")
    )


# --- running ----------------------------------------------------------------------------------


def loads_eligible(*, connection: m.Connection):
    """Invoiced or financed loads of the subsidiary, changed after activation, not on a summary
    invoice, and not already synced."""
    synced = am.SyncRecord.objects.filter(
        connection=connection, document_type="load", state=am.SyncRecord.State.SYNCED
    ).values("document_id")
    return (
        am.Load.objects.filter(
            invoice_as_subsidiary=connection.subsidiary,
            billing_status__in=READY_STATUSES,
            summary_invoice=None,
            updated_at__gte=connection.activated_at,
        )
        .exclude(pk__in=synced)
        .select_related(
            "customer", "invoice_as_subsidiary", "fleet", "office", "driver", "truck", "trailer"
        )
        .prefetch_related(
            "lines",
            Prefetch(
                "customer__external_ids",
                queryset=am.ExternalAccountingId.objects.filter(subsidiary=connection.subsidiary),
            ),
        )
        .with_totals()
        .order_by("pk")
    )


@dataclass(frozen=True)
class Kind:
    """One kind of TMS document and the Sage document it becomes."""

    document_type: str
    sage_object: str
    entity_type: str
    transaction_type: str
    prefix: str  # of the stable controlid


LOAD_INVOICE = Kind("load", "ARINVOICE", "Load", "Invoice", "ar-invoice-load")
TRIP_BILL = Kind("trip", "APBILL", "Trip", "Bill", "ap-bill-trip")


def _fail(
    *,
    kind: Kind,
    connection,
    doc,
    message,
    error: errors.IntacctError | None = None,
    function: fn.Function | None = None,
):
    """Open (or update) the document's one Error Transaction with the message, Sage's details
    and the function sent (secrets masked), and add the attempt to its history."""
    details = [e.__dict__ for e in error.errors] if error else []
    updated = am.ErrorTransaction.objects.filter(
        subsidiary=connection.subsidiary,
        document_type=kind.document_type,
        document_id=doc.pk,
        status=am.ErrorTransaction.Status.FAILED,
    )
    values = {
        "message": message,
        "errorno": (error.errorno or "") if error else "",
        "support_id": (error.support_id or "") if error else "",
        "details": details,
        "total": doc.get_total(),
    }
    if function is not None:
        sent = ET.Element("function", {"controlid": function.controlid})
        sent.append(copy.deepcopy(function.body))
        ET.indent(sent)
        values["payload"] = redact(ET.tostring(sent, encoding="unicode"))
    if updated.update(attempts=F("attempts") + 1, updated_at=timezone.now(), **values):
        error_id = updated.values_list("pk", flat=True).first()
    else:
        error_id = am.ErrorTransaction.objects.create(
            entity_type=kind.entity_type,
            transaction_type=kind.transaction_type,
            subsidiary=connection.subsidiary,
            document_type=kind.document_type,
            document_id=doc.pk,
            reference=doc.number,
            **values,
        ).pk
    if error_id is not None:
        am.ErrorAttempt.objects.create(
            error_id=error_id,
            outcome=am.ErrorAttempt.Outcome.FAILED,
            sent=function is not None or error is not None,
            message=message,
            errorno=values["errorno"],
            support_id=values["support_id"],
        )


def _resolve_errors(*, kind: Kind, connection, ids: list[int]) -> None:
    """A later success resolves the documents' open Error Transactions and adds the success to
    their history (one query when none is open, three otherwise)."""
    open_errors = am.ErrorTransaction.objects.filter(
        subsidiary=connection.subsidiary,
        document_type=kind.document_type,
        document_id__in=ids,
        status=am.ErrorTransaction.Status.FAILED,
    )
    error_ids = list(open_errors.values_list("pk", flat=True))
    if not error_ids:
        return
    now = timezone.now()
    am.ErrorTransaction.objects.filter(
        pk__in=error_ids, status=am.ErrorTransaction.Status.FAILED
    ).update(
        status=am.ErrorTransaction.Status.RESOLVED,
        resolved_at=now,
        resolution=am.ErrorTransaction.Resolution.SYNCED,
    )
    am.ErrorAttempt.objects.bulk_create(
        am.ErrorAttempt(error_id=pk, at=now, outcome=am.ErrorAttempt.Outcome.SYNCED, sent=True)
        for pk in error_ids
    )


def _ledger(kind: Kind, connection, docs) -> dict[int, am.SyncRecord]:
    """The batch's ledger rows by document id, created (before anything is sent) where missing.

    Three queries whatever the batch size.
    """
    rows = am.SyncRecord.objects.filter(
        connection=connection, document_type=kind.document_type, role=""
    )
    ledger = {r.document_id: r for r in rows.filter(document_id__in=[d.pk for d in docs])}
    missing = [
        am.SyncRecord(
            connection=connection,
            document_type=kind.document_type,
            document_id=doc.pk,
            reference=doc.number,
            sage_object=kind.sage_object,
            controlid=f"{kind.prefix}-{doc.pk}-v1",
        )
        for doc in docs
        if doc.pk not in ledger
    ]
    if missing:
        # Another exporter may insert the same rows at once: the unique constraint keeps one.
        am.SyncRecord.objects.bulk_create(missing, ignore_conflicts=True)
        ledger |= {
            r.document_id: r for r in rows.filter(document_id__in=[r.document_id for r in missing])
        }
    return ledger


def _lookup(kind: Kind, client, doc) -> str | None:
    """RECORDNO of the Sage document numbered like `doc`, if Sage has one."""
    rows = list(
        client.iter_query(
            kind.sage_object, ["RECORDNO", "RECORDID"], filter=SageQ.equalto("RECORDID", doc.number)
        )
    )
    return rows[0]["RECORDNO"] if rows else None


@dataclass
class Run:
    """One export of one kind for one connection."""

    kind: Kind
    data: RunData
    build: object  # (data, doc, controlid, term=None) -> Function
    summary: ExportSummary


def _export(*, kind, connection, enabled, docs, build, batch_size, client) -> ExportSummary:
    """The steps of the module docstring, for any kind of document."""
    summary = ExportSummary()
    if not connection.is_syncing or not enabled:
        return summary
    docs = list(docs)
    client = client or client_for(connection)
    try:
        if client.session is None:
            client.open_session()
    except errors.AuthenticationError:
        for doc in docs:
            _fail(kind=kind, connection=connection, doc=doc, message=msg.CLIENT_NOT_INITIALIZED)
        summary.failed = len(docs)
        summary.requests = client.requests_sent
        return summary
    except errors.IntacctError as error:  # Sage unreachable: nothing sent, try next run
        summary.errors.append(str(error))
        summary.skipped = len(docs)
        summary.requests = client.requests_sent
        return summary
    run = Run(kind, run_data(connection, client), build, summary)
    for start in range(0, len(docs), batch_size):
        _export_batch(run, docs[start : start + batch_size])
    summary.requests = client.requests_sent
    return summary


@dataclass(frozen=True)
class Exporter:
    """How one kind of document exports: its master toggle, which documents are ready, and
    the function that builds each one's Sage function."""

    kind: Kind
    master: tuple  # (settings model, toggle field)
    eligible: object  # (connection=) -> QuerySet
    build: object  # (data, doc, controlid, term=None) -> Function


EXPORTERS: dict[str, Exporter] = {
    "load": Exporter(
        LOAD_INVOICE,
        (m.ARSettings, "export_ar_invoices"),
        loads_eligible,
        lambda data, doc, controlid, term=None: load_invoice_function(
            data=data, load=doc, controlid=controlid, term=term
        ),
    ),
    "trip": Exporter(
        TRIP_BILL,
        (m.APSettings, "export_ap_bills"),
        trips_eligible,
        lambda data, doc, controlid, term=None: trip_bill_function(
            data=data, trip=doc, controlid=controlid, term=term
        ),
    ),
}


def documents_export(
    *,
    connection: m.Connection,
    document_type: str,
    batch_size: int = 50,
    limit: int | None = None,
    client=None,
    ids: list[int] | None = None,
) -> ExportSummary:
    """Export the connection's ready documents of one type (only `ids` when given)."""
    exporter = EXPORTERS[document_type]
    settings_model, toggle = exporter.master
    settings = settings_model.objects.filter(connection=connection).first()
    docs = exporter.eligible(connection=connection)
    if ids is not None:
        docs = docs.filter(pk__in=ids)
    return _export(
        kind=exporter.kind,
        connection=connection,
        enabled=bool(getattr(settings, toggle, False)),
        docs=docs[:limit] if limit else docs,
        build=exporter.build,
        batch_size=batch_size,
        client=client,
    )


def documents_validate(
    *, connection: m.Connection, document_type: str, ids: list[int], client=None
) -> dict[int, str]:
    """Resolve each ready document without sending anything: document id → the message that
    still stops it ("" when it would export). Documents that are not ready to export (already
    synced, not invoiced, ...) are left out. Raises IntacctError when Sage cannot be read."""
    exporter = EXPORTERS[document_type]
    data = run_data(connection, client or client_for(connection), dry_run=True)
    problems = {}
    for doc in exporter.eligible(connection=connection).filter(pk__in=ids):
        try:
            exporter.build(data, doc, f"{exporter.kind.prefix}-{doc.pk}-check")
        except ExportError as error:
            problems[doc.pk] = str(error)
        else:
            problems[doc.pk] = ""
    return problems


def loads_export(*, connection: m.Connection, **options) -> ExportSummary:
    """AR invoices for the connection's ready loads (options as `documents_export`)."""
    return documents_export(connection=connection, document_type="load", **options)


def trips_export(*, connection: m.Connection, **options) -> ExportSummary:
    """AP bills for the connection's trips whose carrier invoice is in (or that are approved)."""
    return documents_export(connection=connection, document_type="trip", **options)


def _export_batch(run: Run, docs) -> None:
    kind, data = run.kind, run.data
    connection, client = data.connection, data.client
    ledger = _ledger(kind, connection, docs)
    pending = []  # (doc, record, function)
    synced = []  # (doc, record, record_no)
    for doc in docs:
        record = ledger[doc.pk]
        if record.state == am.SyncRecord.State.SYNCED:  # another exporter got there first
            run.summary.skipped += 1
            continue
        if record.state == am.SyncRecord.State.UNKNOWN:
            # An earlier send may have been applied: look it up before sending anything.
            record_no = _lookup(kind, client, doc)
            if record_no:
                synced.append((doc, record, record_no))
                continue
        try:
            function = run.build(data, doc, record.controlid)
        except ExportError as error:
            _fail(kind=kind, connection=connection, doc=doc, message=str(error))
            run.summary.failed += 1
            continue
        pending.append((doc, record, function))
    if pending:
        _send(run, pending, synced)
    _mark_synced(kind, connection, synced)
    run.summary.created += len(synced)


def _claim(pending, summary) -> list:
    """Claim the batch's rows with one conditional update; rows another exporter is sending
    right now are left to it (skipped here)."""
    now, token = timezone.now(), uuid.uuid4().hex
    # A row another exporter has synced since this run read its documents is not free either.
    free = ~Q(state=am.SyncRecord.State.SYNCED) & (
        ~Q(state=am.SyncRecord.State.PENDING)
        | Q(last_attempt_at__lt=now - CLAIM_LEASE)
        | Q(last_attempt_at__isnull=True)
    )
    am.SyncRecord.objects.filter(Q(pk__in=[r.pk for _, r, _ in pending]) & free).update(
        state=am.SyncRecord.State.PENDING,
        last_attempt_at=now,
        claimed_by=token,
        attempts=F("attempts") + 1,
    )
    claimed = set(am.SyncRecord.objects.filter(claimed_by=token).values_list("pk", flat=True))
    summary.skipped += len(pending) - len(claimed)
    return [item for item in pending if item[1].pk in claimed]


def _send(run: Run, pending, synced) -> None:
    kind, connection, client = run.kind, run.data.connection, run.data.client
    pending = _claim(pending, run.summary)
    if not pending:
        return
    pending_ids = [record.pk for _, record, _ in pending]
    try:
        results = client.execute([function for _, _, function in pending])
    except errors.OutcomeUnknownError:
        am.SyncRecord.objects.filter(pk__in=pending_ids).update(state=am.SyncRecord.State.UNKNOWN)
        run.summary.failed += len(pending)
        return
    except errors.IntacctError as error:
        for doc, _record, function in pending:
            _fail(
                kind=kind,
                connection=connection,
                doc=doc,
                message=str(error),
                error=error,
                function=function,
            )
        run.summary.failed += len(pending)
        return
    for (doc, record, function), result in zip(pending, results, strict=True):
        if result.ok:
            synced.append((doc, record, result.record_no or _lookup(kind, client, doc)))
            continue
        _record_failure(run, doc, record, function, result, synced)


def _record_failure(run: Run, doc, record, function, result, synced) -> None:
    kind, data = run.kind, run.data
    error = result.error()
    if isinstance(error, errors.DuplicateControlIdError):
        # Sage already applied this exact version (an earlier run lost the answer): link it.
        record_no = _lookup(kind, data.client, doc)
        if record_no:
            synced.append((doc, record, record_no))
            return
    if msg.TERM_NOT_VALID.lower() in str(error).lower() and function.controlid.endswith("-v1"):
        retry = run.build(data, doc, record.controlid + "-net30", term=NET_30)
        (second,) = data.client.execute([retry])
        if second.ok:
            record.controlid = retry.controlid
            synced.append((doc, record, second.record_no or ""))
            return
        error, function = second.error(), retry
    am.SyncRecord.objects.filter(pk=record.pk).update(state=am.SyncRecord.State.FAILED)
    _fail(
        kind=kind,
        connection=data.connection,
        doc=doc,
        message=str(error),
        error=error,
        function=function,
    )
    run.summary.failed += 1


def _mark_synced(kind: Kind, connection, synced) -> None:
    """Record RECORDNOs and resolve open errors for the batch's successes (two queries)."""
    if not synced:
        return
    now = timezone.now()
    records = []
    for _doc, record, record_no in synced:
        record.state, record.record_no, record.synced_at = (
            am.SyncRecord.State.SYNCED,
            record_no or "",
            now,
        )
        records.append(record)
    am.SyncRecord.objects.bulk_update(records, ["state", "record_no", "synced_at", "controlid"])
    _resolve_errors(kind=kind, connection=connection, ids=[doc.pk for doc, _, _ in synced])
