"""The Error Transactions page's services: how to fix each failure, grouped causes, Retry Sync,
Sync All, Mark as Synced, and Retry export from a document's own page.

Views and admin actions call these and show what they return; nothing here renders HTML.
Every export goes through `export.documents_export` (the same path as the scheduled run), so a
retry claims, sends, records and resolves exactly like the export does.
"""

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounting import models as am

from . import export
from . import messages as msg
from . import models as m
from .client import Q as SageQ
from .client import errors as sage_errors
from .sage import client_for

Error = am.ErrorTransaction
Attempt = am.ErrorAttempt

# --- messages people see (the report of Retry Sync, Sync All, Mark as Synced) -----------------

RETRYABLE_ENTITY_TYPES = ("Load", "Trip", "E-check", "Paystub")
NOT_RETRYABLE_HERE = (
    "{entity} transactions cannot be re-synced from the Error Transactions page: {where}"
)
WHERE_OWN_PAGE = "use Retry export on its {page} page."
WHERE_NEXT_RUN = (
    "correct it on its {page} page; the next scheduled export sends it again when it is ready."
)
PAYMENT_NOT_RETRYABLE = (
    "Payment transactions are never exported, so there is nothing to re-sync: check the "
    "payment in Sage Intacct, correct the payment here if needed, then use Mark as Synced."
)
NOT_EXPORTABLE_YET = "Ledgerline does not export {entity} documents to Sage Intacct yet."
NO_CONNECTION = "{subsidiary} has no Sage Intacct connection."
NOT_SYNCING = (
    "{subsidiary}'s Sage Intacct connection is {status}: turn Primary Sync on (or connect it "
    "again) first."
)
NOT_SYNCING_PRIMARY_OFF = "paused (Primary Sync off)"
NEEDS_CORRECTION = "still needs corrections: {problem}"
NOT_SENT = (
    "not sent: the document is no longer ready to export (already synced, changed back, or "
    "its export toggle is off in the connection's settings)."
)
SAGE_UNREADABLE = "Sage Intacct could not be read, nothing was sent: {detail}"
ALREADY_RESOLVED = "already resolved."
MARK_AS_SYNCED_WARNING = (
    "Only mark a transaction as synced if it has been fully resolved in Sage Intacct: this "
    "action cannot be undone. Ledgerline will not export these documents again unless they "
    "change in the TMS."
)
SYNC_ALL_WARNING = (
    "Use Sync All only if the failed transactions are ready for export. Each one is checked "
    "first; those that still require corrections are skipped and listed."
)


# --- document types ------------------------------------------------------------------------------


def _registry() -> dict:
    """The document types the export knows, by name (a type not in it is not exported yet)."""
    return export.DOCUMENT_TYPES


def _kind(document_type: str):
    """The export's description of a document type (sage_object, prefix, ...), or None."""
    return _registry().get(document_type)


DOCUMENT_MODELS = {
    "load": am.Load,
    "trip": am.Trip,
    "paystub": am.Paystub,
    "echeck": am.ECheck,
    "summary_invoice": am.SummaryInvoice,
    "carrier_settlement": am.CarrierSettlement,
    "driver_settlement": am.DriverSettlement,
    "carrier_statement": am.CarrierStatement,
    "fuel": am.FuelTransaction,
    "toll": am.TollTransaction,
    "escrow": am.EscrowTransaction,
    "payment": am.Payment,  # a payment voided in Sage after import (flagged, not exported)
}
# Who a document is addressed to (the Sage customer or vendor), by model.
PARTY_FIELDS = {
    am.Load: ("customer",),
    am.SummaryInvoice: ("customer",),
    am.Trip: ("carrier", "driver"),
    am.Paystub: ("driver",),
    am.ECheck: ("payee_carrier", "payee_driver"),
    am.CarrierSettlement: ("carrier",),
    am.DriverSettlement: ("driver",),
    am.CarrierStatement: ("carrier",),
}
# Where the entity types that cannot be re-synced here are corrected and sent again: the
# page's name, its admin list, and whether that list has Retry export.
ELSEWHERE = {
    "summary invoice": ("summary invoice", "accounting_summaryinvoice", True),
    "accounting invoice": ("summary invoice", "accounting_summaryinvoice", True),
    "carrier settlement": ("carrier settlement", "accounting_carriersettlement", True),
    "driver settlement": ("driver settlement", "accounting_driversettlement", True),
    "carrier statement": ("carrier statement", "accounting_carrierstatement", False),
    "driver statement": ("driver settlement", "accounting_driversettlement", True),
    "deduction": ("load or paystub", "accounting_load", False),
    "accessorial revenue": ("load", "accounting_load", False),
    "fuel": ("fuel transaction", "accounting_fueltransaction", False),
    "toll": ("toll transaction", "accounting_tolltransaction", False),
    "escrow": ("escrow transaction", "accounting_escrowtransaction", False),
}


