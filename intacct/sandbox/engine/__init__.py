"""The sandbox's engine: what Sage does with each function of a request.

Each handler takes the request context and the function's body (as parsed by xmltodict) and
returns a `Reply` (records for `<data>`, or a legacy `<key>`), or raises SageFault. The modules
follow Sage's object families; this package gives the gateway its table of functions, and the
gateway, the console services and the tests the few names they use.
"""

from .context import Context
from .describe import inspect, lookup
from .documents import DRAFT, POSTED, SELECTED, refresh_state, reverse_document
from .invoices import create_invoice, delete_invoice, update_invoice
from .objects import create, delete, update
from .payments import COMPLETED, payment_apply, payment_void
from .reads import query, read, read_by_name, read_by_query, read_more
from .records import save
from .sessions import SESSION_MINUTES, get_api_session, session_touch
from .values import listed, money, text, timestamp, us_date

HANDLERS = {
    "getAPISession": get_api_session,
    "read": read,
    "readByName": read_by_name,
    "readByQuery": read_by_query,
    "readMore": read_more,
    "query": query,
    "lookup": lookup,
    "inspect": inspect,
    "create": create,
    "update": update,
    "delete": delete,
    "create_invoice": create_invoice,
    "update_invoice": update_invoice,
    "reverse_invoice": lambda ctx, body: reverse_document(ctx, body, "ARINVOICE"),
    "reverse_bill": lambda ctx, body: reverse_document(ctx, body, "APBILL"),
    "delete_invoice": delete_invoice,
}
WRITES = {
    "create",
    "update",
    "delete",
    "create_invoice",
    "update_invoice",
    "reverse_invoice",
    "reverse_bill",
    "delete_invoice",
}

# What the gateway, the console services, the tests and the benchmarks use besides the table.
__all__ = [
    "COMPLETED",
    "DRAFT",
    "HANDLERS",
    "POSTED",
    "SELECTED",
    "SESSION_MINUTES",
    "WRITES",
    "Context",
    "listed",
    "money",
    "payment_apply",
    "payment_void",
    "refresh_state",
    "reverse_document",
    "save",
    "session_touch",
    "text",
    "timestamp",
    "us_date",
]
