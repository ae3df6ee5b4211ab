"""The generic create, update and delete functions: each object goes to its family's code."""

from .. import errors as e
from .bills import create_bill, update_bill
from .context import Context, Reply
from .documents import check_deletable
from .masterdata import check_party_deletable, create_party, update_party
from .payments import create_payment
from .records import find, find_by_recordno, require_module, save, spec_of
from .values import required, text


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
        "CUSTOMER": create_party,
        "VENDOR": create_party,
        "APBILL": create_bill,
        "ARPYMT": create_payment,
        "APPYMT": create_payment,
    }[object]
    record = handler(ctx, object, values)
    created = {"RECORDNO": str(record.pk)}
    if spec.id_field:
        created[spec.id_field] = record.key
    return Reply([created], "objects", attrs={"count": 1, "_record_tag": object.lower()})


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
    require_module(ctx, object, "DELETE")
    for key in [k.strip() for k in required(body, "keys", "delete").split(",") if k.strip()]:
        record = find_by_recordno(ctx, object, key)
        if record is None:
            raise e.fault(f"Invalid {object.title()}", f"{object} {key} does not exist.")
        if object == "APBILL":
            check_deletable(record, "Bill", key)
        elif object in ("CUSTOMER", "VENDOR"):
            check_party_deletable(ctx, object, record)
        else:
            raise e.fault("Unsupported operation", f"delete is not supported for {object}.")
        record.delete()
    return Reply()
