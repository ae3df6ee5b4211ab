"""Sage Intacct XML Web Services client (API v3.0). Plain Python, no Django.

    from intacct.client import IntacctClient, Credentials, SenderCredentials, functions as fn

    client = IntacctClient(endpoint_url=url, sender=SenderCredentials(sid, spw),
                           credentials=Credentials(company, user, password, location_id="E100"))
    results = client.execute([fn.create("APBILL", {...}, controlid="bill-TR-1-v1"), ...])
    for customer in client.iter_query("CUSTOMER", ["CUSTOMERID", "NAME"]): ...

Errors are typed (see `errors`): AuthenticationError and its kinds, PermissionDeniedError,
BusinessError, DuplicateControlIdError, TransientError (NetworkError, ServerError,
RateLimitError), OutcomeUnknownError, ResponseFormatError.
"""

from . import errors, functions, terms
from .client import IntacctClient
from .functions import InvoiceLine, Q
from .types import (
    AuditRecord,
    Credentials,
    FieldDefinition,
    ObjectDefinition,
    Result,
    SenderCredentials,
    Session,
)
from .wire import convert, to_date, to_decimal

__all__ = [
    "AuditRecord",
    "Credentials",
    "FieldDefinition",
    "IntacctClient",
    "InvoiceLine",
    "ObjectDefinition",
    "Q",
    "Result",
    "SenderCredentials",
    "Session",
    "convert",
    "errors",
    "functions",
    "terms",
    "to_date",
    "to_decimal",
]
