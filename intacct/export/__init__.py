"""Export to Sage Intacct: TMS documents become AR invoices and AP bills.

Data flows one way through the package: `documents` (which TMS documents are ready, how each
reads as a `Draft`) → `resolution` (party, GL account, dimensions, custom fields, terms, in one
place) → `payloads` (the pure builder of the Sage function) → `services` (batched, idempotent
send) → `ledger` and `outcomes` (the sync ledger row, or an Error Transaction); `changes` holds
the flows for documents changed or removed after export, `preview` shows a payload unsent.

Imports: `accounting` (the TMS), `intacct.connections` (settings, mappings, the client factory),
`intacct.client`, `intacct.messages`; never `intacct.payments` or `intacct.errors`.
"""

from .documents import DOCUMENT_TYPES, DocumentType
from .ledger import CLAIM_LEASE, controlid_new
from .preview import Preview, document_previews
from .resolution import ExportError, RunData, run_data
from .run import ExportSummary, document_function
from .services import (
    connection_export,
    documents_eligible,
    documents_export,
    documents_validate,
    loads_export,
    trips_export,
)

__all__ = [
    "CLAIM_LEASE",
    "DOCUMENT_TYPES",
    "DocumentType",
    "ExportError",
    "ExportSummary",
    "Preview",
    "RunData",
    "connection_export",
    "controlid_new",
    "document_function",
    "document_previews",
    "documents_eligible",
    "documents_export",
    "documents_validate",
    "loads_export",
    "run_data",
    "trips_export",
]
