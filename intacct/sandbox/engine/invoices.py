"""AR invoices through Sage's legacy functions: create_invoice, update_invoice, delete_invoice."""

from decimal import Decimal

from .. import errors as e
from ..catalog import DIMENSIONS
from ..fields import LEGACY
from ..models import SandboxRecord
from .context import Context, Reply
from .documents import (
    DRAFT,
    POSTED,
    check_custom_fields,
    check_deletable,
    document_line,
    find_document,
    totals,
)
from .masterdata import check_party, check_term, term_due
from .records import custom_fields, new_record, require_module, save
from .values import legacy_date, listed, money, required, text, us_date

EDITABLE_INVOICE_STATES = (DRAFT, POSTED)


def _legacy_lines(ctx, body, recordno, container="invoiceitems", tag="lineitem"):
    lines = []
    for index, raw in enumerate(listed((body.get(container) or {}).get(tag)), start=1):
        lines.append(_legacy_line(ctx, raw or {}, recordno, index))
    return lines


def _legacy_line(ctx, raw: dict, recordno, index) -> dict:
    account = text(raw.get("glaccountno")) or text(raw.get("accountlabel"))
    if not account:
        raise e.fault("Missing required element", f"Line {index} needs <glaccountno>.")
    amount = money(required(raw, "amount", "lineitem"), f"line {index}")
    dims = {name: text(raw.get(name.lower())) for name in DIMENSIONS if text(raw.get(name.lower()))}
    custom = _legacy_custom(raw)
    return document_line(
        ctx, "ARINVOICEITEM", index, recordno, account, amount, text(raw.get("memo")), dims, custom
    )


_LINE_KEYS = {
    "RECORDNO",
    "RECORDKEY",
    "LINE_NO",
    "ACCOUNTNO",
    "ENTRYDESCRIPTION",
    "AMOUNT",
    "TRX_AMOUNT",
}


def _as_legacy(line: dict) -> dict:
    """A stored line in legacy element names, for an update to change part of it."""
    values = {
        "glaccountno": line["ACCOUNTNO"],
        "amount": line["AMOUNT"],
        "memo": line.get("ENTRYDESCRIPTION", ""),
        **{name.lower(): line[name] for name in DIMENSIONS if line.get(name)},
    }
    custom = {k: v for k, v in line.items() if k not in _LINE_KEYS and k not in DIMENSIONS}
    if custom:
        values["customfields"] = {
            "customfield": [
                {"customfieldname": k, "customfieldvalue": v} for k, v in custom.items()
            ]
        }
    return values


def check_schema(body, function: str) -> None:
    """Refuse an element api.v3.0.xsd does not allow in `function` or in its lines."""
    items = "invoiceitems" if function == "create_invoice" else "updateinvoiceitems"
    pairs = [(function, body)]
    for tag in ("lineitem", "updatelineitem"):
        pairs += [(tag, line) for line in listed((body.get(items) or {}).get(tag))]
    for parent, node in pairs:
        for name in node or {}:
            if not name.startswith("@") and name not in LEGACY[parent]:
                raise e.SageFault(e.PARSE, e.SCHEMA, e.SCHEMA_2.format(element=name, parent=parent))


def _legacy_custom(node) -> dict:
    fields = listed(((node or {}).get("customfields") or {}).get("customfield"))
    return {text(f.get("customfieldname")): text(f.get("customfieldvalue")) for f in fields if f}


