"""Builders for every Sage Intacct function the product uses.

Each returns a `Function`: its controlid, the element that goes inside `<function>`, and whether
it writes. Writes need a caller-supplied stable controlid (idempotency: with uniqueid=true Sage
refuses to apply the same controlid twice); reads get a fresh one.
"""

import datetime as dt
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .wire import amount, element, legacy_date

MAX_READ_KEYS = 100  # Sage's SDKs cap read keys at 100 per call
MAX_QUERY_PAGE = 2000
MAX_READ_BY_QUERY_PAGE = 1000


@dataclass(frozen=True)
class Function:
    controlid: str
    name: str
    body: ET.Element = field(repr=False)
    is_write: bool = False


def _read_controlid(controlid: str | None) -> str:
    return controlid or f"read-{uuid.uuid4()}"


def unique_controlid(prefix: str) -> str:
    """A write's controlid that no other caller, copy or installation hands out: `prefix` to
    make it readable in logs, then 64 random bits (Sage: "To assure transaction idempotence,
    use unique values such as GUIDs", developer.intacct.com/web-services/requests). The caller
    keeps it for every resend of that write."""
    return f"{prefix}-{secrets.token_hex(8)}"


def _write_controlid(controlid: str) -> str:
    if not controlid or not str(controlid).strip():
        raise ValueError("Writes need a stable controlid (e.g. 'invoice-L-10001-v1').")
    if len(controlid) > 256:
        raise ValueError("A function controlid is at most 256 characters.")
    return controlid


# --- session ---------------------------------------------------------------------------------


def get_api_session(*, location_id: str | None = None, controlid: str | None = None) -> Function:
    """`location_id`: an entity ID, '' for the top level, None for the login's own level."""
    body = element(
        "getAPISession", {"locationid": location_id} if location_id is not None else None
    )
    return Function(_read_controlid(controlid), "getAPISession", body)


# --- reads -----------------------------------------------------------------------------------


def read(
    object: str, keys: Sequence, *, fields: str | Sequence[str] = "*", controlid: str | None = None
) -> Function:
    keys = [str(k) for k in keys]
    if not keys or len(keys) > MAX_READ_KEYS:
        raise ValueError(f"read takes 1 to {MAX_READ_KEYS} keys, got {len(keys)}.")
    body = element(
        "read",
        {
            "object": object,
            "keys": ",".join(keys),
            "fields": _fields(fields),
            "returnFormat": "xml",
        },
    )
    return Function(_read_controlid(controlid), "read", body)


def read_by_name(
    object: str,
    names: Sequence[str],
    *,
    fields: str | Sequence[str] = "*",
    controlid: str | None = None,
) -> Function:
    body = element(
        "readByName",
        {
            "object": object,
            "keys": ",".join(names),
            "fields": _fields(fields),
            "returnFormat": "xml",
        },
    )
    return Function(_read_controlid(controlid), "readByName", body)


def read_by_query(
    object: str,
    query: str = "",
    *,
    fields: str | Sequence[str] = "*",
    page_size: int = MAX_READ_BY_QUERY_PAGE,
    controlid: str | None = None,
) -> Function:
    if not 1 <= page_size <= MAX_READ_BY_QUERY_PAGE:
        raise ValueError(f"readByQuery page size is 1 to {MAX_READ_BY_QUERY_PAGE}.")
    body = element(
        "readByQuery",
        {  # the official SDKs' order (PHP test/Intacct/Functions/Common/ReadByQueryTest.php)
            "object": object,
            "query": query,
            "fields": _fields(fields),
            "pagesize": page_size,
            "returnFormat": "xml",
        },
    )
    return Function(_read_controlid(controlid), "readByQuery", body)


def read_more(result_id: str, *, controlid: str | None = None) -> Function:
    return Function(
        _read_controlid(controlid), "readMore", element("readMore", {"resultId": result_id})
    )