def _model(document_type: str):
    return getattr(_registry().get(document_type), "model", None) or DOCUMENT_MODELS.get(
        document_type
    )


def _admin_url(name: str, *args) -> str:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def error_transaction_retryable_here(*, error: Error) -> bool:
    """Whether Retry Sync / Sync All may send this row (Load, Trip, E-check, Paystub)."""
    return error.entity_type.lower() in {e.lower() for e in RETRYABLE_ENTITY_TYPES}


def error_transaction_where_to_retry(*, error: Error) -> tuple[str, str]:
    """For a row Retry Sync does not handle: the sentence saying where it is retried, and
    the URL of that page ("" when there is none)."""
    if error.document_type == "payment":
        return PAYMENT_NOT_RETRYABLE, _admin_url("accounting_payment_change", error.document_id)
    page, url_name, own_action = ELSEWHERE.get(
        error.entity_type.lower(), (error.entity_type.lower(), "", False)
    )
    where = (WHERE_OWN_PAGE if own_action else WHERE_NEXT_RUN).format(page=page)
    url = _admin_url(f"{url_name}_changelist") if url_name else ""
    return NOT_RETRYABLE_HERE.format(entity=error.entity_type, where=where), url


# --- how to fix: one rule per troubleshooting message of the seeds -----------------------------


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Fix:
    """What a person does about a failure: the seeds' problem, their steps, and links to the
    exact page that fixes it."""

    key: str
    problem: str
    steps: tuple[str, ...]
    links: tuple[Link, ...] = ()


@dataclass
class Context:
    """What a rule's links may need: the connection, the TMS document and its party."""

    subsidiary_id: int
    document_type: str
    document_id: int
    connection: m.Connection | None = None
    document: object = None
    party: object = None


def _connection_link(ctx, name, label, anchor=""):
    if ctx.connection is None:
        return Link("Sage Intacct connections", _admin_url("intacct_connection_changelist"))
    url = _admin_url(name, ctx.connection.pk)
    return Link(label, f"{url}#{anchor}" if anchor else url)


def _credentials(ctx):
    return [
        _connection_link(ctx, "intacct_connection_change", "Connection status (Settings tab)"),
        _connection_link(ctx, "intacct_wizard_credentials", "Connection credentials"),
    ]


def _party_link(ctx):
    party = ctx.party
    if party is None:
        return []
    name = party._meta.model_name
    url = _admin_url(f"accounting_{name}_change", party.pk)
    return [Link(f"{party} ({name} profile): External Accounting ID", f"{url}#external_ids-group")]


def _customer(ctx):
    return [
        *_party_link(ctx),
        _connection_link(ctx, "intacct_wizard_ar", "AR settings: Auto Create Customer"),
    ]


def _vendor(ctx):
    return [
        *_party_link(ctx),
        _connection_link(ctx, "intacct_wizard_ap", "AP settings: Auto Create Vendor"),
    ]


def _accounts(side):
    step, label = ("intacct_wizard_ar", "AR") if side == "ar" else ("intacct_wizard_ap", "AP")

    def links(ctx):
        mappings = _admin_url("intacct_accountmapping_changelist")
        result = [_connection_link(ctx, step, f"{label} settings: master and category defaults")]
        if ctx.connection is not None:
            query = f"?connection__id__exact={ctx.connection.pk}&side__exact={side}"
            result.append(Link("Account Mappings (specific items)", mappings + query))
        return result

    return links


def _document_link(ctx):
    model = type(ctx.document) if ctx.document is not None else _model(ctx.document_type)
    if model is None:
        return []
    url = _admin_url(f"{model._meta.app_label}_{model._meta.model_name}_change", ctx.document_id)
    return [Link(f"{model._meta.verbose_name.capitalize()} {ctx.document or ''}".strip(), url)]


def _dimensions(ctx):
    return [
        _connection_link(
            ctx,
            "intacct_wizard_advanced",
            "Dimensions & Custom Fields: Default value",
            "dimensions",
        ),
        *_document_link(ctx),
    ]


def _custom_fields(ctx):
    return [
        _connection_link(
            ctx, "intacct_wizard_advanced", "Dimensions & Custom Fields", "custom_fields"
        ),
        *_document_link(ctx),
    ]


def _terms(ctx):
    return [
        _connection_link(
            ctx, "intacct_wizard_advanced", "Advanced: Default Payment Terms", "terms"
        ),
        *_party_link(ctx),
    ]


