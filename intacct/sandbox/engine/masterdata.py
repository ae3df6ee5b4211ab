"""Master data: customers and vendors, and the party, term, account and dimension checks."""

import datetime as dt

from intacct.client import terms

from .. import errors as e
from ..catalog import DIMENSION_LABELS, DIMENSIONS, OBJECTS
from ..models import SandboxRecord
from .context import Context
from .records import find, new_record
from .values import required, text


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


def check_term(ctx: Context, object: str, term: str) -> SandboxRecord:
    record = find(ctx, object, term)
    if record is None or record.data.get("STATUS", "active") != "active":
        raise e.fault(
            e.TERM_INVALID,
            e.TERM_INVALID_2.format(term=term),
            "Create the term in Sage Intacct or use an existing one.",
        )
    return record


def term_due(term: SandboxRecord, created: dt.date) -> dt.date:
    """When a document dated `created` is due under `term` (its DUEDATE and DUEFROM)."""
    days = int(term.data.get("DUEDATE") or 0)
    return terms.due_date(created, due_days=days, due_from=term.data.get("DUEFROM") or "")


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


def create_party(ctx, object, values) -> SandboxRecord:
    spec = OBJECTS[object]
    party_id = required(values, spec.id_field, object)
    name = required(values, "NAME", object)
    for field_name, limit in spec.max_lengths.items():
        if len(text(values.get(field_name))) > limit:
            raise e.fault("Value too long", f"{field_name} is longer than {limit} characters.")
    if SandboxRecord.objects.filter(company=ctx.company, object=object, key=party_id).exists():
        raise e.SageFault(
            e.DUPLICATE_ID,
            "",
            f"Another {object.title()} with the given value(s) {party_id} already exists",
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


def update_party(record: SandboxRecord, values) -> None:
    """Apply a CUSTOMER or VENDOR update; the caller saves it."""
    for name in ("NAME", "STATUS", "TERMNAME"):
        if values.get(name) is not None:
            record.data[name] = text(values.get(name))


def check_party_deletable(ctx: Context, object: str, record: SandboxRecord) -> None:
    """A customer or vendor with transactions cannot be deleted."""
    field_name = OBJECTS[object].id_field
    documents = SandboxRecord.objects.filter(
        company=ctx.company, object__in=["ARINVOICE", "APBILL", "ARPYMT", "APPYMT"]
    )
    if any(doc.data.get(field_name) == record.key for doc in documents):
        raise e.fault("Cannot delete", f"{object.title()} {record.key} has transactions.")
