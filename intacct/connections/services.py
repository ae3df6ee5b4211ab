"""Connection services: connect, read Sage's choices, reconcile, activate, settings, templates,
disconnect. Views and commands call these."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from intacct import messages as msg
from intacct.client import Q, errors
from intacct.client import functions as fn

from . import models as m
from .sage import client_for, client_for_credentials
from .schedules import schedules_ensure
from .signals import connection_disconnected

# What the wizard reads from Sage: key in Connection.sage_choices -> (object, id field, label field)
CHOICE_QUERIES = {
    "gl_accounts": ("GLACCOUNT", "ACCOUNTNO", "TITLE"),
    "ar_terms": ("ARTERM", "NAME", "NAME"),
    "ap_terms": ("APTERM", "NAME", "NAME"),
    "entities": ("LOCATIONENTITY", "LOCATIONID", "NAME"),
    "location": ("LOCATION", "LOCATIONID", "NAME"),
    "department": ("DEPARTMENT", "DEPARTMENTID", "TITLE"),
    "project": ("PROJECT", "PROJECTID", "NAME"),
    "task": ("TASK", "TASKID", "NAME"),
    "customer": ("CUSTOMER", "CUSTOMERID", "NAME"),
    "vendor": ("VENDOR", "VENDORID", "NAME"),
    # an employee's name is its contact's (no EMPLOYEE.NAME: DOCS employee-expenses-
    # employees.md selects CONTACT.FIRSTNAME/LASTNAME; FYLE constants.py CONTACT.CONTACTNAME)
    "employee": ("EMPLOYEE", "EMPLOYEEID", "CONTACT.CONTACTNAME"),
    "item": ("ITEM", "ITEMID", "NAME"),
    "class": ("CLASS", "CLASSID", "NAME"),
    "contract": ("CONTRACT", "CONTRACTID", "NAME"),
    "warehouse": ("WAREHOUSE", "WAREHOUSEID", "NAME"),
}
CUSTOM_FIELD_OBJECTS = ("ARINVOICE", "ARINVOICEITEM", "APBILL", "APBILLITEM")


class ConnectError(Exception):
    """Connecting failed; the message says why in Sage's terms and how to fix it."""


CONNECT_UNKNOWN_ENTITY = (
    "Sage company {company} has no active entity {entity}: choose one of its entities "
    "({known}), or Refresh from Sage on the template's page if it was added recently."
)


@dataclass(frozen=True)
class Problem:
    """One reconciliation finding and the wizard step that fixes it."""

    message: str
    step: int
    field: str = ""


# --- connecting -----------------------------------------------------------------------------


def connection_start(*, subsidiary) -> m.Connection:
    """The connection row the wizard fills in (a disconnected one starts over)."""
    connection, _ = m.Connection.objects.get_or_create(subsidiary=subsidiary)
    if connection.status == m.Connection.Status.DISCONNECTED:
        connection.status = m.Connection.Status.NOT_SET_UP
        connection.wizard_step = m.Connection.Step.SUBSIDIARY
        connection.posting_destination = ""
        # A new connection date: documents changed while disconnected are history, not exports.
        connection.activated_at = None
        connection.save()
    return connection


def connection_set_destination(*, connection: m.Connection, destination: str) -> m.Connection:
    connection.posting_destination = destination
    connection.wizard_step = max(connection.wizard_step, m.Connection.Step.DESTINATION)
    connection.save()  # raises ValidationError once the destination is permanent
    return connection


# Sage did not answer, or not with Sage's XML: the address or the network is at fault.
UNREACHABLE = (errors.TransientError, errors.OutcomeUnknownError, errors.ResponseFormatError)


def unreachable_detail(error: errors.IntacctError) -> str:
    """What went wrong, for a message that already says Sage could not be reached: the
    client's "Sage Intacct could not be reached (ConnectionError)." gives "ConnectionError"."""
    text = str(error).strip().rstrip(".")
    prefix = "Sage Intacct could not be reached"
    if text.startswith(prefix):
        text = text[len(prefix) :].strip().removeprefix("(").removesuffix(")")
    return text or error.__class__.__name__