@dataclass(frozen=True)
class Rule:
    key: str
    patterns: tuple[str, ...]  # message templates ({name} placeholders) or raw regexes
    problem: str
    steps: tuple[str, ...]
    links: Callable[[Context], list[Link]]

    def matches(self, message: str) -> bool:
        return any(_compiled(pattern).search(message or "") for pattern in self.patterns)


@functools.cache
def _compiled(template: str) -> re.Pattern:
    """A message template ("Line {line} is missing ...": each placeholder matches any text) or
    a regex ("re:...") as a case-insensitive pattern found anywhere in the message."""
    if template.startswith("re:"):
        return re.compile(template[3:], re.IGNORECASE)
    parts = re.split(r"\{\w+\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts), re.IGNORECASE)


# The seeds' troubleshooting section, message by message, then Sage's own refusals that have
# the same fix. The first rule that matches wins.
RULES = (
    Rule(
        "credentials",
        (msg.CLIENT_NOT_INITIALIZED,),
        "The integration cannot connect to Sage Intacct: the Web Services credentials have "
        "expired or been revoked.",
        (
            "Open the connection (Sage Intacct → Connections) and check its status on the "
            "Settings tab; Test connection says what Sage answers.",
            "If it is disconnected or the sign-in fails, enter the Web Services User "
            "credentials again on the Credentials step.",
            "Verify that the Web Services User is still active in Sage Intacct.",
        ),
        _credentials,
    ),
    Rule(
        "customer",
        (msg.CUSTOMER_NOT_LINKED, "re:Customer '(?P<id>[^']*)' does not exist or is inactive"),
        "The customer on the invoice does not have a matching customer in Sage Intacct.",
        (
            "Open the customer profile and set the External Accounting ID for this subsidiary "
            "to the Customer ID in Sage Intacct.",
            "Or turn on Auto Create Customer in the AR settings: the next export creates it.",
            "With Name Matching Fallback, the name must match the Sage customer's exactly "
            "(case-insensitive); two Sage customers with that name is an error, never a guess.",
        ),
        _customer,
    ),
    Rule(
        "vendor",
        (msg.VENDOR_NOT_LINKED, "re:Vendor '(?P<id>[^']*)' does not exist or is inactive"),
        "Vendor not found for AP bill export: the carrier or driver has no matching vendor in "
        "Sage Intacct.",
        (
            "Set the External Accounting ID on the carrier or driver profile to the Vendor ID "
            "in Sage Intacct.",
            "Or turn on Auto Create Vendor in the AP settings.",
        ),
        _vendor,
    ),
    Rule(
        "revenue_account",
        (msg.MISSING_REVENUE_ACCOUNT,),
        "A line item on the invoice does not have a mapped revenue GL account.",
        (
            "Check the AR mapping for the line's category (linehaul, accessorial, fuel "
            "surcharge, ...): set a specific item mapping or a category default.",
            "If neither exists, set the master default revenue account.",
            "The fallback order is Specific Item Mapping > Category Default > Master Default.",
        ),
        _accounts("ar"),
    ),
    Rule(
        "expense_account",
        (msg.MISSING_EXPENSE_ACCOUNT,),
        "A line item on the bill does not have a mapped expense GL account.",
        (
            "Check the AP mapping for the line's category (linehaul, fuel, tolls, driver pay, "
            "...): set a specific item mapping or a category default.",
            "If neither exists, set the master default expense account.",
            "The fallback order is Specific Item Mapping > Category Default > Master Default.",
        ),
        _accounts("ap"),
    ),
    Rule(
        "dimension",
        (msg.NO_MAPPED_DIMENSION,),
        "Dimensions are configured but none could be resolved for a line item.",
        (
            "On the Dimensions & Custom Fields tab, check that the dimension mappings have values.",
            "Check that the document has the TMS data the mappings read (subsidiary, fleet, "
            "office, driver, truck, trailer, contractor type).",
            "If a dimension is required in Sage but not always available, add a Default value.",
        ),
        _dimensions,
    ),
    Rule(
        "required_custom_field",
        (msg.REQUIRED_CUSTOM_FIELD_MISSING,),
        "A custom field marked as required in Sage has no value in the TMS data.",
        (
            "Check the custom field mapping on the Dimensions & Custom Fields tab.",
            "Give the mapped TMS field a value on this document.",
            "If the field cannot always be filled, make it non-required in Sage Intacct.",
        ),
        _custom_fields,
    ),
    Rule(
        "custom_field_length",
        (msg.CUSTOM_FIELD_TOO_LONG, "re:Value too long"),
        "The TMS value is longer than the Sage custom field's maximum length (AR only).",
        (
            "Shorten the value on the document (e.g. long notes or descriptions).",
            "Or increase the custom field's maximum length in Sage Intacct, then Refresh "
            "from Sage on the connection.",
        ),
        _custom_fields,
    ),
    Rule(
        "term",
        (msg.TERM_NOT_VALID,),
        "The payment term on the document does not exist in Sage Intacct (Net 30 was tried "
        "as well).",
        (
            "Create the missing payment term in Sage Intacct (e.g. Net 45).",
            "Or change the customer's, carrier's or driver's custom term, or the Default "
            "Payment Terms, to a term that exists in Sage.",
        ),
        _terms,
    ),
    Rule(
        "payments_applied",
        (msg.PAYMENTS_MUST_BE_REMOVED,),
        "The document changed, but its Sage invoice has payments applied.",
        (
            "Open the invoice in Sage Intacct and remove or unapply all payments.",
            "Return to Ledgerline and retry the export.",
        ),
        _document_link,
    ),
    Rule(
        "manual_reversal",
        (msg.AP_BILL_MANUAL_REVERSAL, "re:The bill cannot be changed in its current state"),
        "The document changed, but its Sage AP bill is Posted or Selected.",
        (
            "Open the bill in Sage Intacct and reverse it manually (this creates a reversal "
            "entry).",
            "Return to Ledgerline and retry the export: a new bill is created with the updated "
            "data.",
        ),
        _document_link,
    ),
    Rule(
        "gl_account_in_sage",
        ("re:GL account '(?P<account>[^']*)' (does not exist|is inactive)",),
        "Sage Intacct refused a mapped GL account (missing or inactive).",
        (
            "Activate the account in Sage Intacct, or map another account for this category.",
            "Refresh from Sage on the connection, then Sync All.",
        ),
        lambda ctx: _accounts(_side(ctx.document_type))(ctx),
    ),
    Rule(
        "dimension_in_sage",
        (
            "re:Invalid (?P<dimension>Location|Department|Project|Task|Employee|Item|Class|"
            "Contract|Warehouse) '(?P<value>[^']*)' specified",
        ),
        "Sage Intacct does not know a dimension value the document sent.",
        (
            "Map the TMS value to an existing Sage ID, or correct the Default value, on the "
            "Dimensions & Custom Fields tab.",
        ),
        _dimensions,
    ),
    Rule(
        "custom_field_in_sage",
        ("re:Custom field '(?P<name>[^']*)' does not exist",),
        "A mapped custom field does not exist in Sage Intacct.",
        ("Remove or correct the custom field mapping on the Dimensions & Custom Fields tab.",),
        _custom_fields,
    ),
)


def _side(document_type: str) -> str:
    """The export's side of the document type ("ar" for a type it does not know)."""
    return getattr(_kind(document_type), "side", "ar")


def _rule(message: str) -> Rule | None:
    """The first troubleshooting rule whose message `message` is, or None."""
    return next((rule for rule in RULES if rule.matches(message)), None)


def _fix(rule: Rule, ctx: Context) -> Fix:
    return Fix(
        rule.key, rule.problem, rule.steps, tuple(link for link in rule.links(ctx) if link.url)
    )


def _party_of(document):
    for name in PARTY_FIELDS.get(type(document), ()):
        party = getattr(document, name, None)
        if party is not None:
            return party
    return None


def error_transaction_fix(*, error: Error) -> Fix | None:
    """How to fix this error, with links to the page that fixes it; None when the message is
    none the troubleshooting knows (Sage's correction, when it gave one, is on the page)."""
    rule = _rule(error.message)
    if rule is None:
        return None
    connection = m.Connection.objects.filter(subsidiary_id=error.subsidiary_id).first()
    document = _document(error)
    ctx = Context(
        error.subsidiary_id,
        error.document_type,
        error.document_id,
        connection=connection,
        document=document,
        party=_party_of(document) if document is not None else None,
    )
    return _fix(rule, ctx)


def _document(error: Error):
    model = _model(error.document_type)
    if model is None:
        return None
    return (
        model.objects.select_related(*PARTY_FIELDS.get(model, ()))
        .filter(pk=error.document_id)
        .first()
    )


# --- the detail page ---------------------------------------------------------------------------


@dataclass
class Detail:
    fix: Fix | None
    sage_errors: list[dict]
    history: list
    document_url: str
    document_label: str
    retryable: bool
    where_to_retry: str
    where_url: str


def error_transaction_detail(*, error: Error) -> Detail:
    """Everything the detail page shows beyond the row itself."""
    sage_rows = []
    for detail in error.details or []:
        parsed = sage_errors.ErrorDetail(
            **{
                k: detail.get(k) or ""
                for k in ("errorno", "description", "description2", "correction")
            }
        )
        sage_rows.append({**parsed.__dict__, "support_id": parsed.support_id or ""})
    model = _model(error.document_type)
    url, label = "", ""
    if model is not None:
        url = _admin_url(
            f"{model._meta.app_label}_{model._meta.model_name}_change", error.document_id
        )
        label = f"{model._meta.verbose_name.capitalize()} {error.reference}"
    retryable = error_transaction_retryable_here(error=error)
    where, where_url = ("", "") if retryable else error_transaction_where_to_retry(error=error)
    return Detail(
        fix=error_transaction_fix(error=error),
        sage_errors=sage_rows,
        history=list(error.history.select_related("user")),
        document_url=url,
        document_label=label,
        retryable=retryable,
        where_to_retry=where,
        where_url=where_url,
    )


# --- grouped causes ----------------------------------------------------------------------------


@dataclass
class Group:
    """Several failures with one cause, and the one fix."""

    cause: str
    count: int
    subsidiary: str
    fix: Fix | None
    references: list[str]


# Causes whose one fix is on a party's profile: the message alone does not say which party.
PARTY_CAUSES = {"customer", "vendor"}
# Causes whose message names a line: one cause per subsidiary, titled by the problem.
LINE_CAUSES = {"revenue_account", "expense_account", "dimension"}


def error_transactions_group(*, queryset, minimum: int = 2) -> list[Group]:
    """The open failures of `queryset` that share a cause, largest group first.

    A cause is the troubleshooting rule the message matches, per subsidiary, narrowed to the
    customer or vendor for "not linked" failures; a message no rule knows is its own cause
    (without its Support ID). One query for the rows, one for the connections, and one per
    document type with "not linked" failures, whatever the number of rows.
    """
    rows = list(
        queryset.filter(status=Error.Status.FAILED)
        .order_by()
        .values_list(
            "message",
            "subsidiary_id",
            "subsidiary__name",
            "document_type",
            "document_id",
            "reference",
        )
    )
    if len(rows) < minimum:
        return []
    matched = [(row, _rule(row[0])) for row in rows]
    wanted = defaultdict(set)
    for row, rule in matched:
        if rule is not None and rule.key in PARTY_CAUSES:
            wanted[row[3]].add(row[4])
    parties = _parties(wanted)
    buckets: dict[tuple, list] = defaultdict(list)
    for row, rule in matched:
        message, subsidiary_id, _name, document_type, document_id, _reference = row
        if rule is not None and rule.key in PARTY_CAUSES:
            cause = (rule.key, parties.get((document_type, document_id)))
        elif rule is not None and (rule.key in LINE_CAUSES or rule.key == "credentials"):
            cause = (rule.key, None)
        else:
            cause = (rule.key if rule else "", _without_support_id(message))
        buckets[(subsidiary_id, cause)].append((row, rule))
    connections = _connections(row[1] for row in rows)
    groups = []
    for (subsidiary_id, (_key, detail)), members in buckets.items():
        if len(members) < minimum:
            continue
        (message, _s, subsidiary, document_type, document_id, _r), rule = members[0]
        party = detail if rule is not None and rule.key in PARTY_CAUSES else None
        title = rule.problem if rule is not None and rule.key in LINE_CAUSES else message
        title = _without_support_id(title)
        if party is not None:
            title = f"{title} ({party._meta.verbose_name} {party})"
        ctx = Context(
            subsidiary_id,
            document_type,
            document_id,
            connection=connections.get(subsidiary_id),
            party=party,
        )
        groups.append(
            Group(
                cause=title,
                count=len(members),
                subsidiary=subsidiary,
                fix=_fix(rule, ctx) if rule is not None else None,
                references=sorted(member[0][5] for member in members)[:10],
            )
        )
    return sorted(groups, key=lambda g: (-g.count, g.subsidiary, g.cause))


def _without_support_id(message: str) -> str:
    return re.sub(r"\s*\(Sage Support ID: [^)]*\)", "", message or "").strip()


def _parties(wanted: dict[str, set]) -> dict[tuple, object]:
    """(document type, document id) → the document's customer or vendor; one query per type."""
    found = {}
    for document_type, ids in wanted.items():
        model = _model(document_type)
        names = PARTY_FIELDS.get(model, ())
        if not names:
            continue
        for document in model.objects.filter(pk__in=ids).select_related(*names):
            party = _party_of(document)
            if party is not None:
                found[(document_type, document.pk)] = party
    return found


# --- Retry Sync, Sync All, Retry export ----------------------------------------------------------


@dataclass
class RetryReport:
    """What a retry did: how many rows were sent, resolved, still failing and skipped, and why
    each skipped row was skipped."""

    sent: int = 0
    resolved: int = 0
    failed: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped += count
            self.reasons[reason] += count

    @property
    def summary(self) -> str:
        return (
            f"{self.sent} sent, {self.resolved} resolved, {self.failed} still failing, "
            f"{self.skipped} skipped."
        )


def _connections(subsidiary_ids) -> dict[int, m.Connection]:
    return {
        c.subsidiary_id: c
        for c in m.Connection.objects.select_related("subsidiary").filter(
            subsidiary_id__in=set(subsidiary_ids)
        )
    }


def _connection_problem(connection: m.Connection | None, subsidiary) -> str:
    if connection is None:
        return NO_CONNECTION.format(subsidiary=subsidiary)
    if connection.is_syncing:
        return ""
    status = (
        NOT_SYNCING_PRIMARY_OFF
        if connection.status == m.Connection.Status.ACTIVE
        else connection.get_status_display().lower()
    )
    return NOT_SYNCING.format(subsidiary=connection.subsidiary, status=status)


def _retry(
    errors_: list[Error], *, validate: bool, trigger: str, user=None, client=None
) -> RetryReport:
    """Send the rows' documents again through the export, per connection and document type.

    1. Rows already resolved, of a type Retry Sync does not handle, of a type Ledgerline does
       not export, or whose connection is not syncing are skipped with the reason.
    2. With `validate` (Sync All), each document is resolved first without sending; those
       that still need corrections or are no longer ready are skipped with the reason.
    3. The rest go to `export.documents_export(ids=...)`; afterwards each row is resolved,
       still failing (the export recorded a new attempt), or skipped as not sent.
    4. The attempts this made are recorded with the trigger and the user.
    """
    report = RetryReport()
    started = timezone.now()
    connections = _connections(e.subsidiary_id for e in errors_)
    groups: dict[tuple, list[Error]] = defaultdict(list)
    for error in errors_:
        if error.status != Error.Status.FAILED:
            report.skip(ALREADY_RESOLVED)
        elif not error_transaction_retryable_here(error=error):
            report.skip(error_transaction_where_to_retry(error=error)[0])
        elif error.document_type not in _registry():
            report.skip(NOT_EXPORTABLE_YET.format(entity=error.entity_type))
        else:
            groups[(error.subsidiary_id, error.document_type)].append(error)
    attempted: list[Error] = []
    for (subsidiary_id, document_type), members in groups.items():
        connection = connections.get(subsidiary_id)
        problem = _connection_problem(connection, members[0].subsidiary)
        if problem:
            report.skip(problem, len(members))
            continue
        ids = [e.document_id for e in members]
        if validate:
            try:
                problems = export.documents_validate(
                    connection=connection, document_type=document_type, ids=ids, client=client
                )
            except sage_errors.IntacctError as error:
                report.skip(SAGE_UNREADABLE.format(detail=error), len(members))
                continue
            ready = []
            for member in members:
                if member.document_id not in problems:
                    report.skip(NOT_SENT)
                elif problems[member.document_id]:
                    report.skip(NEEDS_CORRECTION.format(problem=problems[member.document_id]))
                else:
                    ready.append(member)
            members = ready
        if not members:
            continue
        summary = export.documents_export(
            connection=connection,
            document_type=document_type,
            ids=[e.document_id for e in members],
            client=client,
        )
        if summary.errors:  # Sage unreachable: nothing was sent
            report.skip(SAGE_UNREADABLE.format(detail=summary.errors[0]), len(members))
            continue
        attempted.extend(members)
    _settle(report, attempted, started, trigger=trigger, user=user)
    return report


def _settle(report: RetryReport, attempted: list[Error], started, *, trigger, user) -> None:
    """Count the attempted rows as resolved, still failing or not sent (three queries)."""
    if not attempted:
        return
    ids = [e.pk for e in attempted]
    tried = Attempt.objects.filter(
        error_id__in=ids, at__gte=started, trigger=Attempt.Trigger.EXPORT
    )
    touched = set(tried.values_list("error_id", flat=True))
    tried.update(trigger=trigger, user=user)
    resolved = set(
        Error.objects.filter(pk__in=ids, status=Error.Status.RESOLVED).values_list("pk", flat=True)
    )
    for error in attempted:
        if error.pk in resolved:
            report.sent += 1
            report.resolved += 1
        elif error.pk in touched:
            report.sent += 1
            report.failed += 1
        else:
            report.skip(NOT_SENT)


def error_transactions_retry(*, errors: Iterable[Error], user=None, client=None) -> RetryReport:
    """Retry Sync: send the selected rows' documents again now (Load, Trip, E-check, Paystub).

    Rows of other types are skipped with where to retry them. Sage's answer is recorded as by
    any export: a success resolves the row, a failure updates its message and history."""
    return _retry(
        list(errors), validate=False, trigger=Attempt.Trigger.RETRY_SYNC, user=user, client=client
    )


def error_transactions_sync_all(
    *, errors: Iterable[Error] | None = None, user=None, client=None
) -> RetryReport:
    """Sync All: every failed row (or `errors`) that Retry Sync handles, re-validated first;
    rows that still need corrections are skipped, and the report says why."""
    if errors is None:
        errors = Error.objects.filter(status=Error.Status.FAILED).select_related("subsidiary")
    return _retry(
        list(errors), validate=True, trigger=Attempt.Trigger.SYNC_ALL, user=user, client=client
    )


@dataclass
class ExportReport:
    """What Retry export on a document page did."""

    exported: int = 0
    failed: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)


