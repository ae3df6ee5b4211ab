"""Drift: what Reconcile with Sage finds changed in Sage Intacct behind the TMS's back, as the
Error Transactions page shows it. The messages are the report's (intacct.reconcile formats
them); `fixes` turns each into a fix with a link to the connection's Reconcile with Sage page.

A drift row is an ordinary Error Transaction whose first detail's description is
`DRIFT_DESCRIPTION`: the reconcile opens one per affected document and closes it (resolution
"In agreement with Sage") once a later reconcile no longer finds the drift.
"""

DRIFT_DESCRIPTION = "Found by Reconcile with Sage"

# Document types of the Error Transactions opened for Sage documents the TMS has no document
# for (their document id is Sage's RECORDNO).
SAGE_DOCUMENT_TYPES = {"ARINVOICE": "sage_arinvoice", "APBILL": "sage_apbill"}
SAGE_ENTITY_TYPES = {"ARINVOICE": "Sage invoice", "APBILL": "Sage bill"}

# One message per kind of drift; {label} is "AR invoice L-1001 (RECORDNO 812)".
UNLINKED = (
    "{label} is in Sage Intacct but not linked to {document} in the ledger, so the TMS "
    "may send it again. Use Link on the Reconcile with Sage page if it is this document; "
    "otherwise delete or reverse it in Sage."
)
MISSING = (
    "{label} was exported for {document} but is no longer in Sage Intacct (deleted there). "
    "If it should still be billed, create it again in Sage or change {document} so the next "
    "export sends a new version; otherwise remove {document} from billing in the TMS."
)
REVERSED = (
    "{label} was reversed in Sage Intacct, but {document} still bills it in the TMS. Reverse "
    "or remove {document} in the TMS too, or change it so the next export sends a new version."
)
DIFFERS = (
    "{label} differs from {document}: {differences}. Correct the document in Sage Intacct, or "
    "change {document} in the TMS so the next export updates Sage."
)
PAID = (
    "{label} is paid in full in Sage Intacct, but {document} is not {closed} in the TMS. Use "
    "Import payments on the Reconcile with Sage page to bring the payments in."
)
FOREIGN = (
    "{label} carries the Ledgerline number of {document}, but Ledgerline did not export it "
    "(created by hand in Sage, or a copy). Delete or reverse it in Sage Intacct if it "
    "duplicates {document}; if it is the one Sage document for {document}, reverse it and let "
    "the export send {document}."
)

# What `DIFFERS` lists, one phrase per field.
DIFFERENCE = "{field} is {sage} in Sage, {tms} in the TMS"
DIFFERENCE_FIELDS = {
    "party": "the customer or vendor",
    "total": "the total",
    "date": "the date",
    "due": "the due date",
}

# Where a drift row is handled instead of Retry Sync (kinds.error_transaction_where_to_retry).
NOT_RETRYABLE = (
    "Found by Reconcile with Sage: re-syncing does not change Sage. Follow the fix below, then "
    "run Reconcile with Sage again on the connection; it closes this error once the TMS and "
    "Sage agree."
)

# (key, message, problem, steps) for the fix rules (fixes.DRIFT_RULES).
RULES = (
    (
        "drift_unlinked",
        UNLINKED,
        "Sage Intacct has the document, but the ledger does not know it (its answer was lost, "
        "or it was created by hand with the TMS number).",
        (
            "Open Reconcile with Sage on the connection and compare the Sage document's "
            "customer or vendor, date and total with the TMS document.",
            "If it is the same document, click Link: the ledger records it and the TMS never "
            "sends it again.",
            "If it is not, delete or reverse it in Sage Intacct, then run the reconcile again.",
        ),
    ),
    (
        "drift_missing",
        MISSING,
        "The Sage document was deleted in Sage Intacct after the export.",
        (
            "Ask who deleted it in Sage Intacct and whether the document should still be billed.",
            "If it should, change the TMS document (or create it again in Sage and Link it "
            "from Reconcile with Sage).",
            "Run Reconcile with Sage again: this error closes when both agree.",
        ),
    ),
    (
        "drift_reversed",
        REVERSED,
        "The Sage document was reversed in Sage Intacct after the export.",
        (
            "Check with the accountant why it was reversed.",
            "Reverse or remove the document in the TMS as well, or change it so the next "
            "export sends a new version.",
            "Run Reconcile with Sage again: this error closes when both agree.",
        ),
    ),
    (
        "drift_differs",
        DIFFERS,
        "The Sage document was edited in Sage Intacct: its customer or vendor, date or total "
        "is no longer what the TMS exported.",
        (
            "Decide which side is right.",
            "If the TMS is right, correct the document in Sage Intacct.",
            "If Sage is right, change the TMS document; the next export updates Sage (or says "
            "why it cannot).",
            "Run Reconcile with Sage again: this error closes when both agree.",
        ),
    ),
    (
        "drift_paid",
        PAID,
        "Payments were recorded in Sage Intacct that the TMS has not imported.",
        (
            "Open Reconcile with Sage on the connection and click Import payments: it imports "
            "the payments recorded since the oldest such document, then reconciles again.",
            "If the document stays open, check the payment import log for the reason.",
        ),
    ),
    (
        "drift_foreign",
        FOREIGN,
        "A Sage document carries a TMS document number, but Ledgerline never exported it.",
        (
            "Open it in Sage Intacct and find out who created it.",
            "Delete or reverse it in Sage if it duplicates the TMS document.",
            "Run Reconcile with Sage again: this error closes when it is gone.",
        ),
    ),
)