def _explain(error: errors.IntacctError, *, company_id: str) -> str:
    if isinstance(
        error, errors.SenderNotAuthorizedError
    ) and "sender ID or sender password" not in str(error):
        return msg.CONNECT_SENDER.format(sender=settings.INTACCT_SENDER_ID, company=company_id)
    if isinstance(error, errors.WebServicesNotSubscribedError):
        return msg.CONNECT_NOT_SUBSCRIBED.format(company=company_id)
    if isinstance(error, errors.SignInError | errors.SessionExpiredError):
        return msg.CONNECT_SIGN_IN
    if isinstance(error, errors.PermissionDeniedError):
        return msg.CONNECT_PERMISSION.format(detail=error)
    if isinstance(error, UNREACHABLE):
        return msg.CONNECT_UNREACHABLE.format(detail=unreachable_detail(error))
    return str(error)


def connection_connect(
    *,
    connection: m.Connection,
    company_id: str,
    user_id: str,
    password: str,
    entity_id: str = "",
) -> m.Connection:
    """Validate the credentials against Sage now and resolve the entity; save only on success.

    The entity is the one named like the subsidiary, or `entity_id` when the admin picked one
    (the template setup); a top-level connection has none. Raises ConnectError with the reason
    in the seeds' terms (nothing is saved then).
    """
    company_id, user_id = company_id.strip(), user_id.strip()
    client = client_for_credentials(
        company_id=company_id, user_id=user_id, password=password, location_id=""
    )
    try:
        client.open_session()
        entities = list(client.iter_query("LOCATIONENTITY", ["LOCATIONID", "NAME", "STATUS"]))
    except errors.IntacctError as error:
        raise ConnectError(_explain(error, company_id=company_id)) from None
    chosen, entity_id, entity_name = entity_id.strip(), "", ""
    if connection.posting_destination == m.Connection.Destination.MATCHING_ENTITY and chosen:
        active = [e for e in entities if (e.get("STATUS") or "active").lower() == "active"]
        match = next((e for e in active if e.get("LOCATIONID") == chosen), None)
        if match is None:
            known = ", ".join(f"{e['LOCATIONID']} {e.get('NAME', '')}".strip() for e in active)
            raise ConnectError(
                CONNECT_UNKNOWN_ENTITY.format(company=company_id, entity=chosen, known=known)
            )
        entity_id, entity_name = match["LOCATIONID"], match.get("NAME") or ""
    elif connection.posting_destination == m.Connection.Destination.MATCHING_ENTITY:
        wanted = connection.subsidiary.name.strip().lower()
        match = next((e for e in entities if (e.get("NAME") or "").strip().lower() == wanted), None)
        if match is None:
            raise ConnectError(
                msg.CONNECT_NO_ENTITY.format(company=company_id, name=connection.subsidiary.name)
            )
        entity_id, entity_name = match["LOCATIONID"], match["NAME"]
    with transaction.atomic():
        connection.company_id, connection.user_id = company_id, user_id
        connection.set_password(password)
        connection.entity_id, connection.entity_name = entity_id, entity_name
        connection.wizard_step = max(connection.wizard_step, m.Connection.Step.CREDENTIALS)
        connection.last_test_at, connection.last_test_ok = timezone.now(), True
        connection.last_test_message = "Connected."
        connection.save()
        settings_ensure(connection=connection)
    return connection


def settings_ensure(*, connection: m.Connection) -> None:
    for model in (m.ARSettings, m.APSettings, m.AdvancedSettings):
        model.objects.get_or_create(connection=connection)


def connection_test(*, connection: m.Connection) -> tuple[bool, str]:
    """Sign in with the stored credentials; record and return (ok, message)."""
    try:
        client_for(connection).open_session()
        ok, message = True, "Connected."
    except UNREACHABLE as error:
        ok = False
        message = msg.TEST_UNREACHABLE.format(
            detail=unreachable_detail(error), endpoint=settings.INTACCT_ENDPOINT_URL
        )
    except errors.IntacctError as error:
        ok, message = False, _explain(error, company_id=connection.company_id)
    m.Connection.objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(), last_test_ok=ok, last_test_message=message[:500]
    )
    return ok, message


