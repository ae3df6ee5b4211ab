"""Reading Sage's side: every AR invoice and AP bill of the connection's entity, in pages of
readByQuery and readMore, so requests grow with documents / page size, never per document."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from intacct.client import functions as fn
from intacct.client import to_date, to_decimal

PAGE_SIZE = fn.MAX_READ_BY_QUERY_PAGE  # 1000: readByQuery's largest page (DOCS queries.md)

# ARINVOICE / APBILL read fields: FYLE sageintacctsdk apis/constants.py (reference
# intacct-xml-api.md "ARINVOICE read fields"); the sandbox refuses any field Sage lacks.
PARTY_FIELD = {"ARINVOICE": "CUSTOMERID", "APBILL": "VENDORID"}
FIELDS = (
    "RECORDNO",
    "RECORDID",
    "STATE",
    "WHENCREATED",
    "WHENDUE",
    "TOTALENTERED",
    "TOTALPAID",
    "TOTALDUE",
)
OBJECTS = ("ARINVOICE", "APBILL")
LABELS = {"ARINVOICE": "AR invoice", "APBILL": "AP bill"}

# Document states readByQuery returns: Reversed for a reversed document, Reversal for the entry
# a reversal creates (Sage help, AP "bill-state-descriptions" and AR "draft-payments"; reference
# intacct-xml-api.md "States").
REVERSED, REVERSAL = "Reversed", "Reversal"


@dataclass(frozen=True)
class SageDocument:
    """One AR invoice or AP bill as Sage shows it."""

    object: str
    record_no: str
    number: str  # RECORDID: the document number the export sent
    state: str
    party: str
    date: dt.date | None
    due: dt.date | None
    total: Decimal
    paid: Decimal
    left_to_pay: Decimal

    @property
    def reversed(self) -> bool:
        return self.state == REVERSED

    @property
    def reversal(self) -> bool:
        return self.state == REVERSAL

    @property
    def fully_paid(self) -> bool:
        """Nothing left to pay and something paid (the payment import's own test)."""
        return self.left_to_pay <= 0 and self.paid > 0

    @property
    def label(self) -> str:
        return f"{LABELS[self.object]} {self.number or '(no number)'} (RECORDNO {self.record_no})"


def _document(object: str, row: dict) -> SageDocument:
    return SageDocument(
        object=object,
        record_no=str(row.get("RECORDNO") or ""),
        number=str(row.get("RECORDID") or ""),
        state=str(row.get("STATE") or ""),
        party=str(row.get(PARTY_FIELD[object]) or ""),
        date=to_date(row.get("WHENCREATED")),
        due=to_date(row.get("WHENDUE")),
        total=to_decimal(row.get("TOTALENTERED")) or Decimal(0),
        paid=to_decimal(row.get("TOTALPAID")) or Decimal(0),
        left_to_pay=to_decimal(row.get("TOTALDUE")) or Decimal(0),
    )


def sage_documents_read(client, *, page_size: int = PAGE_SIZE) -> Iterator[SageDocument]:
    """Every AR invoice and AP bill the client's entity holds: one readByQuery per object, then
    readMore until nothing remains (an empty query reads all; DOCS queries.md)."""
    for object in OBJECTS:
        for row in client.iter_read_by_query(
            object, "", fields=[*FIELDS, PARTY_FIELD[object]], page_size=page_size
        ):
            yield _document(object, row)
