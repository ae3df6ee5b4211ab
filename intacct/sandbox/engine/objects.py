"""The generic create, update and delete functions: each object goes to its family's code,
once its fields are known to Sage and the required ones are there (`fields`)."""

from .. import errors as e
from ..fields import CONTACT, CREATE, DELETABLE, REQUIRED, UPDATE
from ..models import SandboxRecord
from .bills import create_bill, update_bill
from .context import Context, Reply
from .documents import check_deletable
from .masterdata import check_party_deletable, create_party, update_party
from .payments import create_payment, payment_void
from .records import custom_fields, find, find_by_recordno, require_module, save, spec_of
from .values import listed, required, text

# What each object's lines are called inside it (DOCS "Create Bill", "Create AR Payment"...).
LINES = {
    "APBILL": ("APBILLITEMS", "APBILLITEM"),
    "ARPYMT": ("ARPYMTDETAILS", "ARPYMTDETAIL"),
    "APPYMT": ("APPYMTDETAILS", "APPYMTDETAIL"),
}


def _single_object(body, function) -> tuple[str, dict]:
    if not isinstance(body, dict) or len(body) != 1:
        raise e.fault("Invalid request", f"<{function}> holds exactly one object element here.")
    ((object, values),) = body.items()
    if isinstance(values, list):
        raise e.fault("Invalid request", f"Send one {object} per <{function}> function.")
    return object.upper(), values or {}


def _names(values) -> list[str]:
    return [k for k in (values or {}) if not k.startswith("@")] if isinstance(values, dict) else []


def _refuse_unknown(object: str, values, known: frozenset, custom=frozenset()) -> None:
    unknown = [
        name
        for name in _names(values)
        if name not in known and name not in custom and not name.startswith("GLDIM")
    ]
    if unknown:
        raise e.fault(
            e.NOT_WRITABLE, e.NOT_WRITABLE_2.format(object=object, fields=", ".join(unknown))
        )


def _require(object: str, values, names, *, label=None) -> None:
    for name in names:
        if not any(text((values or {}).get(n)) or (values or {}).get(n) for n in name.split("|")):
            raise e.fault(
                e.MISSING_FIELD,
                e.MISSING_FIELD_2.format(field=name.replace("|", " or "), object=label or object),
                f"Add <{name.split('|')[0]}>.",
            )


def check_write(ctx: Context, object: str, values, *, update: bool = False) -> None:
    """Refuse what Sage refuses in a create or update of `object`: a field it does not have
    (the company's custom fields count), a required one left out."""
    known = (UPDATE if update else CREATE)[object]
    _refuse_unknown(object, values, known, {c.field_id for c in custom_fields(ctx, object)})
    draft = text(values.get("ACTION")) == "Draft"
    if update and object == "APBILL":
        _require(object, values, REQUIRED["APBILL update"])
    elif not update and not (object == "APBILL" and draft):
        _require(object, values, REQUIRED[object])
    if "DISPLAYCONTACT" in values:
        contact = values.get("DISPLAYCONTACT") or {}
        _refuse_unknown(f"{object} DISPLAYCONTACT", contact, CONTACT)
        if not update:
            _require("DISPLAYCONTACT", contact, REQUIRED["DISPLAYCONTACT"], label=object)
    if object in LINES:
        container, tag = LINES[object]
        line_known = (UPDATE if update else CREATE)[tag]
        line_custom = {c.field_id for c in custom_fields(ctx, tag)}
        for line in listed((values.get(container) or {}).get(tag)):
            _refuse_unknown(tag, line, line_known, line_custom)
            if not update or object != "APBILL":
                _require(tag, line, REQUIRED[tag])


def create(ctx: Context, body) -> Reply:
    object, values = _single_object(body, "create")
    spec = spec_of(object)
    if not spec.writable:
        raise e.fault("Unsupported operation", f"create is not supported for {object}.")
    require_module(ctx, object, "CREATE")
    handler = {
        "CUSTOMER": create_party,
        "VENDOR": create_party,
        "APBILL": create_bill,
        "ARPYMT": create_payment,
        "APPYMT": create_payment,
    }[object]
    try:
        check_write(ctx, object, values)
        record = handler(ctx, object, values)
    except e.SageFault as fault:
        label = object.title() if object in ("CUSTOMER", "VENDOR") else object
        created = e.SageFault(e.BUSINESS, "", e.NOT_CREATED_2.format(object=label), support=False)
        raise e.SageFaults([fault, created]) from None
    created = {"RECORDNO": str(record.pk)}
    if spec.id_field:
        created[spec.id_field] = record.key
    return Reply([created], "objects", attrs={"count": 1, "_record_tag": object.lower()})


def update(ctx: Context, body) -> Reply:
    object, values = _single_object(body, "update")
    spec = spec_of(object)
    if not spec.writable or object not in UPDATE:
        raise e.fault("Unsupported operation", f"update is not supported for {object}.")
    require_module(ctx, object, "UPDATE")
    check_write(ctx, object, values, update=True)
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
        update_bill(ctx, record, values)
    else:
        update_party(record, values)
    save(record, ctx.now)
    return Reply(
        [{"RECORDNO": str(record.pk)}], "objects", attrs={"count": 1, "_record_tag": object.lower()}
    )


def delete(ctx: Context, body) -> Reply:
    object = required(body, "object", "delete").upper()
    spec_of(object)
    if object not in DELETABLE:
        raise e.fault("Unsupported operation", f"delete is not supported for {object}.")
    require_module(ctx, object, "DELETE")
    for key in [k.strip() for k in required(body, "keys", "delete").split(",") if k.strip()]:
        record = find_by_recordno(ctx, object, key)
        if record is None:
            raise e.fault(f"Invalid {object.title()}", f"{object} {key} does not exist.")
        if object in ("APBILL", "ARINVOICE"):
            check_deletable(record, "Bill" if object == "APBILL" else "Invoice", key)
        elif object in ("CUSTOMER", "VENDOR"):
            check_party_deletable(ctx, object, record)
        else:  # a payment: its documents get their amounts back, then it is gone
            payment_void(record, now=ctx.now)
            SandboxRecord.objects.filter(
                company=ctx.company, object=f"{object}DETAIL", data__PAYMENTKEY=str(record.pk)
            ).delete()
        record.delete()
    return Reply()
