"""What the Error Transactions page knows of each document type: its model, who it is
addressed to, and where a row that Retry Sync does not handle is retried instead."""

from django.urls import NoReverseMatch, reverse

from accounting import models as am
from intacct import export

from . import drift

Error = am.ErrorTransaction
Attempt = am.ErrorAttempt


# --- messages people see -------------------------------------------------------------------

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
    "payment in Sage Intacct (the import marked it voided here; an imported payment is "
    "read-only), correct its document here if needed, then use Mark as Synced."
)


# The Entity Type column in the seeds' words (article 6, "The Error Transactions page includes
# the following columns"). Rows stored before these names keep their old entity type; they are
# shown under the seeds' name too.
ENTITY_TYPE_LABELS = {
    "accounting invoice": "Accounting Invoice (same as a summary invoice)",
    "summary invoice": "Accounting Invoice (same as a summary invoice)",
    "driver settlement": "Driver Statement",
}


def entity_type_label(entity_type: str) -> str:
    """The Entity Type as the Error Transactions page shows it."""
    return ENTITY_TYPE_LABELS.get(entity_type.lower(), entity_type)


# --- document types ------------------------------------------------------------------------------


def document_kinds() -> dict:
    """The document types the export knows, by name (a type not in it is not exported yet)."""
    return export.DOCUMENT_TYPES


def document_kind(document_type: str):
    """The export's description of a document type (sage_object, prefix, ...), or None."""
    return document_kinds().get(document_type)


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


def document_model(document_type: str):
    return getattr(document_kinds().get(document_type), "model", None) or DOCUMENT_MODELS.get(
        document_type
    )


def admin_url(name: str, *args) -> str:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def error_transaction_is_drift(*, error: Error) -> bool:
    """Whether Reconcile with Sage opened this row (drift, not a failed export)."""
    details = error.details or []
    return bool(details) and (details[0] or {}).get("description") == drift.DRIFT_DESCRIPTION


def error_transaction_retryable_here(*, error: Error) -> bool:
    """Whether Retry Sync / Sync All may send this row (Load, Trip, E-check, Paystub; never
    drift, which re-sending does not change)."""
    if error_transaction_is_drift(error=error):
        return False
    return error.entity_type.lower() in {e.lower() for e in RETRYABLE_ENTITY_TYPES}


def error_transaction_where_to_retry(*, error: Error) -> tuple[str, str]:
    """For a row Retry Sync does not handle: the sentence saying where it is retried, and
    the URL of that page ("" when there is none)."""
    if error_transaction_is_drift(error=error):
        return drift.NOT_RETRYABLE, admin_url("intacct_connection_changelist")
    if error.document_type == "payment":
        return PAYMENT_NOT_RETRYABLE, admin_url("accounting_payment_change", error.document_id)
    page, url_name, own_action = ELSEWHERE.get(
        error.entity_type.lower(), (error.entity_type.lower(), "", False)
    )
    where = (WHERE_OWN_PAGE if own_action else WHERE_NEXT_RUN).format(page=page)
    url = admin_url(f"{url_name}_changelist") if url_name else ""
    return NOT_RETRYABLE_HERE.format(entity=error.entity_type, where=where), url
