"""The pure payload builder: a `Draft` (who, when, which lines, which TMS fields) becomes the
Sage function, `create_invoice` for AR and `create` APBILL for AP, through resolution; no I/O
but the run's cached reads."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from intacct.client import InvoiceLine
from intacct.client import functions as fn

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
    # A group document (summary invoice, settlement): the ids of the members it bills, and a
    # note for each member left out (documents.members).
    members: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()


def fields_reader(values: dict[str, str]) -> ValueOf:
    return lambda source: values.get(source) or ""


def local_day(moment: dt.datetime | None) -> dt.date:
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
    trail.extend(draft.notes)
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
            # in the order Sage documents them, whatever the order of the mappings
            **{name.upper(): dimensions[name] for name in fn.LINE_DIMENSIONS if name in dimensions},
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
        # Required unless the bill is a Draft (DOCS accounts-payable-bills.md, create APBILL);
        # no TMS document carries a due date, so the term's rule sets it.
        "WHENDUE": data.term_due("APTERM", term, draft.date),
        **header,
        "APBILLITEMS": {"APBILLITEM": items},
    }
    return fn.create("APBILL", values, controlid=controlid)
