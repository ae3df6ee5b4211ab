"""The sandbox's functions: what Sage does with each function of a request.

Each handler takes the request context and the function's body (as parsed by xmltodict) and
returns a `Reply` (records for `<data>`, or a legacy `<key>`), or raises SageFault.
"""

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from . import errors as e
from .catalog import (
    AP_PAYMENT_METHODS,
    AR_PAYMENT_METHODS,
    DIMENSION_LABELS,
    DIMENSIONS,
    OBJECTS,
)
from .models import (
    SandboxCompany,
    SandboxCustomField,
    SandboxRecord,
    SandboxResultSet,
    SandboxSession,
    SandboxUser,
)
from .query import parse_filter, parse_query

CENT = Decimal("0.01")
SESSION_MINUTES = 30
DRAFT, POSTED, PARTIALLY_PAID, PAID = "Draft", "Posted", "Partially Paid", "Paid"
SELECTED, REVERSED, REVERSAL = "Selected", "Reversed", "Reversal"
VOIDED, COMPLETED = "V", "C"
EDITABLE_INVOICE_STATES = (DRAFT, POSTED)


@dataclass
class Context:
    company: SandboxCompany
    user: SandboxUser
    sender_id: str
    location_id: str  # "" = top level
    now: dt.datetime
    endpoint_url: str


@dataclass
class Reply:
    records: list[dict] = field(default_factory=list)
    listtype: str | None = None
    key: str | None = None
    attrs: dict = field(default_factory=dict)


# --- values -----------------------------------------------------------------------------------


def money(value, what: str) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError):
        raise e.fault("Invalid amount", f"'{value}' is not a valid amount for {what}.") from None


def us_date(value: dt.date) -> str:
    return value.strftime("%m/%d/%Y")


def timestamp(value: dt.datetime) -> str:
    return value.strftime("%m/%d/%Y %H:%M:%S")