def documents_retry_export(
    *, document_type: str, documents: Iterable, user=None, client=None
) -> ExportReport:
    """Retry export from a document's own page (summary invoices, settlements): send the
    selected documents now through the export, per subsidiary.

    A document type Ledgerline does not export yet, or a subsidiary whose connection is not
    syncing, is skipped with the reason; documents not ready to export are counted as skipped.
    """
    report = ExportReport()
    documents = list(documents)
    kind = _registry().get(document_type)
    if kind is None:
        label = getattr(_model(document_type), "_meta", None)
        entity = label.verbose_name if label else document_type.replace("_", " ")
        report.skipped = len(documents)
        report.reasons[NOT_EXPORTABLE_YET.format(entity=entity)] += len(documents)
        return report
    started = timezone.now()
    by_subsidiary = defaultdict(list)
    for document in documents:
        by_subsidiary[document.subsidiary_id].append(document)
    connections = _connections(by_subsidiary)
    for subsidiary_id, members in by_subsidiary.items():
        connection = connections.get(subsidiary_id)
        problem = _connection_problem(connection, members[0].subsidiary)
        if problem:
            report.skipped += len(members)
            report.reasons[problem] += len(members)
            continue
        summary = export.documents_export(
            connection=connection,
            document_type=document_type,
            ids=[d.pk for d in members],
            client=client,
        )
        done = summary.created + summary.updated
        report.exported += done
        report.failed += summary.failed
        if summary.errors:
            report.reasons[SAGE_UNREADABLE.format(detail=summary.errors[0])] += len(members)
        not_sent = max(len(members) - done - summary.failed, 0)
        report.skipped += not_sent
        if not_sent and not summary.errors:
            report.reasons[NOT_SENT] += not_sent
    Attempt.objects.filter(
        error__document_type=document_type,
        error__document_id__in=[d.pk for d in documents],
        at__gte=started,
        trigger=Attempt.Trigger.EXPORT,
    ).update(trigger=Attempt.Trigger.RETRY_EXPORT, user=user)
    return report


