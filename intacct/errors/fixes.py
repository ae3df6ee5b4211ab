"""How to fix each failure: one rule per troubleshooting message of the seeds, with links to
the page that fixes it, and everything the detail page shows beyond the row itself."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from accounting import models as am
from intacct import messages as msg
from intacct.client import errors as sage_errors
from intacct.connections import models as m

from . import drift
from .kinds import (
    PARTY_FIELDS,
    admin_url,
    document_kind,
    document_model,
    error_transaction_retryable_here,
    error_transaction_where_to_retry,
)

Error = am.ErrorTransaction
Attempt = am.ErrorAttempt

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
        return Link("Sage Intacct connections", admin_url("intacct_connection_changelist"))
    url = admin_url(name, ctx.connection.pk)
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
    url = admin_url(f"accounting_{name}_change", party.pk)
    return [Link(f"{party} ({name} profile): External Accounting ID", f"{url}#external_ids-group")]


def _customer(ctx):
    return [
        *_party_link(ctx),
        _connection_link(ctx, "intacct_wizard_ar", "AR Settings: Auto Create Customer"),
    ]


def _vendor(ctx):
    return [
        *_party_link(ctx),
        _connection_link(ctx, "intacct_wizard_ap", "AP Settings: Auto Create Vendor"),
    ]


def _accounts(side):
    step, label = ("intacct_wizard_ar", "AR") if side == "ar" else ("intacct_wizard_ap", "AP")

    def links(ctx):
        mappings = admin_url("intacct_accountmapping_changelist")
        result = [_connection_link(ctx, step, f"{label} settings: master and category defaults")]
        if ctx.connection is not None:
            query = f"?connection__id__exact={ctx.connection.pk}&side__exact={side}"
            result.append(Link("Account Mappings (specific items)", mappings + query))
        return result

    return links


def _document_link(ctx):
    model = type(ctx.document) if ctx.document is not None else document_model(ctx.document_type)
    if model is None:
        return []
    url = admin_url(f"{model._meta.app_label}_{model._meta.model_name}_change", ctx.document_id)
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
            "Or turn on Auto Create Customer in the AR Settings: the next export creates it.",
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
            "Or turn on Auto Create Vendor in the AP Settings.",
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
        "The document changed or was removed, but its Sage invoice or bill has payments applied.",
        (
            "Open the transaction in Sage Intacct and remove or unapply all payments from the "
            "invoice or bill.",
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


# --- drift found by Reconcile with Sage (messages in `drift`) ----------------------------------


def _reconcile(ctx):
    return [
        _connection_link(ctx, "intacct_reconcile", "Reconcile with Sage"),
        *_document_link(ctx),
    ]


DRIFT_RULES = tuple(
    Rule(key, (message,), problem, steps, _reconcile)
    for key, message, problem, steps in drift.RULES
)


def _side(document_type: str) -> str:
    """The export's side of the document type ("ar" for a type it does not know)."""
    return getattr(document_kind(document_type), "side", "ar")


def rule_for(message: str) -> Rule | None:
    """The first troubleshooting rule whose message `message` is, or None."""
    return next((rule for rule in (*RULES, *DRIFT_RULES) if rule.matches(message)), None)


def fix_for(rule: Rule, ctx: Context) -> Fix:
    return Fix(
        rule.key, rule.problem, rule.steps, tuple(link for link in rule.links(ctx) if link.url)
    )


def party_of(document):
    for name in PARTY_FIELDS.get(type(document), ()):
        party = getattr(document, name, None)
        if party is not None:
            return party
    return None


def error_transaction_fix(*, error: Error) -> Fix | None:
    """How to fix this error, with links to the page that fixes it; None when the message is
    none the troubleshooting knows (Sage's correction, when it gave one, is on the page)."""
    rule = rule_for(error.message)
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
        party=party_of(document) if document is not None else None,
    )
    return fix_for(rule, ctx)


def _document(error: Error):
    model = document_model(error.document_type)
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
    model = document_model(error.document_type)
    url, label = "", ""
    if model is not None:
        url = admin_url(
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
