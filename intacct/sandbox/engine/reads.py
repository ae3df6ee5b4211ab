"""The generic reads: read, readByName, readByQuery, readMore and query."""

import secrets

from .. import errors as e
from ..fields import READ
from ..models import SandboxResultSet
from ..query import _key, parse_filter, parse_query
from .context import Context, Reply
from .records import all_records, custom_fields, require_module, select, spec_of
from .values import listed, required, text


def _fields(value) -> list[str] | None:
    names = [f.strip() for f in text(value).split(",") if f.strip()]
    return names or None


def check_readable(ctx: Context, object: str, names) -> None:
    """Refuse, as Sage does, a field `object` does not have (its declared fields and the
    company's custom fields on it)."""
    names = [n for n in dict.fromkeys(names or []) if n and n != "*"]
    if not names:
        return
    known = READ[object] | {c.field_id for c in custom_fields(ctx, object)}
    unknown = [n for n in names if n.upper() not in known]
    if unknown:
        raise e.SageFault(
            e.NOT_QUERYABLE,
            "",
            e.NOT_QUERYABLE_2.format(object=object.lower(), fields=", ".join(unknown)),
        )


def legacy_value(record: dict, field: str):
    """A field as readByQuery compares it: STATE as its code (RAWSTATE) and STATUS as T or F
    (DOCS queries.md: `STATE='A'` on APBILL, `STATUS = 'F'` on VENDOR)."""
    if field == "STATE" and record.get("RAWSTATE"):
        return record["RAWSTATE"]
    if field == "STATUS" and record.get("STATUS") in ("active", "inactive"):
        return "T" if record["STATUS"] == "active" else "F"
    return record.get(field)


def read(ctx: Context, body) -> Reply:
    object = required(body, "object", "read").upper()
    spec_of(object)
    require_module(ctx, object, "READ")
    keys = [k.strip() for k in required(body, "keys", "read").split(",") if k.strip()]
    fields = _fields(body.get("fields"))
    check_readable(ctx, object, fields)
    by_no = {r["RECORDNO"]: r for r in all_records(ctx, object, show_private=True)}
    return Reply([select(by_no[k], fields) for k in keys if k in by_no], object)


def read_by_name(ctx: Context, body) -> Reply:
    object = required(body, "object", "readByName").upper()
    spec = spec_of(object)
    require_module(ctx, object, "READ")
    names = [k.strip() for k in required(body, "keys", "readByName").split(",") if k.strip()]
    fields = _fields(body.get("fields"))
    check_readable(ctx, object, fields)
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
    used: list[str] = []
    parse_query(query, fields=used)
    check_readable(ctx, object, [*(_fields(fields) or []), *used])
    return _read_page(ctx, object, query, fields, page_size, 0)


def _read_page(ctx, object, query, fields, page_size, offset, result_set=None) -> Reply:
    predicate = parse_query(query, get=legacy_value)
    records, total = _page(ctx, object, predicate, _fields(fields), page_size, offset)
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
    used: list[str] = []
    predicate = parse_filter(body.get("filter"), case_insensitive=case_insensitive, fields=used)
    orders = listed((body.get("orderby") or {}).get("order"))
    check_readable(ctx, object, [*fields, *used, *(text(o.get("field")) for o in orders)])
    page_size = _page_size(body.get("pagesize"), 2000, default=100)
    offset_text = text(body.get("offset")) or "0"
    if not offset_text.isdigit():
        raise e.fault("Invalid offset", "offset must be 0 or more.")
    offset = int(offset_text)
    matching = [r for r in all_records(ctx, object, show_private=show_private) if predicate(r)]
    for order in reversed(orders):
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
    key = _key(name, value, False)
    return (key is None, key if key is not None else "")
