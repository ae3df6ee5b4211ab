"""What AR invoices and AP bills share: their states, lines, totals, custom fields, reversal."""

from decimal import Decimal

from .. import errors as e
from ..models import SandboxRecord
from .context import Context, Reply
from .masterdata import check_account, check_dimensions
from .records import custom_fields, find_by_recordno, new_record, require_module, save
from .values import legacy_date, money, text, us_date

DRAFT, POSTED, PARTIALLY_PAID, PAID = "Draft", "Posted", "Partially Paid", "Paid"
SELECTED, REVERSED, REVERSAL = "Selected", "Reversed", "Reversal"


def check_custom_fields(ctx: Context, object: str, values: dict) -> dict:
    """Validate custom field values for `object`; returns them. Unknown names are refused."""
    definitions = {c.field_id: c for c in custom_fields(ctx, object)}
    for name, value in values.items():
        definition = definitions.get(name)
        if definition is None:
            raise e.fault(
                "Invalid custom field", f"Custom field '{name}' does not exist on {object}."
            )
        if definition.max_length and len(value) > definition.max_length:
            raise e.fault(
                "Value too long",
                f"The value for {definition.label} ({name}) is {len(value)} characters; "
                f"the maximum is {definition.max_length}.",
                f"Shorten the value to {definition.max_length} characters.",
            )
        if definition.datatype == "number" and value:
            money(value, definition.label)
    for definition in definitions.values():
        if definition.required and not values.get(definition.field_id):
            raise e.fault(
                "Required field missing",
                f"{definition.label} ({definition.field_id}) is required on {object}.",
                f"Provide a value for {definition.label}.",
            )
    return values


def document_line(ctx, object, index, recordno, account, amount, memo, dims, custom) -> dict:
    check_account(ctx, account)
    check_dimensions(ctx, dims)
    check_custom_fields(ctx, object, custom)
    line = {
        "RECORDNO": f"{recordno}-{index}",
        "RECORDKEY": str(recordno),
        "LINE_NO": str(index),
        "ACCOUNTNO": account,
        "ENTRYDESCRIPTION": memo,
        **dims,
        **custom,
    }
    if object == "ARINVOICEITEM":
        line["AMOUNT"] = line["TRX_AMOUNT"] = str(amount)
    else:
        line["TRX_AMOUNT"] = str(amount)
    return line


def refresh_state(doc: SandboxRecord) -> None:
    """Posted / Partially Paid / Paid / Selected from the amounts; fixed states stay."""
    if doc.state in (DRAFT, REVERSED, REVERSAL):
        return
    paid = Decimal(doc.data.get("TOTALPAID", "0"))
    due = Decimal(doc.data.get("TOTALDUE", "0"))
    if paid > 0 and due <= 0:
        doc.state = PAID
    elif paid > 0:
        doc.state = PARTIALLY_PAID
    elif doc.data.get("SELECTED"):
        doc.state = SELECTED
    else:
        doc.state = POSTED


def totals(doc: SandboxRecord) -> None:
    total = sum((Decimal(line["TRX_AMOUNT"]) for line in doc.data.get("ITEMS", [])), Decimal(0))
    paid = Decimal(doc.data.get("TOTALPAID", "0"))
    doc.data.update(
        {"TOTALENTERED": str(total), "TOTALPAID": str(paid), "TOTALDUE": str(total - paid)}
    )


def find_document(ctx, object, key, label) -> SandboxRecord:
    doc = find_by_recordno(ctx, object, key)
    if doc is None:
        raise e.fault(
            f"Invalid {label}",
            f"{label} {key} does not exist.",
            f"Check the {label.lower()} key (RECORDNO).",
        )
    return doc


def reverse_document(ctx: Context, body, object: str) -> Reply:
    label = "Invoice" if object == "ARINVOICE" else "Bill"
    require_module(ctx, object, "REVERSE")
    key = body.get("@key", "")
    doc = find_document(ctx, object, key, label)
    if Decimal(doc.data.get("TOTALPAID", "0")) > 0:
        raise e.fault(
            "Cannot reverse",
            e.PAYMENTS_APPLIED,
            "Reverse or unapply the payments in Sage Intacct, then retry.",
        )
    if doc.state != POSTED:
        raise e.fault(
            "Cannot reverse",
            f"{label} {key} is {doc.state}; only Posted "
            f"{label.lower()}s without payments can be reversed.",
        )
    when = legacy_date(body.get("datereversed"), "datereversed")
    doc.state = REVERSED
    doc.data["WHENREVERSED"] = us_date(when)
    save(doc, ctx.now)
    reversal = new_record(
        ctx.company,
        object,
        {},
        key=f"{doc.key}-R" if doc.key else "",
        state=REVERSAL,
        entity=doc.entity,
        now=ctx.now,
    )
    items = [
        {
            **line,
            "RECORDNO": f"{reversal.pk}-{i}",
            "RECORDKEY": str(reversal.pk),
            "TRX_AMOUNT": str(-Decimal(line["TRX_AMOUNT"])),
            **({"AMOUNT": str(-Decimal(line["AMOUNT"]))} if "AMOUNT" in line else {}),
        }
        for i, line in enumerate(doc.data.get("ITEMS", []), start=1)
    ]
    reversal.data.update(
        {
            k: v
            for k, v in doc.data.items()
            if k not in ("RECORDNO", "STATE", "ITEMS", "WHENMODIFIED")
        }
    )
    reversal.data.update(
        {
            "RECORDID": reversal.key,
            "ITEMS": items,
            "WHENCREATED": us_date(when),
            "DESCRIPTION": text(body.get("description"))
            or f"Reversal of {doc.data.get('RECORDID') or doc.pk}",
            "TOTALPAID": "0.00",
            "REVERSEDKEY": str(doc.pk),
        }
    )
    totals(reversal)
    save(reversal, ctx.now)
    return Reply(key=str(reversal.pk))


def check_deletable(doc, label, key):
    if doc.state not in (DRAFT, POSTED) or Decimal(doc.data.get("TOTALPAID", "0")) > 0:
        raise e.fault(
            f"Cannot delete {label.lower()}",
            f"{label} {key} is {doc.state}; only Draft or unpaid Posted "
            f"{label.lower()}s can be deleted.",
            "Reverse it instead.",
        )
