"""The TMS's side: what Sage should show for each synced document (customer or vendor, date,
due date, total), built by the export's own payload builder so the two can never disagree on
how a document reads. Only documents still ready for export and unchanged since their last
sync are compared (a changed one is the export's to send, not drift)."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef

from accounting import models as am
from intacct.client import functions as fn
from intacct.client import to_date, to_decimal
from intacct.export import DOCUMENT_TYPES, ExportError, document_function, run_data

BATCH = 1000  # documents read (with their prefetches) per query
CONTROLID = "reconcile-expected"  # never sent: the builder needs one


@dataclass(frozen=True)
class Expected:
    party: str
    date: dt.date | None
    due: dt.date | None
    total: Decimal


def _identity(function: fn.Function, data) -> Expected:
    """What `function` (a create_invoice or an APBILL create) makes Sage show."""
    body = function.body
    if body.tag == "create_invoice":
        created = body.find("datecreated")
        date = dt.date(*(int(created.findtext(part)) for part in ("year", "month", "day")))
        total = sum(to_decimal(line.findtext("amount")) for line in body.iter("lineitem"))
        # Sage sets an invoice's due date from its term (DOCS accounts-receivable-invoices.md:
        # datedue "Required if not using termname"); the export sends the term only.
        due = data.term_due("ARTERM", body.findtext("termname") or "", date)
        return Expected(body.findtext("customerid") or "", date, due, Decimal(total))
    bill = body.find("APBILL")
    total = sum(to_decimal(line.findtext("TRX_AMOUNT")) for line in bill.iter("APBILLITEM"))
    return Expected(
        bill.findtext("VENDORID") or "",
        to_date(bill.findtext("WHENCREATED")),
        to_date(bill.findtext("WHENDUE")),
        Decimal(total),
    )


def expected_read(*, connection, client, rows: Iterable[am.SyncRecord]) -> dict[int, Expected]:
    """Ledger row id -> what Sage should show, for the synced `rows` whose document is still
    ready for export and unchanged since its sync. A document the export cannot build now
    (a mapping removed since) is left out: the export reports it when it next changes.

    Reads Sage's customers or vendors and terms at most once each (as an export run does, never
    writing: no customer is auto-created), and the documents per type in batches of `BATCH`."""
    by_type: dict[str, dict[int, am.SyncRecord]] = {}
    for row in rows:
        if row.document_type in DOCUMENT_TYPES:
            by_type.setdefault(row.document_type, {})[row.document_id] = row
    if not by_type:
        return {}
    data = run_data(connection, client, dry_run=True)
    expected = {}
    for document_type, ledger in by_type.items():
        kind = DOCUMENT_TYPES[document_type]
        unchanged = am.SyncRecord.objects.filter(
            connection=connection,
            document_type=document_type,
            role="",
            document_id=OuterRef("pk"),
            synced_at__gte=OuterRef("updated_at"),
        )
        docs = kind.ready(connection=connection).filter(Exists(unchanged)).order_by("pk")
        last = 0
        while True:
            batch = list(docs.filter(pk__gt=last)[:BATCH])
            if not batch:
                break
            last = batch[-1].pk
            for doc in batch:
                row = ledger.get(doc.pk)
                if row is None:
                    continue
                try:
                    function = document_function(
                        data=data,
                        document_type=document_type,
                        doc=doc,
                        controlid=CONTROLID,
                        version=row.version,
                    )
                except ExportError:
                    continue
                expected[row.pk] = _identity(function, data)
    return expected


# What each document type that payments close is called when closed, and where its status is.
CLOSABLE = {
    "load": (am.Load, "billing_status", am.BillingStatus.COMPLETED),
    "trip": (am.Trip, "status", am.Trip.Status.PAID),
    "paystub": (am.Paystub, "status", am.Paystub.Status.PAID),
}


def open_documents(*, connection, document_types: Iterable[str]) -> set[tuple[str, int]]:
    """(document type, id) of the exported loads, trips and paystubs not closed in the TMS
    (one query per type)."""
    result = set()
    for document_type in set(document_types) & set(CLOSABLE):
        model, status_field, closed = CLOSABLE[document_type]
        exported = am.SyncRecord.objects.filter(
            connection=connection, document_type=document_type, document_id=OuterRef("pk")
        )
        ids = (
            model.objects.filter(Exists(exported))
            .exclude(**{status_field: closed})
            .values_list("pk", flat=True)
        )
        result |= {(document_type, pk) for pk in ids}
    return result


def closed_label(document_type: str) -> str:
    return str(CLOSABLE[document_type][2].label)