# --- Mark as Synced ------------------------------------------------------------------------------


def _sage_object(error: Error) -> str:
    kind = _kind(error.document_type)
    sage_object = getattr(kind, "sage_object", "")
    if sage_object:
        return sage_object
    return "APBILL" if "bill" in error.transaction_type.lower() else "ARINVOICE"


def _controlid_prefix(error: Error) -> str:
    return getattr(_kind(error.document_type), "prefix", "") or f"marked-{error.document_type}"


def _ledger_rows(errors_: list[Error], connections) -> dict[tuple, am.SyncRecord]:
    """The documents' existing ledger rows (role ""), by (connection, type, id); one query."""
    condition = Q(pk__in=[])
    for error in errors_:
        connection = connections.get(error.subsidiary_id)
        if connection is not None:
            condition |= Q(
                connection=connection,
                document_type=error.document_type,
                document_id=error.document_id,
                role="",
            )
    return {
        (r.connection_id, r.document_type, r.document_id): r
        for r in am.SyncRecord.objects.filter(condition)
    }


def _sage_number(error: Error, record: am.SyncRecord | None) -> str:
    if record is not None and record.reference:
        return record.reference
    return f"{error.reference}{getattr(_kind(error.document_type), 'suffix', '')}"


LOOKUP_CHUNK = 100