def query_escape(value: str) -> str:
    """A string literal for readByQuery's query language: quotes escaped with a backslash."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


class Q:
    """Filters for `query`: Q.equalto("STATE", "Posted"), Q.and_(...), Q.in_("RECORDNO", [..])."""

    @staticmethod
    def _compare(op: str, field_name: str, value) -> ET.Element:
        return element(op, {"field": field_name, "value": value})

    @classmethod
    def equalto(cls, f, v):
        return cls._compare("equalto", f, v)

    @classmethod
    def notequalto(cls, f, v):
        return cls._compare("notequalto", f, v)

    @classmethod
    def greaterthan(cls, f, v):
        return cls._compare("greaterthan", f, v)

    @classmethod
    def greaterthanorequalto(cls, f, v):
        return cls._compare("greaterthanorequalto", f, v)

    @classmethod
    def lessthan(cls, f, v):
        return cls._compare("lessthan", f, v)

    @classmethod
    def lessthanorequalto(cls, f, v):
        return cls._compare("lessthanorequalto", f, v)

    @classmethod
    def like(cls, f, v):
        return cls._compare("like", f, v)

    @staticmethod
    def in_(field_name: str, values: Iterable) -> ET.Element:
        values = list(values)
        if not values:
            raise ValueError("An 'in' filter needs at least one value.")
        return element("in", {"field": field_name, "value": values})

    @staticmethod
    def isnull(field_name: str) -> ET.Element:
        return element("isnull", {"field": field_name})

    @staticmethod
    def and_(*filters: ET.Element) -> ET.Element:
        return filters[0] if len(filters) == 1 else element("and", list(filters))

    @staticmethod
    def or_(*filters: ET.Element) -> ET.Element:
        return filters[0] if len(filters) == 1 else element("or", list(filters))


def query(
    object: str,
    fields: Sequence[str],
    *,
    filter: ET.Element | None = None,
    orderby: Sequence[str | tuple[str, bool]] = (),
    page_size: int = MAX_QUERY_PAGE,
    offset: int = 0,
    case_insensitive: bool = False,
    show_private: bool = False,
    controlid: str | None = None,
) -> Function:
    """The `query` function. `orderby` items are field names or (field, ascending)."""
    if not 1 <= page_size <= MAX_QUERY_PAGE:
        raise ValueError(f"query page size is 1 to {MAX_QUERY_PAGE}.")
    orders = []
    for item in orderby:
        name, ascending = (item, True) if isinstance(item, str) else item
        orders.append(
            element(
                "order",
                [element("field", name), element("ascending" if ascending else "descending")],
            )
        )
    options = {}
    if case_insensitive:
        options["caseinsensitive"] = True
    if show_private:
        options["showprivate"] = True
    body = element(
        "query",
        [
            element("object", object),
            element("select", {"field": list(fields)}),
            element("filter", filter) if filter is not None else None,
            element("orderby", orders) if orders else None,
            element("options", options) if options else None,
            element("pagesize", page_size),
            element("offset", offset),
        ],
    )
    return Function(_read_controlid(controlid), "query", body)


def lookup(object: str, *, controlid: str | None = None) -> Function:
    return Function(_read_controlid(controlid), "lookup", element("lookup", {"object": object}))


def inspect(object: str, *, controlid: str | None = None) -> Function:
    return Function(
        _read_controlid(controlid), "inspect", element("inspect", {"object": object}, detail="1")
    )


def _fields(fields: str | Sequence[str]) -> str:
    return fields if isinstance(fields, str) else ",".join(fields)


# --- generic writes --------------------------------------------------------------------------


def create(object: str, values: Mapping, *, controlid: str) -> Function:
    """Generic create, e.g. create("APBILL", {"VENDORID": ..., "APBILLITEMS": {...}})."""
    return Function(
        _write_controlid(controlid),
        "create",
        element("create", element(object, dict(values))),
        is_write=True,
    )


def update(object: str, values: Mapping, *, controlid: str) -> Function:
    """Generic update; `values` must carry the RECORDNO (or the object's ID field)."""
    return Function(
        _write_controlid(controlid),
        "update",
        element("update", element(object, dict(values))),
        is_write=True,
    )


def delete(object: str, keys: Sequence, *, controlid: str) -> Function:
    body = element("delete", {"object": object, "keys": ",".join(str(k) for k in keys)})
    return Function(_write_controlid(controlid), "delete", body, is_write=True)


# --- legacy AR invoice and AP bill functions -------------------------------------------------

# Line dimensions in the schema's order (projectid/taskid sit before customerid), which is also
# the order DOCS accounts-payable-bills.md lists a bill line's (APBILLITEM).
_LINE_HEAD = ("memo", "locationid", "departmentid")
_LINE_TAIL = (
    "customerid",
    "vendorid",
    "employeeid",
    "itemid",
    "classid",
    "contractid",
    "warehouseid",
)
LINE_DIMENSIONS = (*_LINE_HEAD[1:], "projectid", "taskid", *_LINE_TAIL)


@dataclass(frozen=True)
class InvoiceLine:
    """One legacy invoice line. Dimensions are Sage IDs; custom fields map ID -> value."""

    amount: Decimal
    glaccountno: str
    memo: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)  # e.g. {"locationid": "DAL"}
    custom_fields: Mapping[str, str] = field(default_factory=dict)

    def element(self, tag: str = "lineitem", **attrs) -> ET.Element:
        dims = {k.lower(): v for k, v in self.dimensions.items() if v not in (None, "")}
        unknown = set(dims) - set(_LINE_HEAD) - set(_LINE_TAIL) - {"projectid", "taskid"}
        if unknown:
            raise ValueError(f"Unknown line dimension(s): {', '.join(sorted(unknown))}.")
        if "taskid" in dims and "projectid" not in dims:
            raise ValueError("A task dimension needs a project dimension on the same line.")
        parts = [element("glaccountno", self.glaccountno), element("amount", amount(self.amount))]
        if self.memo:
            parts.append(element("memo", self.memo))
        parts += [element(k, dims[k]) for k in ("locationid", "departmentid") if k in dims]
        if self.custom_fields:
            parts.append(custom_fields_element(self.custom_fields))
        parts += [element(k, dims[k]) for k in ("projectid", "taskid") if k in dims]
        parts += [element(k, dims[k]) for k in _LINE_TAIL if k in dims]
        return element(tag, parts, **attrs)