def connection_refresh_choices(*, connection: m.Connection, client=None) -> dict:
    """Read from Sage what the wizard offers (accounts, terms, entities, dimension values,
    custom fields with required flags and max lengths) and cache it on the connection.

    The first page of every list goes in one batched request; longer lists page on.
    """
    client = client or client_for(connection)
    keys = list(CHOICE_QUERIES)
    first_pages = client.execute(
        [
            fn.query(
                obj,
                [id_field, label_field, "STATUS"]
                if id_field != label_field
                else [id_field, "STATUS"],
                orderby=[id_field],
            )
            for obj, id_field, label_field in CHOICE_QUERIES.values()
        ]
    )
    choices: dict = {}
    for key, result in zip(keys, first_pages, strict=True):
        obj, id_field, label_field = CHOICE_QUERIES[key]
        if not result.ok:
            choices[key] = []
            continue
        records = list(result.data)
        if result.numremaining:
            fields = (
                [id_field, label_field, "STATUS"]
                if id_field != label_field
                else [id_field, "STATUS"]
            )
            records = list(client.iter_query(obj, fields, orderby=[id_field]))
        choices[key] = [
            {
                "id": r.get(id_field) or "",
                "name": r.get(label_field) or "",
                "active": (r.get("STATUS") or "active").lower() in ("active", "t", "true"),
            }
            for r in records
        ]
    choices["custom_fields"] = {}
    for obj, definition in client.describe(CUSTOM_FIELD_OBJECTS).items():
        choices["custom_fields"][obj] = [
            {
                "id": f.name,
                "label": f.label,
                "required": f.required,
                "max_length": f.max_length,
                "type": _sage_type(f.datatype),
            }
            for f in definition.custom_fields
        ]
    connection.sage_choices = choices
    connection.sage_choices_refreshed_at = timezone.now()
    m.Connection.objects.filter(pk=connection.pk).update(
        sage_choices=choices, sage_choices_refreshed_at=connection.sage_choices_refreshed_at
    )
    return choices


def _sage_type(datatype: str) -> str:
    datatype = (datatype or "").lower()
    if datatype in ("decimal", "number", "integer", "double", "currency"):
        return "number"
    if "date" in datatype:
        return "date"
    return "text"


# --- reconciliation and activation ---------------------------------------------------------