def _sage_record_nos(errors_, connections, rows, client=None) -> dict[tuple, str]:
    """RECORDNO of each document Sage holds under its number (live, not reversed), by
    (connection, type, id). Best effort: one query per connection, Sage object and 100
    numbers; a connection Sage cannot be read for gives nothing."""
    wanted = defaultdict(dict)  # (connection, sage object) → number → key
    for error in errors_:
        connection = connections.get(error.subsidiary_id)
        if (
            connection is None
            or not connection.password_encrypted
            or not _kind(error.document_type)
        ):
            continue
        key = (connection.pk, error.document_type, error.document_id)
        if rows.get(key) is not None and rows[key].record_no:
            continue
        number = _sage_number(error, rows.get(key))
        wanted[(connection.pk, _sage_object(error))][number] = key
    by_pk = {c.pk: c for c in connections.values()}
    found = {}
    for (connection_pk, sage_object), numbers in wanted.items():
        try:
            reader = client or client_for(by_pk[connection_pk])
            names = list(numbers)
            for start in range(0, len(names), LOOKUP_CHUNK):
                for row in reader.iter_query(
                    sage_object,
                    ["RECORDNO", "RECORDID", "STATE"],
                    filter=SageQ.in_("RECORDID", names[start : start + LOOKUP_CHUNK]),
                ):
                    key = numbers.get(row.get("RECORDID"))
                    if key is not None and row.get("STATE") != "Reversed":
                        found[key] = str(row["RECORDNO"])
        except sage_errors.IntacctError:
            continue
    return found


