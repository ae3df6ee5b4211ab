"""AP bills (APBILL) through the generic create and update functions."""

from decimal import Decimal

from .. import errors as e
from ..catalog import DIMENSIONS
from ..models import SandboxRecord
from .documents import DRAFT, POSTED, check_custom_fields, document_line, totals
from .masterdata import check_party, check_term
from .records import custom_fields, new_record, save
from .values import listed, money, parse_us_date, required, text, us_date


def _bill_lines(ctx, values, recordno) -> list[dict]:
    raw_lines = listed((values.get("APBILLITEMS") or {}).get("APBILLITEM"))
    if not raw_lines:
        raise e.fault("Missing required element", "A bill needs at least one <APBILLITEM>.")
    custom_ids = {c.field_id for c in custom_fields(ctx, "APBILLITEM")}
    lines = []
    for index, raw in enumerate(raw_lines, start=1):
        raw = raw or {}
        account = text(raw.get("ACCOUNTNO")) or text(raw.get("ACCOUNTLABEL"))
        if not account:
            raise e.fault("Missing required element", f"Line {index} needs <ACCOUNTNO>.")
        amount = money(required(raw, "TRX_AMOUNT", "APBILLITEM"), f"line {index}")
        dims = {name: text(raw.get(name)) for name in DIMENSIONS if text(raw.get(name))}
        custom = {name: text(raw.get(name)) for name in custom_ids if raw.get(name) is not None}
        lines.append(
            document_line(
                ctx,
                "APBILLITEM",
                index,
                recordno,
                account,
                amount,
                text(raw.get("ENTRYDESCRIPTION")),
                dims,
                custom,
            )
        )
    return lines


def _bill_header(ctx, values, doc: SandboxRecord | None = None) -> dict:
    header = {}
    vendor_id = text(values.get("VENDORID")) or (doc.data["VENDORID"] if doc else "")
    if not vendor_id:
        raise e.fault("Missing required element", "<VENDORID> is required in APBILL.")
    check_party(ctx, "VENDOR", vendor_id)
    header["VENDORID"] = vendor_id
    for name in ("RECORDID", "DOCNUMBER", "DESCRIPTION", "CURRENCY"):
        if values.get(name) is not None:
            header[name] = text(values.get(name))
    if len(header.get("RECORDID", "")) > 45:
        raise e.fault("Value too long", "RECORDID (bill number) is longer than 45 characters.")
    term = text(values.get("TERMNAME"))
    if term:
        check_term(ctx, "APTERM", term)
        header["TERMNAME"] = term
    for name in ("WHENCREATED", "WHENPOSTED", "WHENDUE"):
        if values.get(name):
            header[name] = us_date(parse_us_date(text(values.get(name)), name))
    custom_ids = {c.field_id for c in custom_fields(ctx, "APBILL")}
    existing = {k: v for k, v in (doc.data.items() if doc else []) if k in custom_ids}
    custom = existing | {k: text(values.get(k)) for k in custom_ids if values.get(k) is not None}
    header.update(check_custom_fields(ctx, "APBILL", {k: v for k, v in custom.items() if v}))
    return header


def create_bill(ctx, object, values) -> SandboxRecord:
    action = text(values.get("ACTION")) or "Submit"
    header = _bill_header(ctx, values)  # its required fields were checked (`objects`)
    doc = new_record(
        ctx.company,
        "APBILL",
        {},
        key=header.get("RECORDID", ""),
        state=DRAFT if action == "Draft" else POSTED,
        entity=ctx.location_id,
        now=ctx.now,
        saved=False,  # saved complete below
    )
    created = parse_us_date(header.get("WHENCREATED") or us_date(ctx.now.date()), "WHENCREATED")
    header.setdefault("WHENDUE", "")  # a Draft may leave it to be set before it is posted
    doc.data.update(
        {
            "WHENPOSTED": us_date(created) if action != "Draft" else "",
            "WHENPAID": "",
            "CURRENCY": "USD",
            "TOTALPAID": "0.00",
            **header,
            "ITEMS": _bill_lines(ctx, values, doc.pk),
        }
    )
    totals(doc)
    save(doc, ctx.now)
    return doc


def update_bill(ctx, record: SandboxRecord, values) -> None:
    """Apply an APBILL update to a Draft or unpaid Posted bill; the caller saves it."""
    if record.state not in (DRAFT, POSTED) or Decimal(record.data["TOTALPAID"]) > 0:
        raise e.fault(
            e.BILL_NOT_EDITABLE,
            e.BILL_NOT_EDITABLE_2.format(recordno=record.pk, state=record.state),
        )
    record.data.update(_bill_header(ctx, values, record))
    if values.get("APBILLITEMS") is not None:
        record.data["ITEMS"] = _bill_lines(ctx, values, record.pk)
    if text(values.get("ACTION")) == "Submit" and record.state == DRAFT:
        record.state = POSTED
    record.key = record.data.get("RECORDID", "")
    totals(record)
