"""Resolution: who a document is addressed to in Sage, which GL account, dimensions, custom
fields and term each part takes. Pure functions over what one run reads once (`RunData`); the
only Sage calls are the run's one read of customers/vendors for name matching and Auto Create.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from accounting import models as am
from intacct import messages as msg
from intacct.client import functions as fn
from intacct.connections import models as m

DIMENSION_FIELD = {d.value: f"{d.value}id" for d in m.Dimension}

ValueOf = Callable[[str], str]  # TMS field name -> its value on this document / line ("" if none)


class ExportError(Exception):
    """A document cannot be exported as it is; the message says what to fix."""


@dataclass
class RunData:
    """What one run reads once: settings, mappings, terms, Sage customers for name matching."""

    connection: m.Connection
    ar: m.ARSettings
    ap: m.APSettings
    advanced: m.AdvancedSettings
    accounts: list
    dimensions: list
    custom_fields: list
    custom_terms: dict
    client: object
    dry_run: bool = False  # preview: read from Sage, never write (no auto-created customers)
    _sage_parties: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # other reads made once per run, by key

    def sage_parties(self, side: "PartySide") -> list[dict]:
        """Sage's customers or vendors (ID and name), read once per run for name matching."""
        if side.object not in self._sage_parties:
            self._sage_parties[side.object] = list(
                self.client.iter_query(side.object, [side.id_field, "NAME"])
            )
        return self._sage_parties[side.object]


def run_data(connection: m.Connection, client, *, dry_run: bool = False) -> RunData:
    return RunData(
        dry_run=dry_run,
        connection=connection,
        ar=m.ARSettings.objects.get(connection=connection),
        ap=m.APSettings.objects.get(connection=connection),
        advanced=m.AdvancedSettings.objects.get(connection=connection),
        accounts=list(connection.account_mappings.all()),
        dimensions=list(connection.dimension_mappings.prefetch_related("value_maps")),
        custom_fields=list(connection.custom_field_mappings.all()),
        custom_terms={
            ("customer", t.customer_id)
            if t.customer_id
            else ("carrier", t.carrier_id)
            if t.carrier_id
            else ("driver", t.driver_id): t.term_name
            for t in connection.custom_terms.all()
        },
        client=client,
    )


# --- the three account levels, dimension value maps ------------------------------------------


@dataclass(frozen=True)
class AccountResolution:
    account_no: str
    level: str  # "specific" | "category" | "master"


def account_resolve(
    *, mappings, side: str, category: str, item_code: str = ""
) -> AccountResolution | None:
    """specific item → category default → master default; None when nothing maps.

    `mappings`: the connection's AccountMapping rows (read once per run, not per line).
    """
    table = {(a.side, a.category, a.item_code): a.gl_account_no for a in mappings}
    for key, level in (
        ((side, category, item_code), "specific"),
        ((side, category, ""), "category"),
        ((side, "", ""), "master"),
    ):
        if level == "specific" and not item_code:
            continue
        if key in table:
            return AccountResolution(table[key], level)
    return None


def dimension_explain(*, mapping: m.DimensionMapping, tms_value: str | None) -> tuple[str, str]:
    """(Sage value, how it was chosen): value map → pass-through → default ('' when none)."""
    if tms_value:
        for value_map in mapping.value_maps.all():
            if value_map.tms_value.lower() == str(tms_value).lower():
                return (
                    value_map.sage_value,
                    f"value map {value_map.tms_value} → {value_map.sage_value}",
                )
        return str(tms_value), "passed through unmapped"
    if mapping.default_value:
        return mapping.default_value, "default value"
    return "", "no value"


def dimension_resolve(*, mapping: m.DimensionMapping, tms_value: str | None) -> str:
    """value map → pass-through → default ('' when nothing)."""
    return dimension_explain(mapping=mapping, tms_value=tms_value)[0]


# --- customers and vendors --------------------------------------------------------------------


@dataclass(frozen=True)
class PartySide:
    """Customers (AR) or vendors (AP): where Sage keeps them and which settings apply."""

    label: str
    object: str
    id_field: str
    not_linked: str
    settings: str  # "ar" or "ap"
    auto_create: str


CUSTOMERS = PartySide(
    "Customer", "CUSTOMER", "CUSTOMERID", msg.CUSTOMER_NOT_LINKED, "ar", "auto_create_customer"
)
VENDORS = PartySide(
    "Vendor", "VENDOR", "VENDORID", msg.VENDOR_NOT_LINKED, "ap", "auto_create_vendor"
)