def error_transactions_mark_synced(*, errors: Iterable[Error], user, client=None) -> int:
    """Mark as Synced: the rows become Resolved, recorded with who and when, and each
    document's ledger row is marked synced so no later export sends it (or reopens the row).
    Cannot be undone. Returns how many rows this resolved (rows already resolved are left
    as they are).

    1. Look each document up in Sage by its number (best effort, before any write): when
       Sage holds it, its RECORDNO goes in the ledger, so payments import for it and a later
       change in the TMS updates or reverses that document instead of creating another.
    2. Claim the failed rows with one conditional update (a row resolved meanwhile is not
       marked twice).
    3. Mark the documents' ledger rows synced, creating those that do not exist yet.
    4. Add "Marked as synced" to each row's history.
    """
    selected = [e for e in errors if e.status == Error.Status.FAILED]
    if not selected:
        return 0
    connections = _connections(e.subsidiary_id for e in selected)
    rows = _ledger_rows(selected, connections)
    record_nos = _sage_record_nos(selected, connections, rows, client=client)
    with transaction.atomic():
        now = timezone.now()
        Error.objects.filter(pk__in=[e.pk for e in selected], status=Error.Status.FAILED).update(
            status=Error.Status.RESOLVED,
            resolution=Error.Resolution.MARKED_SYNCED,
            resolved_by=user,
            resolved_at=now,
        )
        marked = list(
            Error.objects.filter(
                pk__in=[e.pk for e in selected],
                resolution=Error.Resolution.MARKED_SYNCED,
                resolved_by=user,
                resolved_at=now,
            )
        )
        _ledger_mark_synced(marked, connections, rows, record_nos, now)
        Attempt.objects.bulk_create(
            Attempt(
                error=error,
                at=now,
                outcome=Attempt.Outcome.MARKED_SYNCED,
                trigger=Attempt.Trigger.MARK_AS_SYNCED,
                user=user,
                message=f"Marked as synced by {user}",
            )
            for error in marked
        )
    return len(marked)


