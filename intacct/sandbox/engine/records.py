"""The records a request sees: finding, storing, selecting; specs, permissions, custom fields."""

import datetime as dt

from .. import errors as e
from ..catalog import DIMENSIONS, OBJECTS
from ..models import SandboxCustomField, SandboxRecord
from .context import Context
from .values import timestamp

# readByQuery filters documents on STATE codes (DOCS accounts-payable-bills.md readByQuery:
# D Draft, PA Partially Approved, S Submitted, U Declined, A Posted), which `query` and every
# result show as RAWSTATE beside the STATE display value (conduit APBILL/ARINVOICE: STATE
# RAWSTATE). Paid, Partially Paid and Selected stay 'A' [3rd-party: docs.cloud-elements.com
# Intacct FAQ, paid bills are STATE='A' with TOTALDUE 0]; ARINVOICE's codes, and those of
# Reversed and Reversal, are not documented [inferred: as APBILL's, 'R' for Reversed].
RAW_STATES = {
    "Draft": "D",
    "Submitted": "S",
    "Partially Approved": "PA",
    "Declined": "U",
    "Posted": "A",
    "Partially Paid": "A",
    "Paid": "A",
    "Selected": "A",
    "Reversal": "A",
    "Reversed": "R",
}
DOCUMENTS = ("ARINVOICE", "APBILL")


def _states(record: SandboxRecord) -> None:
    if record.state:
        record.data["STATE"] = record.state
        if record.object in DOCUMENTS:
            record.data["RAWSTATE"] = RAW_STATES.get(record.state, "")


def visible(ctx: Context, object: str, *, show_private: bool = False):
    records = SandboxRecord.objects.filter(company=ctx.company, object=object)
    if ctx.location_id:
        records = records.filter(entity__in=["", ctx.location_id])
    elif not show_private:
        records = records.filter(entity="")
    return records


# Objects whose records a document write reads (and never writes): `find` keeps them in the
# request's memo (`Context.memo`).
MASTER_DATA = frozenset(
    {"GLACCOUNT", "CUSTOMER", "VENDOR", "ARTERM", "APTERM", *DIMENSIONS.values()}
)


def find(ctx: Context, object: str, key: str) -> SandboxRecord | None:
    if object not in MASTER_DATA:
        return visible(ctx, object).filter(key=key).first()
    memo_key = ("find", object, key)
    if memo_key not in ctx.memo:
        ctx.memo[memo_key] = visible(ctx, object).filter(key=key).first()
    return ctx.memo[memo_key]


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
    saved: bool = True,
) -> SandboxRecord:
    """A new record, its RECORDNO in its data. `saved=False`: the caller saves it once it
    is complete (one write fewer), before its request ends."""
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
    _states(record)
    if entity or object in ("ARINVOICE", "APBILL", "ARPYMT", "APPYMT"):
        record.data["MEGAENTITYID"] = entity
    record.data["WHENMODIFIED"] = timestamp(now)
    if saved:
        record.save(update_fields=["data"])
    return record


def save(record: SandboxRecord, now: dt.datetime) -> None:
    record.when_modified = now
    record.data["WHENMODIFIED"] = timestamp(now)
    _states(record)
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
    """The object's spec; an object Sage does not know fails as Sage's reads do (PHP SDK
    test/Intacct/Xml/Response/ResultTest.php: "Query Failed", "Object definition BADOBJECT
    not found")."""
    spec = OBJECTS.get(object.upper())
    if spec is None:
        raise e.SageFault(e.QUERY_FAILED, "", e.NO_OBJECT_2.format(object=object))
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


def custom_fields(ctx: Context, object: str) -> list[SandboxCustomField]:
    memo_key = ("custom_fields", object)
    if memo_key not in ctx.memo:
        ctx.memo[memo_key] = list(
            SandboxCustomField.objects.filter(company=ctx.company, object=object).order_by("pk")
        )
    return ctx.memo[memo_key]