def create_invoice(ctx: Context, body) -> Reply:
    require_module(ctx, "ARINVOICE", "CREATE")
    check_schema(body, "create_invoice")
    customer_id = required(body, "customerid", "create_invoice")
    check_party(ctx, "CUSTOMER", customer_id)
    created = legacy_date(body.get("datecreated"), "datecreated")
    term = text(body.get("termname"))
    due = legacy_date(body["datedue"], "datedue") if body.get("datedue") else None
    if not term and not due:
        raise e.fault("Missing required element", "Provide <datedue> or <termname>.")
    term_record = check_term(ctx, "ARTERM", term) if term else None
    custom = check_custom_fields(ctx, "ARINVOICE", _legacy_custom(body))
    action = text(body.get("action")) or "Submit"
    if action not in ("Draft", "Submit"):
        raise e.fault("Invalid action", f"action must be Draft or Submit, not '{action}'.")
    if not listed((body.get("invoiceitems") or {}).get("lineitem")):
        raise e.fault("Missing required element", "An invoice needs at least one <lineitem>.")
    doc = new_record(
        ctx.company,
        "ARINVOICE",
        {},
        key=text(body.get("invoiceno")),
        state=DRAFT if action == "Draft" else POSTED,
        entity=ctx.location_id,
        now=ctx.now,
        saved=False,  # saved complete below
    )
    # Sage sets the due date from the term when none is given (DOCS accounts-receivable-
    # invoices.md: datedue "Required if not using termname").
    due = due or term_due(term_record, created)
    doc.data.update(
        {
            "RECORDID": text(body.get("invoiceno")),
            "CUSTOMERID": customer_id,
            "DOCNUMBER": text(body.get("ponumber")),
            "DESCRIPTION": text(body.get("description")),
            "TERMNAME": term,
            "WHENCREATED": us_date(created),
            "WHENDUE": us_date(due),
            "WHENPOSTED": us_date(created) if action != "Draft" else "",
            "WHENPAID": "",
            "CURRENCY": text(body.get("currency")) or "USD",
            "TOTALPAID": "0.00",
            **custom,
            "ITEMS": _legacy_lines(ctx, body, doc.pk),
        }
    )
    totals(doc)
    save(doc, ctx.now)
    return Reply(key=str(doc.pk))


def _invoice(ctx: Context, body, operation: str) -> tuple[str, SandboxRecord]:
    """(key, invoice) for a function naming an invoice by `@key`, once the user may `operation`."""
    require_module(ctx, "ARINVOICE", operation)
    key = body.get("@key", "")
    return key, find_document(ctx, "ARINVOICE", key, "Invoice")


def update_invoice(ctx: Context, body) -> Reply:
    key, doc = _invoice(ctx, body, "UPDATE")
    check_schema(body, "update_invoice")
    if doc.state not in EDITABLE_INVOICE_STATES or Decimal(doc.data["TOTALPAID"]) > 0:
        raise e.fault(
            "Cannot update invoice",
            f"Invoice {key} is {doc.state}; only Draft or unpaid Posted invoices can be updated.",
            "Reverse the payments or the invoice first.",
        )
    for tag, name in (
        ("termname", "TERMNAME"),
        ("ponumber", "DOCNUMBER"),
        ("description", "DESCRIPTION"),
    ):
        if body.get(tag) is not None:
            doc.data[name] = text(body.get(tag))
    if body.get("termname"):
        check_term(ctx, "ARTERM", doc.data["TERMNAME"])
    if body.get("datedue"):
        doc.data["WHENDUE"] = us_date(legacy_date(body["datedue"], "datedue"))
    if text(body.get("action")) == "Submit" and doc.state == DRAFT:
        doc.state = POSTED
        doc.data["WHENPOSTED"] = us_date(ctx.now.date())
    custom = _legacy_custom(body)
    if custom:
        merged = {
            c.field_id: doc.data.get(c.field_id, "") for c in custom_fields(ctx, "ARINVOICE")
        } | custom
        doc.data.update(
            check_custom_fields(ctx, "ARINVOICE", {k: v for k, v in merged.items() if v})
        )
    items = body.get("updateinvoiceitems") or {}
    lines = list(doc.data.get("ITEMS", []))
    for raw in listed(items.get("updatelineitem")):
        number = int(raw.get("@line_num", "0") or 0)
        if not 1 <= number <= len(lines):
            raise e.fault("Invalid line", f"Invoice {key} has no line {number}.")
        # an updatelineitem changes what it names and keeps the rest (DOCS accounts-
        # receivable-invoices.md "Update Invoice (Legacy)" sends only a line's memo)
        lines[number - 1] = _legacy_line(ctx, _as_legacy(lines[number - 1]) | raw, doc.pk, number)
    for raw in listed(items.get("lineitem")):
        lines.append(_legacy_line(ctx, raw, doc.pk, len(lines) + 1))
    doc.data["ITEMS"] = lines
    totals(doc)
    save(doc, ctx.now)
    return Reply(key=str(doc.pk))


def delete_invoice(ctx: Context, body) -> Reply:
    key, doc = _invoice(ctx, body, "DELETE")
    check_deletable(doc, "Invoice", key)
    doc.delete()
    return Reply()