def party_resolve(
    *,
    data: RunData,
    side: PartySide,
    party,
    trail: list | None = None,
    use_external_id: bool = True,
) -> str:
    """The Sage ID of a customer, carrier, driver (or subsidiary, for intercompany documents):
    External Accounting ID for this subsidiary → name match (exact, case-insensitive; two
    matches is an error, never a guess) → Auto Create → ExportError with the seeds' "not
    linked" message. `use_external_id=False` when the party's ID names it on the other side
    (a carrier billed on AR carries a vendor ID)."""
    trail = trail if trail is not None else []
    settings = getattr(data, side.settings)
    lookup = getattr(party, "external_accounting_id", None)
    external = lookup(data.connection.subsidiary) if use_external_id and lookup else None
    if external:
        trail.append(f"{side.label} {party.name}: {external} (External Accounting ID)")
        return external
    if settings.name_matching_fallback:
        wanted = party.name.strip().lower()
        matches = [
            p for p in data.sage_parties(side) if (p.get("NAME") or "").strip().lower() == wanted
        ]
        if len(matches) > 1:
            ids = ", ".join(p[side.id_field] for p in matches)
            raise ExportError(
                f"{side.not_linked}: {len(matches)} Sage {side.label.lower()}s are "
                f"named {party.name} ({ids}); set the External Accounting ID."
            )
        if matches:
            trail.append(f"{side.label} {party.name}: {matches[0][side.id_field]} (name match)")
            return matches[0][side.id_field]
    if getattr(settings, side.auto_create):
        model = party._meta.model_name
        party_id = f"{side.object[0]}-{model[:3].upper()}{party.pk}"  # C-CAR12, V-DRI3
        trail.append(f"{side.label} {party.name}: {party_id} (created by Auto Create {side.label})")
        if data.dry_run:
            return party_id
        created = data.cache.setdefault(("created", side.object), set())
        if party_id not in created and not _in_sage(data, side, party_id):
            (result,) = data.client.execute(
                [
                    fn.create(
                        side.object,
                        {side.id_field: party_id, "NAME": party.name},
                        controlid=f"{side.object.lower()}-{model}-{party.pk}",
                    )
                ]
            )
            # Refused: an earlier create may have been applied with its answer lost (Sage
            # answers "duplicate control ID" or that the ID exists): Sage's list settles it.
            if not result.ok and not _in_sage(data, side, party_id, again=True):
                raise ExportError(f"{side.not_linked}: {result.error()}")
            data._sage_parties.pop(side.object, None)
        created.add(party_id)
        if use_external_id:
            _remember(data, party, party_id)
        return party_id
    raise ExportError(side.not_linked)


def _in_sage(data: RunData, side: PartySide, party_id: str, *, again: bool = False) -> bool:
    """Whether Sage has a customer (vendor) with this ID (its list read once per run, or again)."""
    if again:
        data._sage_parties.pop(side.object, None)
    return any(p.get(side.id_field) == party_id for p in data.sage_parties(side))


def _remember(data: RunData, party, party_id: str) -> None:
    """An auto-created Sage ID becomes the party's External Accounting ID for this subsidiary
    (visible on its page), so later documents use it whatever name matching says."""
    field_name = party._meta.model_name
    if field_name not in ("customer", "carrier", "driver"):
        return  # a subsidiary (intercompany): named, never given an ID
    try:
        with transaction.atomic():
            am.ExternalAccountingId.objects.get_or_create(
                subsidiary=data.connection.subsidiary,
                **{field_name: party},
                defaults={"external_id": party_id},
            )
    except IntegrityError:  # another exporter stored it first: the same ID
        pass


# --- accounts, dimensions, custom fields, terms ------------------------------------------------


def line_account(*, data: RunData, side: str, category: str, item_code: str, line_id) -> str:
    """The line's GL account: specific item → category default → master default."""
    resolved = account_resolve(
        mappings=data.accounts, side=side, category=category, item_code=item_code
    )
    if resolved is None:
        message = msg.MISSING_REVENUE_ACCOUNT if side == "ar" else msg.MISSING_EXPENSE_ACCOUNT
        raise ExportError(message.format(line=line_id))
    return resolved


def line_dimensions(*, data: RunData, value_of: ValueOf, line_id, trail: list) -> dict[str, str]:
    """Sage dimension field (lower case, `locationid`) → value for one line: value map →
    pass-through → default. A required dimension without a value, or configured dimensions
    of which none resolves, fail with "Line [ID] must have at least one mapped Sage dimension"."""
    values = {}
    for mapping in data.dimensions:
        source = value_of(mapping.source)
        value, how = dimension_explain(mapping=mapping, tms_value=source)
        trail.append(
            f"  {mapping.get_dimension_display()} from {mapping.get_source_display()} "
            f"{source!r}: {value or '—'} ({how})"
        )
        if mapping.required and not value:
            raise ExportError(msg.NO_MAPPED_DIMENSION.format(line=line_id))
        if value:
            values[DIMENSION_FIELD[mapping.dimension]] = value
    if data.dimensions and not values:
        raise ExportError(msg.NO_MAPPED_DIMENSION.format(line=line_id))
    return values


def custom_field_values(
    *, data: RunData, target: str, value_of: ValueOf, check_length: bool = False
) -> dict[str, str]:
    """Custom-field values for `target` (ar_invoice, ar_invoice_line, ap_bill, ap_bill_line),
    refusing a missing required value and, when asked (AR), a value longer than Sage's max."""
    values = {}
    for mapping in data.custom_fields:
        if mapping.target != target:
            continue
        value = value_of(mapping.source)
        name = mapping.sage_label or mapping.sage_field_id
        if mapping.required and not value:
            raise ExportError(msg.REQUIRED_CUSTOM_FIELD_MISSING.format(name=name))
        if check_length and mapping.max_length and len(value) > mapping.max_length:
            raise ExportError(msg.CUSTOM_FIELD_TOO_LONG.format(name=name))
        if value:
            values[mapping.sage_field_id] = value
    return values


def term_resolve(*, data: RunData, key, party_name: str, term: str | None, trail: list) -> str:
    """The party's custom term → the default payment terms; `term` (a retry) wins."""
    if term:
        trail.append(f"Term {term} (retry after Sage refused the first term)")
    elif key in data.custom_terms:
        term = data.custom_terms[key]
        trail.append(f"Term {term} (custom term for {party_name})")
    else:
        term = data.advanced.default_payment_term
        trail.append(f"Term {term} (default payment terms)")
    return term