def _ledger_mark_synced(marked: list[Error], connections, rows, record_nos, now) -> None:
    """The documents' ledger rows (role ""), synced as of `now`, with the RECORDNO found."""
    update, create = [], []
    for error in marked:
        connection = connections.get(error.subsidiary_id)
        if connection is None or not _kind(error.document_type):
            # Never connected, or a kind the export does not send (a voided payment): no
            # ledger row to write, and one keyed by the document's number would shadow the
            # exported document's in the payment import.
            continue
        key = (connection.pk, error.document_type, error.document_id)
        record = rows.get(key)
        if record is None:
            record = am.SyncRecord(
                connection=connection,
                document_type=error.document_type,
                document_id=error.document_id,
                reference=_sage_number(error, None),
                sage_object=_sage_object(error),
                controlid=f"{_controlid_prefix(error)}-{error.document_id}-marked-synced",
            )
            create.append(record)
        else:
            update.append(record)
        record.state, record.synced_at, record.claimed_by = am.SyncRecord.State.SYNCED, now, ""
        record.record_no = record.record_no or record_nos.get(key, "")
    if update:
        am.SyncRecord.objects.bulk_update(update, ["state", "synced_at", "claimed_by", "record_no"])
    if create:
        am.SyncRecord.objects.bulk_create(create, ignore_conflicts=True)