def custom_fields_element(values: Mapping[str, str]) -> ET.Element:
    return element(
        "customfields",
        [
            element("customfield", {"customfieldname": name, "customfieldvalue": value})
            for name, value in values.items()
        ],
    )


def _invoice_header(
    *,
    customer_id=None,
    date_created=None,
    date_due=None,
    term_name=None,
    action=None,
    invoice_no=None,
    po_number=None,
    description=None,
    currency=None,
    custom_fields=None,
) -> list:
    parts = [
        element("customerid", customer_id) if customer_id else None,
        legacy_date("datecreated", date_created) if date_created else None,
        legacy_date("datedue", date_due) if date_due else None,
        element("termname", term_name) if term_name else None,
        element("action", action) if action else None,
        element("invoiceno", invoice_no) if invoice_no else None,
        element("ponumber", po_number) if po_number else None,
        element("description", description) if description else None,
    ]
    return parts


def create_invoice(
    *,
    controlid: str,
    customer_id: str,
    date_created: dt.date,
    lines: Sequence[InvoiceLine],
    date_due: dt.date | None = None,
    term_name: str | None = None,
    action: str | None = None,
    invoice_no: str | None = None,
    po_number: str | None = None,
    description: str | None = None,
    currency: str | None = None,
    custom_fields: Mapping[str, str] | None = None,
) -> Function:
    """Legacy create_invoice (Sage has no generic ARINVOICE create). Needs a due date or term."""
    if not lines:
        raise ValueError("An invoice needs at least one line.")
    if not date_due and not term_name:
        raise ValueError("An invoice needs a due date or a payment term.")
    parts = _invoice_header(
        customer_id=customer_id,
        date_created=date_created,
        date_due=date_due,
        term_name=term_name,
        action=action,
        invoice_no=invoice_no,
        po_number=po_number,
        description=description,
    )
    if currency:
        parts += [element("currency", currency), element("exchratetype")]
    if custom_fields:
        parts.append(custom_fields_element(custom_fields))
    parts.append(element("invoiceitems", [line.element() for line in lines]))
    return Function(
        _write_controlid(controlid),
        "create_invoice",
        element("create_invoice", parts),
        is_write=True,
    )


def update_invoice(
    *,
    controlid: str,
    key: str,
    date_due: dt.date | None = None,
    term_name: str | None = None,
    action: str | None = None,
    po_number: str | None = None,
    description: str | None = None,
    custom_fields: Mapping[str, str] | None = None,
    update_lines: Mapping[int, InvoiceLine] | None = None,
    new_lines: Sequence[InvoiceLine] = (),
) -> Function:
    """Legacy update_invoice of a Draft invoice: header fields, lines by line number, new lines."""
    parts = _invoice_header(
        date_due=date_due,
        term_name=term_name,
        action=action,
        po_number=po_number,
        description=description,
    )
    if custom_fields:
        parts.append(custom_fields_element(custom_fields))
    items = [
        line.element("updatelineitem", line_num=str(num))
        for num, line in (update_lines or {}).items()
    ]
    items += [line.element() for line in new_lines]
    if items:
        parts.append(element("updateinvoiceitems", items))
    return Function(
        _write_controlid(controlid),
        "update_invoice",
        element("update_invoice", parts, key=key),
        is_write=True,
    )


def reverse_invoice(
    *, controlid: str, key: str, date_reversed: dt.date, description: str | None = None
) -> Function:
    return _reverse("reverse_invoice", controlid, key, date_reversed, description)


def reverse_bill(
    *, controlid: str, key: str, date_reversed: dt.date, description: str | None = None
) -> Function:
    return _reverse("reverse_bill", controlid, key, date_reversed, description)


def _reverse(name, controlid, key, date_reversed, description) -> Function:
    parts = [
        legacy_date("datereversed", date_reversed),
        element("description", description) if description else None,
    ]
    return Function(_write_controlid(controlid), name, element(name, parts, key=key), is_write=True)


def delete_invoice(*, controlid: str, key: str) -> Function:
    return Function(
        _write_controlid(controlid),
        "delete_invoice",
        element("delete_invoice", key=key),
        is_write=True,
    )