def connection_reconcile(*, connection: m.Connection, refresh: bool = True) -> list[Problem]:
    """Check the configuration against Sage; each problem names the step that fixes it."""
    choices = (
        connection_refresh_choices(connection=connection) if refresh else connection.sage_choices
    )
    step = m.Connection.Step
    problems: list[Problem] = []
    accounts = {a["id"]: a for a in choices.get("gl_accounts", [])}
    for mapping in connection.account_mappings.all():
        account = accounts.get(mapping.gl_account_no)
        where = step.AR if mapping.side == m.Side.AR else step.AP
        field = "item_accounts" if mapping.item_code else "account_mappings"
        if account is None:
            problems.append(
                Problem(
                    f"Mapped GL account {mapping.gl_account_no} ({mapping}) "
                    "does not exist in Sage.",
                    where,
                    field,
                )
            )
        elif not account["active"]:
            problems.append(
                Problem(
                    f"Mapped GL account {mapping.gl_account_no} ({mapping}) is inactive in Sage.",
                    where,
                    field,
                )
            )
    for mapping in connection.dimension_mappings.prefetch_related("value_maps"):
        known = {v["id"] for v in choices.get(mapping.dimension, [])}
        label = mapping.get_dimension_display()
        for value_map in mapping.value_maps.all():
            if value_map.sage_value not in known:
                problems.append(
                    Problem(
                        f"{label} value {value_map.sage_value} (mapped from "
                        f"{value_map.tms_value}) does not exist in Sage.",
                        step.ADVANCED,
                        "dimension_mappings",
                    )
                )
        if mapping.default_value and mapping.default_value not in known:
            problems.append(
                Problem(
                    f"{label} default {mapping.default_value} does not exist in Sage.",
                    step.ADVANCED,
                    "dimension_mappings",
                )
            )
        if mapping.required and not mapping.default_value:
            problems.append(
                Problem(
                    f"{label} is required: set a Default value so lines "
                    "without a TMS value still export.",
                    step.ADVANCED,
                    "dimension_mappings",
                )
            )
    mapped = {(c.target, c.sage_field_id) for c in connection.custom_field_mappings.all()}
    for target, obj in m.SAGE_OBJECT_OF_TARGET.items():
        for field in choices.get("custom_fields", {}).get(obj, []):
            if field["required"] and (target, field["id"]) not in mapped:
                problems.append(
                    Problem(
                        f"Sage custom field {field['label']} ({field['id']}) on "
                        f"{obj} is required but not mapped.",
                        step.ADVANCED,
                        "custom_field_mappings",
                    )
                )
    ar_terms = {t["id"] for t in choices.get("ar_terms", []) if t["active"]}
    ap_terms = {t["id"] for t in choices.get("ap_terms", []) if t["active"]}
    advanced = getattr(connection, "advanced_settings", None)
    if advanced and advanced.default_payment_term not in ar_terms | ap_terms:
        problems.append(
            Problem(
                f"Default payment term {advanced.default_payment_term} does not exist in Sage.",
                step.ADVANCED,
                "default_payment_term",
            )
        )
    for term in connection.custom_terms.select_related("customer", "carrier", "driver"):
        terms = ar_terms if term.customer_id else ap_terms
        if term.term_name not in terms:
            problems.append(
                Problem(
                    f"Payment term {term.term_name} for {term.party} does not exist in Sage.",
                    step.ADVANCED,
                    "custom_terms",
                )
            )
    return problems


def connection_activate(*, connection: m.Connection) -> list[Problem]:
    """Reconcile; when clean, the connection becomes Active with Primary Sync on."""
    problems = connection_reconcile(connection=connection)
    if problems:
        return problems
    connection.status = m.Connection.Status.ACTIVE
    connection.primary_sync = True
    connection.activated_at = connection.activated_at or timezone.now()
    connection.wizard_step = m.Connection.Step.FINISH
    connection.save()
    schedules_ensure()
    return []


def connection_set_primary_sync(*, connection: m.Connection, on: bool) -> m.Connection:
    """Primary Sync pauses (Paused) or resumes (Active) all syncing without disconnecting."""
    if connection.status not in (m.Connection.Status.ACTIVE, m.Connection.Status.PAUSED):
        raise ValueError("Only a connection that finished setup can be paused or resumed.")
    connection.primary_sync = on
    connection.status = m.Connection.Status.ACTIVE if on else m.Connection.Status.PAUSED
    connection.save()
    schedules_ensure()
    return connection


class SettingsError(Exception):
    """A settings change that is not allowed; the message says what to do instead."""


def _sync_toggles(ar: m.ARSettings, ap: m.APSettings) -> list[bool]:
    return [getattr(ar, name) for name in (ar.MASTER, *ar.INDIVIDUAL)] + [
        getattr(ap, name) for name in (ap.MASTER, *ap.INDIVIDUAL)
    ]


