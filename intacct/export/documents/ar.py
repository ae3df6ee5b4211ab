"""AR documents: loads, summary invoices, e-checks, carrier statements, intercompany."""

from django.db.models import F, Prefetch, Q, QuerySet

from accounting import models as am
from intacct.connections import models as m

from ..payloads import Draft, Line, fields_reader, local_day
from ..resolution import RunData
from .fields import carrier_fields, charge_line, load_fields, trip_fields
from .members import billed_in_a_group, in_sage_on_its_own, members_split

C = m.Category
READY_STATUSES = (am.BillingStatus.INVOICED, am.BillingStatus.FINANCED)

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
        lines.append(charge_line(line, LOAD_CATEGORY[line.kind], fields, memo_prefix))
    return lines


def load_draft(data: RunData, load: am.Load) -> Draft:
    return Draft(
        side="ar",
        party=load.customer,
        term_key=("customer", load.customer_id),
        date=local_day(load.invoiced_at),
        description=f"Load {load.number}",
        reference=load.po_number,
        lines=load_lines(data, load),
        value_of=fields_reader(load_fields(load)),
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
    """Invoiced or financed loads the subsidiary invoices, not on a summary invoice (nor still
    billed on one it left) unless invoiced on their own before joining it; and completed (paid) ones already invoiced on their own, so that a
    change after payment reaches the Error Transactions page ("Payments must be removed ...")
    instead of leaving Sage billing the old amount without a word."""
    invoiced = in_sage_on_its_own(connection, "load")
    loads = am.Load.objects.filter(
        Q(billing_status__in=READY_STATUSES)
        | Q(invoiced, billing_status=am.BillingStatus.COMPLETED),
        # On a summary invoice: billed by it, unless already invoiced on its own (the summary
        # leaves it out, documents.members), when its own invoice carries its changes.
        Q(summary_invoice=None) | Q(invoiced),
        invoice_as_subsidiary=connection.subsidiary,
    ).exclude(billed_in_a_group(connection, "load"))
    return _loads_prefetch(connection, loads)


def summary_invoice_draft(data: RunData, summary: am.SummaryInvoice) -> Draft:
    """One invoice for many loads: each load's lines, their memos naming the load. A load
    already invoiced on its own is left out (documents.members)."""
    loads, notes = members_split(data, "summary_invoice", summary, summary.loads.all())
    lines = []
    for load in loads:
        lines += load_lines(data, load, memo_prefix=f"Load {load.number}: ")
    return Draft(
        side="ar",
        party=summary.customer,
        term_key=("customer", summary.customer_id),
        date=local_day(summary.issued_at),
        description=f"Summary invoice {summary.number}",
        reference="",
        lines=lines,
        members=tuple(load.pk for load in loads),
        notes=tuple(notes),
        value_of=fields_reader(
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
        value_of=fields_reader(fields),
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
        date=local_day(echeck.issued_at),
        description=f"E-check {echeck.number} for load {echeck.load.number}",
        reference=echeck.load.po_number,
        lines=[_echeck_line(echeck, fields)],
        value_of=fields_reader(fields),
    )


def echeck_draft(data: RunData, echeck: am.ECheck) -> Draft:
    """An e-check paid to its driver or carrier (AP)."""
    fields = _echeck_fields(echeck)
    payee = echeck.payee
    return Draft(
        side="ap",
        party=payee,
        term_key=("driver", payee.pk) if echeck.payee_driver_id else ("carrier", payee.pk),
        date=local_day(echeck.issued_at),
        description=f"E-check {echeck.number} ({echeck.get_reason_display()})",
        reference=echeck.number,
        lines=[_echeck_line(echeck, fields)],
        value_of=fields_reader(fields),
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
    fields = carrier_fields(statement.carrier, statement.subsidiary, statement.number)
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
            charge_line(line, STATEMENT_CATEGORY[line.kind], fields)
            for line in statement.lines.all()
        ],
        value_of=fields_reader(fields),
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
        date=local_day(load.invoiced_at),
        description=f"Intercompany bill for load {load.number} from {load.tender_as_subsidiary}",
        reference=load.number,
        lines=load_lines(data, load),
        value_of=fields_reader({**load_fields(load), "trip_number": load.number}),
    )


def intercompany_invoice_draft(data: RunData, load: am.Load) -> Draft:
    """Tender-As side: the invoice back to the Invoice-As subsidiary for hauling the load."""
    return Draft(
        side="ar",
        party=load.invoice_as_subsidiary,
        use_external_id=False,
        term_key=None,
        date=local_day(load.invoiced_at),
        description=f"Intercompany invoice for load {load.number} to {load.invoice_as_subsidiary}",
        reference=load.po_number,
        lines=load_lines(data, load),
        value_of=fields_reader({**load_fields(load), "subsidiary": load.tender_as_subsidiary.name}),
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