def parse_us_date(text, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(str(text).strip(), "%m/%d/%Y").date()
    except (ValueError, TypeError):
        raise e.fault(
            "Invalid date", f"'{text}' is not a valid date for {what} (mm/dd/yyyy)."
        ) from None


def legacy_date(node, what: str) -> dt.date:
    try:
        return dt.date(int(node["year"]), int(node["month"]), int(node["day"]))
    except (KeyError, TypeError, ValueError):
        raise e.fault("Invalid date", f"{what} needs <year>, <month> and <day>.") from None


def listed(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return value.get("#text", "") or ""
    return str(value)


def required(body: dict, name: str, function: str) -> str:
    value = text(body.get(name)) if isinstance(body, dict) else ""
    if not value:
        raise e.fault(
            "Missing required element", f"<{name}> is required in <{function}>.", f"Add <{name}>."
        )
    return value


# --- records ----------------------------------------------------------------------------------


def visible(ctx: Context, object: str, *, show_private: bool = False):
    records = SandboxRecord.objects.filter(company=ctx.company, object=object)
    if ctx.location_id:
        records = records.filter(entity__in=["", ctx.location_id])
    elif not show_private:
        records = records.filter(entity="")
    return records


def find(ctx: Context, object: str, key: str) -> SandboxRecord | None:
    return visible(ctx, object).filter(key=key).first()


def find_by_recordno(ctx: Context, object: str, recordno) -> SandboxRecord | None:
    try:
        pk = int(str(recordno))
    except ValueError:
        return None
    return visible(ctx, object, show_private=True).filter(pk=pk).first()


def new_record(
    company,
    object: str,
    data: dict,
    *,
    key: str = "",
    state: str = "",
    entity: str = "",
    now: dt.datetime,
) -> SandboxRecord:
    record = SandboxRecord.objects.create(
        company=company,
        object=object,
        key=key,
        state=state,
        entity=entity,
        when_modified=now,
        data={},
    )
    record.data = {"RECORDNO": str(record.pk), **data}
    if state:
        record.data["STATE"] = state
    if entity or object in ("ARINVOICE", "APBILL", "ARPYMT", "APPYMT"):
        record.data["MEGAENTITYID"] = entity
    record.data["WHENMODIFIED"] = timestamp(now)
    record.save(update_fields=["data"])
    return record


def save(record: SandboxRecord, now: dt.datetime) -> None:
    record.when_modified = now
    record.data["WHENMODIFIED"] = timestamp(now)
    if record.state:
        record.data["STATE"] = record.state
    record.save()


def line_records(ctx: Context, object: str, *, show_private=False) -> list[dict]:
    """ARINVOICEITEM / APBILLITEM rows, drawn from their documents."""
    parent = "ARINVOICE" if object == "ARINVOICEITEM" else "APBILL"
    rows = []
    for doc in visible(ctx, parent, show_private=show_private).order_by("pk"):
        rows += doc.data.get("ITEMS", [])
    return rows


def all_records(ctx: Context, object: str, *, show_private=False) -> list[dict]:
    if object in ("ARINVOICEITEM", "APBILLITEM"):
        return line_records(ctx, object, show_private=show_private)
    return [r.data for r in visible(ctx, object, show_private=show_private).order_by("pk")]


def select(record: dict, fields: list[str] | None) -> dict:
    if not fields or fields == ["*"]:
        return record
    return {f: record.get(f, "") for f in fields}


def spec_of(object: str):
    spec = OBJECTS.get(object.upper())
    if spec is None:
        raise e.fault(
            "Unknown object",
            f"Object '{object}' is not supported by this company.",
            "Check the object name.",
        )
    return spec


def require_module(ctx: Context, object: str, operation: str) -> None:
    spec = spec_of(object)
    if spec.module not in ctx.user.modules:
        raise e.SageFault(
            e.PERMISSION,
            "Permission denied",
            e.NO_PERMISSION_2.format(op=operation, object=spec.name),
            f"Give the user's role 'All' on the {spec.module} module.",
        )


# --- session ----------------------------------------------------------------------------------


def get_api_session(ctx: Context, body) -> Reply:
    location = ctx.location_id
    if isinstance(body, dict) and "locationid" in body:
        location = text(body.get("locationid"))
    if location and not find(
        Context(ctx.company, ctx.user, ctx.sender_id, "", ctx.now, ctx.endpoint_url),
        "LOCATIONENTITY",
        location,
    ):
        raise e.fault(
            "Invalid entity",
            f"Entity '{location}' does not exist in this company.",
            "Use an entity ID from the company's entity list.",
        )
    session = SandboxSession.objects.create(
        session_id=secrets.token_urlsafe(24) + "..",
        user=ctx.user,
        location_id=location,
        expires_at=ctx.now + dt.timedelta(minutes=SESSION_MINUTES),
    )
    return Reply(
        records=[
            {"sessionid": session.session_id, "endpoint": ctx.endpoint_url, "locationid": location}
        ],
        listtype="api",
    )


# --- reads ------------------------------------------------------------------------------------


def _fields(value) -> list[str] | None:
    names = [f.strip() for f in text(value).split(",") if f.strip()]
    return names or None


def read(ctx: Context, body) -> Reply:
    object = required(body, "object", "read").upper()
    spec_of(object)
    require_module(ctx, object, "READ")
    keys = [k.strip() for k in required(body, "keys", "read").split(",") if k.strip()]
    fields = _fields(body.get("fields"))
    by_no = {r["RECORDNO"]: r for r in all_records(ctx, object, show_private=True)}
    return Reply([select(by_no[k], fields) for k in keys if k in by_no], object)


def read_by_name(ctx: Context, body) -> Reply:
    object = required(body, "object", "readByName").upper()
    spec = spec_of(object)
    require_module(ctx, object, "READ")
    names = [k.strip() for k in required(body, "keys", "readByName").split(",") if k.strip()]
    fields = _fields(body.get("fields"))
    records = {r.get(spec.id_field): r for r in all_records(ctx, object)}
    return Reply([select(records[n], fields) for n in names if n in records], object)


def _page(ctx, object, predicate, fields, page_size, offset, *, show_private=False):
    matching = [r for r in all_records(ctx, object, show_private=show_private) if predicate(r)]
    page = matching[offset : offset + page_size]
    return [select(r, fields) for r in page], len(matching)


def read_by_query(ctx: Context, body) -> Reply:
    object = required(body, "object", "readByQuery").upper()
    spec_of(object)
    require_module(ctx, object, "READ")
    page_size = _page_size(body.get("pagesize"), 1000, default=100)
    query = text(body.get("query"))
    fields = text(body.get("fields")) or "*"
    return _read_page(ctx, object, query, fields, page_size, 0)


def _read_page(ctx, object, query, fields, page_size, offset, result_set=None) -> Reply:
    records, total = _page(ctx, object, parse_query(query), _fields(fields), page_size, offset)
    remaining = max(0, total - offset - len(records))
    result_id = ""
    if remaining:
        if result_set is None:
            result_set = SandboxResultSet(
                result_id=secrets.token_urlsafe(18),
                company=ctx.company,
                location_id=ctx.location_id,
                object=object,
                query=query,
                fields=fields,
                page_size=page_size,
            )
        result_set.offset = offset + len(records)
        result_set.save()
        result_id = result_set.result_id
    elif result_set is not None:
        result_set.delete()
    return Reply(
        records,
        object.lower(),
        attrs={
            "count": len(records),
            "totalcount": total,
            "numremaining": remaining,
            "resultId": result_id,
        },
    )


def read_more(ctx: Context, body) -> Reply:
    result_id = required(body, "resultId", "readMore")
    result_set = SandboxResultSet.objects.filter(result_id=result_id, company=ctx.company).first()
    if result_set is None:
        raise e.fault(
            "Invalid resultId",
            f"Result set '{result_id}' does not exist or has been read to its end.",
            "Run the readByQuery again.",
        )
    return _read_page(
        ctx,
        result_set.object,
        result_set.query,
        result_set.fields,
        result_set.page_size,
        result_set.offset,
        result_set,
    )


def _page_size(value, maximum, *, default) -> int:
    raw = text(value)
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise e.fault("Invalid pagesize", f"pagesize must be between 1 and {maximum}.")
    return int(raw)


def query(ctx: Context, body) -> Reply:
    object = required(body, "object", "query").upper()
    spec_of(object)
    require_module(ctx, object, "READ")
    select_node = body.get("select") or {}
    fields = [text(f) for f in listed(select_node.get("field"))]
    if not fields:
        raise e.fault("Missing required element", "<select> needs at least one <field>.")
    options = body.get("options") or {}
    case_insensitive = text(options.get("caseinsensitive")).lower() == "true"
    show_private = text(options.get("showprivate")).lower() == "true"
    predicate = parse_filter(body.get("filter"), case_insensitive=case_insensitive)
    page_size = _page_size(body.get("pagesize"), 2000, default=100)
    offset_text = text(body.get("offset")) or "0"
    if not offset_text.isdigit():
        raise e.fault("Invalid offset", "offset must be 0 or more.")
    offset = int(offset_text)
    matching = [r for r in all_records(ctx, object, show_private=show_private) if predicate(r)]
    for order in reversed(listed((body.get("orderby") or {}).get("order"))):
        name = text(order.get("field"))
        matching.sort(key=lambda r, n=name: _sort_key(n, r.get(n)), reverse="descending" in order)
    page = matching[offset : offset + page_size]
    remaining = max(0, len(matching) - offset - len(page))
    return Reply(
        [select(r, fields) for r in page],
        object,
        attrs={
            "totalcount": len(matching),
            "offset": offset,
            "count": len(page),
            "numremaining": remaining,
        },
    )


def _sort_key(name, value):
    from .query import _key

    key = _key(name, value, False)
    return (key is None, key if key is not None else "")


def lookup(ctx: Context, body) -> Reply:
    object = required(body, "object", "lookup").upper()
    spec = spec_of(object)
    fields = [
        {
            "ID": name,
            "LABEL": name.title(),
            "DESCRIPTION": "",
            "REQUIRED": str(name in spec.required).lower(),
            "READONLY": "false",
            "DATATYPE": "TEXT",
            "ISCUSTOM": "false",
        }
        for name in spec.fields
    ]
    for custom in _custom_fields(ctx, object):
        fields.append(
            {
                "ID": custom.field_id,
                "LABEL": custom.label,
                "DESCRIPTION": "",
                "REQUIRED": str(custom.required).lower(),
                "READONLY": "false",
                "DATATYPE": custom.datatype.upper(),
                "ISCUSTOM": "true",
            }
        )
    return Reply(
        [{"@Name": object, "Fields": {"Field": fields}}], "All", attrs={"count": 1}, key=None
    )


def inspect(ctx: Context, body) -> Reply:
    object = required(body, "object", "inspect").upper()
    spec = spec_of(object)
    fields = [
        {
            "Name": name,
            "GroupName": "",
            "dataName": "Pt_FieldString",
            "externalDataName": "string",
            "isRequired": str(name in spec.required).lower(),
            "isReadOnly": str(name in ("RECORDNO", "WHENMODIFIED")).lower(),
            "maxLength": str(spec.max_lengths.get(name, "")),
            "DisplayLabel": name.title(),
            "Description": "",
            "isCustom": "false",
        }
        for name in spec.fields
    ]
    for custom in _custom_fields(ctx, object):
        fields.append(
            {
                "Name": custom.field_id,
                "GroupName": "",
                "dataName": "Pt_FieldString" if custom.datatype == "text" else "Pt_FieldDouble",
                "externalDataName": "string" if custom.datatype == "text" else "decimal",
                "isRequired": str(custom.required).lower(),
                "isReadOnly": "false",
                "maxLength": str(custom.max_length or ""),
                "DisplayLabel": custom.label,
                "Description": "",
                "isCustom": "true",
            }
        )
    return Reply([{"@Name": object, "Fields": {"Field": fields}}], "All", attrs={"count": 1})


def _custom_fields(ctx: Context, object: str):
    return SandboxCustomField.objects.filter(company=ctx.company, object=object).order_by("pk")


# --- validation of documents -------------------------------------------------------------------


def check_party(ctx: Context, object: str, party_id: str) -> SandboxRecord:
    record = find(ctx, object, party_id)
    label = "Customer" if object == "CUSTOMER" else "Vendor"
    if record is None or record.data.get("STATUS", "active") != "active":
        raise e.fault(
            f"Invalid {label}",
            f"{label} '{party_id}' does not exist or is inactive.",
            f"Use an active {label.lower()} ID.",
        )
    return record


def check_term(ctx: Context, object: str, term: str) -> None:
    record = find(ctx, object, term)
    if record is None or record.data.get("STATUS", "active") != "active":
        raise e.fault(
            e.TERM_INVALID,
            e.TERM_INVALID_2.format(term=term),
            "Create the term in Sage Intacct or use an existing one.",
        )


def check_account(ctx: Context, account_no: str) -> None:
    record = find(ctx, "GLACCOUNT", account_no)
    if record is None:
        raise e.fault(
            "Invalid GL account",
            f"GL account '{account_no}' does not exist.",
            "Use an account number from the chart of accounts.",
        )
    if record.data.get("STATUS") != "active":
        raise e.fault(
            "Invalid GL account",
            f"GL account '{account_no}' is inactive.",
            "Activate the account in Sage Intacct or map another one.",
        )


def check_dimensions(ctx: Context, line: dict) -> None:
    for name, object in DIMENSIONS.items():
        value = line.get(name)
        if value and find(ctx, object, value) is None:
            raise e.fault(
                f"Invalid {DIMENSION_LABELS[object]}",
                f"Invalid {DIMENSION_LABELS[object]} '{value}' specified.",
                f"Use an existing {DIMENSION_LABELS[object].lower()} ID.",
            )


def check_custom_fields(ctx: Context, object: str, values: dict) -> dict:
    """Validate custom field values for `object`; returns them. Unknown names are refused."""
    definitions = {c.field_id: c for c in _custom_fields(ctx, object)}
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


def _doc_line(ctx, object, index, recordno, account, amount, memo, dims, custom) -> dict:
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


def _totals(doc: SandboxRecord) -> None:
    total = sum((Decimal(line["TRX_AMOUNT"]) for line in doc.data.get("ITEMS", [])), Decimal(0))
    paid = Decimal(doc.data.get("TOTALPAID", "0"))
    doc.data.update(
        {"TOTALENTERED": str(total), "TOTALPAID": str(paid), "TOTALDUE": str(total - paid)}
    )


# --- AR invoices (legacy functions) ------------------------------------------------------------


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
    return _doc_line(
        ctx, "ARINVOICEITEM", index, recordno, account, amount, text(raw.get("memo")), dims, custom
    )


def _legacy_custom(node) -> dict:
    fields = listed(((node or {}).get("customfields") or {}).get("customfield"))
    return {text(f.get("customfieldname")): text(f.get("customfieldvalue")) for f in fields if f}


def create_invoice(ctx: Context, body) -> Reply:
    require_module(ctx, "ARINVOICE", "CREATE")
    customer_id = required(body, "customerid", "create_invoice")
    check_party(ctx, "CUSTOMER", customer_id)
    created = legacy_date(body.get("datecreated"), "datecreated")
    term = text(body.get("termname"))
    due = legacy_date(body["datedue"], "datedue") if body.get("datedue") else None
    if not term and not due:
        raise e.fault("Missing required element", "Provide <datedue> or <termname>.")
    if term:
        check_term(ctx, "ARTERM", term)
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
    )
    due = due or created + dt.timedelta(days=_term_days(term))
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
    _totals(doc)
    save(doc, ctx.now)
    return Reply(key=str(doc.pk))


def _term_days(term: str) -> int:
    digits = "".join(c for c in term if c.isdigit())
    return int(digits) if digits else 30


def _document(ctx, object, key, label) -> SandboxRecord:
    doc = find_by_recordno(ctx, object, key)
    if doc is None:
        raise e.fault(
            f"Invalid {label}",
            f"{label} {key} does not exist.",
            f"Check the {label.lower()} key (RECORDNO).",
        )
    return doc


def update_invoice(ctx: Context, body) -> Reply:
    require_module(ctx, "ARINVOICE", "UPDATE")
    key = body.get("@key", "")
    doc = _document(ctx, "ARINVOICE", key, "Invoice")
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
            c.field_id: doc.data.get(c.field_id, "") for c in _custom_fields(ctx, "ARINVOICE")
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
        lines[number - 1] = _legacy_line(ctx, raw, doc.pk, number)
    for raw in listed(items.get("lineitem")):
        lines.append(_legacy_line(ctx, raw, doc.pk, len(lines) + 1))
    doc.data["ITEMS"] = lines
    _totals(doc)
    save(doc, ctx.now)
    return Reply(key=str(doc.pk))


def reverse_document(ctx: Context, body, object: str) -> Reply:
    label = "Invoice" if object == "ARINVOICE" else "Bill"
    require_module(ctx, object, "REVERSE")
    key = body.get("@key", "")
    doc = _document(ctx, object, key, label)
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
    _totals(reversal)
    save(reversal, ctx.now)
    return Reply(key=str(reversal.pk))


def delete_invoice(ctx: Context, body) -> Reply:
    require_module(ctx, "ARINVOICE", "DELETE")
    key = body.get("@key", "")
    doc = _document(ctx, "ARINVOICE", key, "Invoice")
    _check_deletable(doc, "Invoice", key)
    doc.delete()
    return Reply()


def _check_deletable(doc, label, key):
    if doc.state not in (DRAFT, POSTED) or Decimal(doc.data.get("TOTALPAID", "0")) > 0:
        raise e.fault(
            f"Cannot delete {label.lower()}",
            f"{label} {key} is {doc.state}; only Draft or unpaid Posted "
            f"{label.lower()}s can be deleted.",
            "Reverse it instead.",
        )


# --- generic create / update / delete ---------------------------------------------------------


def _single_object(body, function) -> tuple[str, dict]:
    if not isinstance(body, dict) or len(body) != 1:
        raise e.fault("Invalid request", f"<{function}> holds exactly one object element here.")
    ((object, values),) = body.items()
    if isinstance(values, list):
        raise e.fault("Invalid request", f"Send one {object} per <{function}> function.")
    return object.upper(), values or {}


def create(ctx: Context, body) -> Reply:
    object, values = _single_object(body, "create")
    spec = spec_of(object)
    if not spec.writable:
        raise e.fault("Unsupported operation", f"create is not supported for {object}.")
    require_module(ctx, object, "CREATE")
    handler = {
        "CUSTOMER": _create_party,
        "VENDOR": _create_party,
        "APBILL": _create_bill,
        "ARPYMT": _create_payment,
        "APPYMT": _create_payment,
    }[object]
    record = handler(ctx, object, values)
    created = {"RECORDNO": str(record.pk)}
    if spec.id_field:
        created[spec.id_field] = record.key
    return Reply([created], "objects", attrs={"count": 1, "_record_tag": object.lower()})


def _create_party(ctx, object, values) -> SandboxRecord:
    spec = OBJECTS[object]
    party_id = required(values, spec.id_field, object)
    name = required(values, "NAME", object)
    for field_name, limit in spec.max_lengths.items():
        if len(text(values.get(field_name))) > limit:
            raise e.fault("Value too long", f"{field_name} is longer than {limit} characters.")
    if SandboxRecord.objects.filter(company=ctx.company, object=object, key=party_id).exists():
        raise e.SageFault(
            e.DUPLICATE_ID,
            f"Another {object.title()} with the given value(s) {party_id} already exists",
            "",
            "Use a unique value instead.",
        )
    status = text(values.get("STATUS")) or "active"
    return new_record(
        ctx.company,
        object,
        {
            spec.id_field: party_id,
            "NAME": name,
            "STATUS": status,
            "TERMNAME": text(values.get("TERMNAME")),
        },
        key=party_id,
        now=ctx.now,
    )


def _bill_lines(ctx, values, recordno) -> list[dict]:
    raw_lines = listed((values.get("APBILLITEMS") or {}).get("APBILLITEM"))
    if not raw_lines:
        raise e.fault("Missing required element", "A bill needs at least one <APBILLITEM>.")
    custom_ids = {c.field_id for c in _custom_fields(ctx, "APBILLITEM")}
    lines = []
    for index, raw in enumerate(raw_lines, start=1):
        raw = raw or {}
        account = text(raw.get("ACCOUNTNO")) or text(raw.get("ACCOUNTLABEL"))
        if not account:
            raise e.fault("Missing required element", f"Line {index} needs <ACCOUNTNO>.")
        amount = money(required(raw, "TRX_AMOUNT", "APBILLITEM"), f"line {index}")
        dims = {name: text(raw.get(name)) for name in DIMENSIONS if text(raw.get(name))}
        custom = {name: text(raw.get(name)) for name in custom_ids if raw.get(name) is not None}
        unknown = (
            set(raw)
            - custom_ids
            - set(DIMENSIONS)
            - set(OBJECTS["APBILLITEM"].fields)
            - {"ACCOUNTLABEL", "ALLOCATION", "BILLABLE", "TAXENTRIES", "GLDIMVEHICLE"}
        )
        if unknown:
            raise e.fault(
                "Invalid field", f"Unknown APBILLITEM field(s): {', '.join(sorted(unknown))}."
            )
        lines.append(
            _doc_line(
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
    custom_ids = {c.field_id for c in _custom_fields(ctx, "APBILL")}
    existing = {k: v for k, v in (doc.data.items() if doc else []) if k in custom_ids}
    custom = existing | {k: text(values.get(k)) for k in custom_ids if values.get(k) is not None}
    header.update(check_custom_fields(ctx, "APBILL", {k: v for k, v in custom.items() if v}))
    return header


def _create_bill(ctx, object, values) -> SandboxRecord:
    action = text(values.get("ACTION")) or "Submit"
    header = _bill_header(ctx, values)
    if action != "Draft":
        for name in ("WHENCREATED",):
            if name not in header:
                raise e.fault("Missing required element", f"<{name}> is required in APBILL.")
        if "WHENDUE" not in header and "TERMNAME" not in header:
            raise e.fault("Missing required element", "Provide <WHENDUE> or <TERMNAME>.")
    doc = new_record(
        ctx.company,
        "APBILL",
        {},
        key=header.get("RECORDID", ""),
        state=DRAFT if action == "Draft" else POSTED,
        entity=ctx.location_id,
        now=ctx.now,
    )
    created = parse_us_date(header.get("WHENCREATED") or us_date(ctx.now.date()), "WHENCREATED")
    header.setdefault(
        "WHENDUE", us_date(created + dt.timedelta(days=_term_days(header.get("TERMNAME", ""))))
    )
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
    _totals(doc)
    save(doc, ctx.now)
    return doc


def update(ctx: Context, body) -> Reply:
    object, values = _single_object(body, "update")
    spec = spec_of(object)
    if not spec.writable or object in ("ARPYMT", "APPYMT"):
        raise e.fault("Unsupported operation", f"update is not supported for {object}.")
    require_module(ctx, object, "UPDATE")
    recordno = text(values.get("RECORDNO"))
    record = (
        find_by_recordno(ctx, object, recordno)
        if recordno
        else find(ctx, object, text(values.get(spec.id_field)))
    )
    if record is None:
        raise e.fault(
            f"Invalid {object.title()}",
            f"{object} {recordno or values.get(spec.id_field)} does not exist.",
        )
    if object == "APBILL":
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
        _totals(record)
    else:
        for name in ("NAME", "STATUS", "TERMNAME"):
            if values.get(name) is not None:
                record.data[name] = text(values.get(name))
    save(record, ctx.now)
    return Reply(
        [{"RECORDNO": str(record.pk)}], "objects", attrs={"count": 1, "_record_tag": object.lower()}
    )


def delete(ctx: Context, body) -> Reply:
    object = required(body, "object", "delete").upper()
    spec_of(object)
    require_module(ctx, object, "DELETE")
    for key in [k.strip() for k in required(body, "keys", "delete").split(",") if k.strip()]:
        record = find_by_recordno(ctx, object, key)
        if record is None:
            raise e.fault(f"Invalid {object.title()}", f"{object} {key} does not exist.")
        if object == "APBILL":
            _check_deletable(record, "Bill", key)
        elif object in ("CUSTOMER", "VENDOR"):
            field_name = OBJECTS[object].id_field
            documents = SandboxRecord.objects.filter(
                company=ctx.company, object__in=["ARINVOICE", "APBILL", "ARPYMT", "APPYMT"]
            )
            if any(doc.data.get(field_name) == record.key for doc in documents):
                raise e.fault("Cannot delete", f"{object.title()} {record.key} has transactions.")
        else:
            raise e.fault("Unsupported operation", f"delete is not supported for {object}.")
        record.delete()
    return Reply()


# --- payments ---------------------------------------------------------------------------------


def _create_payment(ctx, object, values) -> SandboxRecord:
    ar = object == "ARPYMT"
    party_object, party_field = ("CUSTOMER", "CUSTOMERID") if ar else ("VENDOR", "VENDORID")
    party_id = required(values, party_field, object)
    check_party(ctx, party_object, party_id)
    method = required(values, "PAYMENTMETHOD", object)
    methods = AR_PAYMENT_METHODS if ar else AP_PAYMENT_METHODS
    if method not in methods:
        raise e.fault(
            "Invalid payment method",
            f"'{method}' is not a payment method for {object}.",
            f"Use one of: {', '.join(methods)}.",
        )
    detail_tag = f"{object}DETAIL"
    raw_details = listed((values.get(f"{detail_tag}S") or {}).get(detail_tag))
    if not raw_details:
        raise e.fault("Missing required element", f"A payment needs at least one <{detail_tag}>.")
    date_text = text(values.get("PAYMENTDATE")) or text(values.get("RECEIPTDATE"))
    paid_on = parse_us_date(date_text, "PAYMENTDATE") if date_text else ctx.now.date()
    return payment_apply(
        ctx.company,
        object,
        party_id=party_id,
        method=method,
        paid_on=paid_on,
        details=[
            (
                required(raw or {}, "RECORDKEY", detail_tag),
                money(required(raw or {}, "TRX_PAYMENTAMOUNT", detail_tag), detail_tag),
            )
            for raw in raw_details
        ],
        docnumber=text(values.get("DOCNUMBER")),
        description=text(values.get("DESCRIPTION")),
        financial_entity=text(values.get("FINANCIALENTITY")),
        entity=ctx.location_id,
        now=ctx.now,
    )


def payment_apply(
    company,
    object,
    *,
    party_id,
    method,
    paid_on,
    details,
    docnumber="",
    description="",
    financial_entity="",
    entity="",
    now,
) -> SandboxRecord:
    """Record a payment and apply its details to invoices (ARPYMT) or bills (APPYMT)."""
    doc_object = "ARINVOICE" if object == "ARPYMT" else "APBILL"
    party_field = "CUSTOMERID" if object == "ARPYMT" else "VENDORID"
    documents = []
    for recordkey, amount in details:
        doc = (
            SandboxRecord.objects.select_for_update()
            .filter(
                company=company,
                object=doc_object,
                pk=int(recordkey) if str(recordkey).isdigit() else -1,
            )
            .first()
        )
        if doc is None:
            raise e.fault("Invalid document", f"{doc_object} {recordkey} does not exist.")
        if doc.data.get(party_field) != party_id:
            raise e.fault(
                "Invalid document", f"{doc_object} {recordkey} does not belong to {party_id}."
            )
        if doc.state not in (POSTED, PARTIALLY_PAID, SELECTED):
            raise e.fault(
                "Invalid document",
                f"{doc_object} {recordkey} is {doc.state}; only posted documents can be paid.",
            )
        if amount <= 0 or amount > Decimal(doc.data["TOTALDUE"]):
            raise e.fault(
                "Invalid amount",
                f"{amount} is more than the {doc.data['TOTALDUE']} "
                f"due on {doc_object} {recordkey}, or not positive.",
            )
        documents.append((doc, amount))
    total = sum((amount for _, amount in details), Decimal(0))
    payment = new_record(
        company,
        object,
        {
            party_field: party_id,
            "PAYMENTMETHOD": method,
            "DOCNUMBER": docnumber,
            "DESCRIPTION": description,
            "FINANCIALENTITY": financial_entity,
            "WHENCREATED": us_date(paid_on),
            "RECEIPTDATE": us_date(paid_on),
            "WHENPAID": us_date(paid_on),
            "CURRENCY": "USD",
            "TOTALENTERED": str(total),
            "TOTALPAID": str(total),
            "TRX_TOTALPAID": str(total),
            "RAWSTATE": COMPLETED,
            "PARENTPAYMENTKEY": "",
        },
        state=COMPLETED,
        entity=entity,
        now=now,
    )
    for doc, amount in documents:
        new_record(
            company,
            f"{object}DETAIL",
            {
                "RECORDKEY": str(doc.pk),
                "PAYMENTKEY": str(payment.pk),
                "PAYMENTDATE": us_date(paid_on),
                "PAYMENTAMOUNT": str(amount),
                "TRX_PAYMENTAMOUNT": str(amount),
                "CURRENCY": "USD",
                "WHENCREATED": us_date(paid_on),
            },
            state=COMPLETED,
            entity=entity,
            now=now,
        )
        doc.data["TOTALPAID"] = str(Decimal(doc.data["TOTALPAID"]) + amount)
        doc.data["TOTALDUE"] = str(Decimal(doc.data["TOTALDUE"]) - amount)
        doc.data["WHENPAID"] = us_date(paid_on)
        doc.data.pop("SELECTED", None)
        refresh_state(doc)
        save(doc, now)
    return payment


def payment_void(payment: SandboxRecord, *, now) -> None:
    """Void a payment: its details too, and the documents get their amounts back."""
    if payment.state == VOIDED:
        return
    doc_object = "ARINVOICE" if payment.object == "ARPYMT" else "APBILL"
    details = SandboxRecord.objects.filter(
        company=payment.company, object=f"{payment.object}DETAIL", data__PAYMENTKEY=str(payment.pk)
    )
    for detail in details:
        amount = Decimal(detail.data["TRX_PAYMENTAMOUNT"])
        doc = SandboxRecord.objects.filter(
            pk=int(detail.data["RECORDKEY"]), object=doc_object
        ).first()
        if doc is not None:
            doc.data["TOTALPAID"] = str(Decimal(doc.data["TOTALPAID"]) - amount)
            doc.data["TOTALDUE"] = str(Decimal(doc.data["TOTALDUE"]) + amount)
            if Decimal(doc.data["TOTALPAID"]) <= 0:
                doc.data["WHENPAID"] = ""
            refresh_state(doc)
            save(doc, now)
        detail.state = VOIDED
        save(detail, now)
    payment.state = VOIDED
    payment.data["RAWSTATE"] = VOIDED
    save(payment, now)


HANDLERS = {
    "getAPISession": get_api_session,
    "read": read,
    "readByName": read_by_name,
    "readByQuery": read_by_query,
    "readMore": read_more,
    "query": query,
    "lookup": lookup,
    "inspect": inspect,
    "create": create,
    "update": update,
    "delete": delete,
    "create_invoice": create_invoice,
    "update_invoice": update_invoice,
    "reverse_invoice": lambda ctx, body: reverse_document(ctx, body, "ARINVOICE"),
    "reverse_bill": lambda ctx, body: reverse_document(ctx, body, "APBILL"),
    "delete_invoice": delete_invoice,
}
WRITES = {
    "create",
    "update",
    "delete",
    "create_invoice",
    "update_invoice",
    "reverse_invoice",
    "reverse_bill",
    "delete_invoice",
}


def session_touch(session: SandboxSession, now: dt.datetime) -> None:
    SandboxSession.objects.filter(pk=session.pk).update(
        expires_at=now + dt.timedelta(minutes=SESSION_MINUTES)
    )