@transaction.atomic
def connection_update_settings(
    *,
    connection: m.Connection,
    ar: dict | None = None,
    ap: dict | None = None,
    advanced: dict | None = None,
) -> None:
    """Apply field changes to the AR, AP and advanced settings.

    Refuses (SettingsError, nothing saved) to turn off the last active sync toggle.
    """
    settings_ensure(connection=connection)
    ar_settings = m.ARSettings.objects.select_for_update().get(connection=connection)
    ap_settings = m.APSettings.objects.select_for_update().get(connection=connection)
    advanced_settings = m.AdvancedSettings.objects.get(connection=connection)
    before = any(_sync_toggles(ar_settings, ap_settings))
    for obj, changes in ((ar_settings, ar), (ap_settings, ap), (advanced_settings, advanced)):
        for name, value in (changes or {}).items():
            setattr(obj, name, value)
    if before and not any(_sync_toggles(ar_settings, ap_settings)):
        raise SettingsError(msg.LAST_TOGGLE)
    for obj in (ar_settings, ap_settings, advanced_settings):
        obj.full_clean()
        obj.save()


# --- templates and disconnect ----------------------------------------------------------------


def _copy(instance, **overrides):
    instance.pk = instance.id = None
    for name, value in overrides.items():
        setattr(instance, name, value)
    instance.save()
    return instance


@transaction.atomic
def connection_copy_from_template(*, source: m.Connection, target: m.Connection) -> m.Connection:
    """Copy AR, AP and advanced settings, every mapping and custom term; the two stay
    independent afterwards (rows are copied, not shared)."""
    for model in (m.ARSettings, m.APSettings, m.AdvancedSettings):
        model.objects.filter(connection=target).delete()
        original = model.objects.filter(connection=source).first()
        if original is not None:
            _copy(original, connection=target)
    target.account_mappings.all().delete()
    target.dimension_mappings.all().delete()
    target.custom_field_mappings.all().delete()
    target.custom_terms.all().delete()
    for mapping in source.account_mappings.all():
        _copy(mapping, connection=target)
    for mapping in source.dimension_mappings.prefetch_related("value_maps"):
        value_maps = list(mapping.value_maps.all())
        copy = _copy(mapping, connection=target)
        for value_map in value_maps:
            _copy(value_map, mapping=copy)
    for mapping in source.custom_field_mappings.all():
        _copy(mapping, connection=target)
    for term in source.custom_terms.all():
        _copy(term, connection=target)
    settings_ensure(connection=target)
    return target


@transaction.atomic
def connection_disconnect(*, connection: m.Connection) -> m.Connection:
    """Stop syncing and delete the settings, mappings and credentials (the notification
    secret too: `connection_disconnected`); Sage data and our export history stay. The
    subsidiary can be connected again through the wizard."""
    for model in (m.ARSettings, m.APSettings, m.AdvancedSettings):
        model.objects.filter(connection=connection).delete()
    connection.account_mappings.all().delete()
    connection.dimension_mappings.all().delete()
    connection.custom_field_mappings.all().delete()
    connection.custom_terms.all().delete()
    connection.status = m.Connection.Status.DISCONNECTED
    connection.primary_sync = False
    connection.password_encrypted = ""
    connection.session_encrypted = ""
    connection.sage_choices = {}
    connection.save()
    connection_disconnected.send(sender=m.Connection, connection=connection)
    schedules_ensure()
    return connection


def entities_for(*, connection: m.Connection) -> list[dict]:
    """Sage entities, for the template step's entity choice."""
    return list(
        client_for(connection).iter_query(
            "LOCATIONENTITY", ["LOCATIONID", "NAME"], filter=Q.equalto("STATUS", "active")
        )
    )


@transaction.atomic
def account_defaults_set(*, connection: m.Connection, side: str, accounts: dict[str, str]) -> None:
    """Set the side's master ('' key) and category default accounts; '' clears one."""
    for category, account_no in accounts.items():
        rows = m.AccountMapping.objects.filter(
            connection=connection, side=side, category=category, item_code=""
        )
        if account_no:
            rows.update_or_create(
                connection=connection,
                side=side,
                category=category,
                item_code="",
                defaults={"gl_account_no": account_no},
            )
        else:
            rows.delete()


def connection_advance(*, connection: m.Connection, step: int) -> None:
    """Remember the last completed wizard step so the admin can leave and resume."""
    if step > connection.wizard_step:
        connection.wizard_step = step
        m.Connection.objects.filter(pk=connection.pk).update(wizard_step=step)
