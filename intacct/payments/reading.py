"""Reading payments from Sage Intacct: the AR and AP payment objects and their detail lines,
the window filter, and which documents Sage shows fully paid. Requests per run do not grow with
each payment: reads are paged, and keys go in chunks of `KEYS_PER_QUERY` per filter."""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounting import models as am
from intacct.client import Q as SageQ
from intacct.client import functions as fn
from intacct.client import to_date, to_decimal

Method = am.Payment.Method

PAGE_SIZE = fn.MAX_QUERY_PAGE
KEYS_PER_QUERY = 500  # values in one <in> filter
# Sage's timestamps carry no time zone: a day of margin on the filter covers any company's clock.
SAGE_CLOCK_MARGIN = dt.timedelta(days=1)
VOIDED_STATES = frozenset({"V", "VOIDED", "VOID", "REVERSED"})
COMPLETED_STATES = frozenset({"C", "COMPLETE", "COMPLETED", "POSTED", "CONFIRMED", "PAID"})
METHODS = {  # Sage PAYMENTMETHOD (AR and AP lists), upper case → ours
    "PRINTED CHECK": Method.CHECK,
    "JOINT CHECK": Method.CHECK,
    "CHECK DELIVERY": Method.CHECK,
    "WF CHECK": Method.CHECK,
    "MANUAL CHECK": Method.CHECK,
    "CHECK": Method.CHECK,
    "CREDIT CARD": Method.CREDIT_CARD,
    "ONLINE CHARGE CARD": Method.CREDIT_CARD,
    "CHARGE CARD": Method.CREDIT_CARD,
    "EFT": Method.EFT,
    "ACH": Method.ACH,
    "ONLINE ACH DEBIT": Method.ACH,
    "WF DOMESTIC ACH": Method.ACH,
    "CASH": Method.CASH,
    "WF USD WIRE": Method.WIRE,
    "WIRE": Method.WIRE,
}


@dataclass(frozen=True)
class Side:
    """AR (customer payments on invoices) or AP (vendor payments on bills)."""

    label: str
    payment_object: str
    detail_object: str
    document_object: str
    transaction_type: str
    payment_fields: tuple[str, ...]
    date_fields: tuple[str, ...]  # the header's dates, best first, when a detail has none


AR = Side(
    "AR",
    "ARPYMT",
    "ARPYMTDETAIL",
    "ARINVOICE",
    "Customer Payment",
    (
        "RECORDNO",
        "RECORDID",
        "STATE",
        "RAWSTATE",
        "PAYMENTMETHOD",
        "CUSTOMERID",
        "DOCNUMBER",
        "DESCRIPTION",
        "RECEIPTDATE",
        "WHENPAID",
        "WHENCREATED",
        "WHENMODIFIED",
    ),
    ("RECEIPTDATE", "WHENPAID", "WHENCREATED"),
)


AP = Side(
    "AP",
    "APPYMT",
    "APPYMTDETAIL",
    "APBILL",
    "Vendor Payment",
    (
        "RECORDNO",
        "RECORDID",
        "STATE",
        "RAWSTATE",
        "PAYMENTMETHOD",
        "VENDORID",
        "DOCNUMBER",
        "DESCRIPTION",
        "WHENPAID",
        "WHENCREATED",
        "WHENMODIFIED",
    ),
    ("WHENPAID", "WHENCREATED"),
)


SIDES = (AR, AP)


DETAIL_FIELDS = (
    "RECORDNO",
    "RECORDKEY",
    "PAYMENTKEY",
    "PAYMENTDATE",
    "PAYMENTAMOUNT",
    "TRX_PAYMENTAMOUNT",
    "STATE",
)


@dataclass
class Line:
    """One Sage payment detail (the amount applied to one document) with its payment."""

    side: Side
    payment: dict
    detail: dict

    @property
    def detail_id(self) -> str:
        return str(self.detail.get("RECORDNO") or "")

    @property
    def payment_id(self) -> str:
        return str(self.detail.get("PAYMENTKEY") or self.payment.get("RECORDNO") or "")

    @property
    def document_key(self) -> str:
        return str(self.detail.get("RECORDKEY") or "")

    @property
    def state(self) -> str:
        return str(self.payment.get("STATE") or self.payment.get("RAWSTATE") or "").upper()

    @property
    def voided(self) -> bool:
        detail_state = str(self.detail.get("STATE") or "").upper()
        return self.state in VOIDED_STATES or detail_state in VOIDED_STATES

    @property
    def completed(self) -> bool:
        return self.state in COMPLETED_STATES

    @property
    def amount(self) -> Decimal:
        value = to_decimal(self.detail.get("TRX_PAYMENTAMOUNT")) or to_decimal(
            self.detail.get("PAYMENTAMOUNT")
        )
        return am.money(value or 0)

    @property
    def method(self) -> str:
        return METHODS.get(str(self.payment.get("PAYMENTMETHOD") or "").strip().upper(), "other")

    @property
    def paid_on(self) -> dt.date:
        for value in (
            self.detail.get("PAYMENTDATE"),
            *(self.payment.get(f) for f in self.side.date_fields),
        ):
            try:
                date = to_date(value)
            except ValueError:
                continue
            if date:
                return date
        return timezone.localdate()

    @property
    def check_number(self) -> str:
        if self.method != Method.CHECK:
            return ""
        return str(self.payment.get("DOCNUMBER") or "")[:40]

    @property
    def note(self) -> str:
        return str(self.payment.get("DESCRIPTION") or "")

    @property
    def reference(self) -> str:
        """The Sage payment reference (document number), else its payment number or RECORDNO."""
        return str(self.payment.get("DOCNUMBER") or self.payment.get("RECORDID") or self.payment_id)


def _us_date(value: dt.date) -> str:
    return value.strftime("%m/%d/%Y")


def window_filter(since: dt.datetime, until: dt.datetime | None):
    """WHENMODIFIED in the window, by whole days with a day of margin (runs overlap on
    purpose; duplicates are recognized by their detail ID)."""
    conditions = [
        SageQ.greaterthanorequalto(
            "WHENMODIFIED", _us_date(timezone.localdate(since - SAGE_CLOCK_MARGIN))
        )
    ]
    if until is not None:
        conditions.append(
            SageQ.lessthan("WHENMODIFIED", _us_date(timezone.localdate(until + SAGE_CLOCK_MARGIN)))
        )
    return SageQ.and_(*conditions)


def chunks(values: list, size: int = KEYS_PER_QUERY) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def lines_read(client, side: Side, window, page_size: int) -> Iterator[Line]:
    """The side's payments modified in the window and their details, as Sage pages them.

    A generator holding one page of payments and the details of `KEYS_PER_QUERY` of them at a
    time, so memory does not grow with the window (the caller stages what it needs)."""
    payments = client.iter_query(
        side.payment_object,
        side.payment_fields,
        filter=window,
        orderby=["RECORDNO"],
        page_size=page_size,
    )
    yield from details_read(client, side, payments, page_size)


def details_read(client, side: Side, payments: Iterable[dict], page_size: int) -> Iterator[Line]:
    """The detail lines of `payments` (Sage payment records, any number), read for
    `KEYS_PER_QUERY` payments at a time."""
    for chunk in chunks_of(payments, KEYS_PER_QUERY):
        by_key = {str(p["RECORDNO"]): p for p in chunk}
        for detail in client.iter_query(
            side.detail_object,
            DETAIL_FIELDS,
            filter=SageQ.in_("PAYMENTKEY", sorted(by_key, key=sage_number_key)),
            orderby=["RECORDNO"],
            page_size=page_size,
        ):
            yield Line(side, by_key.get(str(detail.get("PAYMENTKEY")), {}), detail)


def chunks_of(values: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items from any iterable (the last one shorter), read lazily."""
    chunk = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def sage_number_key(value: str):
    return (0, int(value)) if str(value).isdigit() else (1, str(value))


def fully_paid_read(client, side: Side, keys: Iterable[str], page_size: int) -> set[str]:
    """RECORDNOs among `keys` whose Sage document has nothing left to pay."""
    paid = set()
    for chunk in chunks(sorted(set(keys), key=sage_number_key)):
        for row in client.iter_query(
            side.document_object,
            ["RECORDNO", "STATE", "TOTALPAID", "TOTALDUE"],
            filter=SageQ.in_("RECORDNO", chunk),
            page_size=page_size,
        ):
            due, total_paid = to_decimal(row.get("TOTALDUE")), to_decimal(row.get("TOTALPAID"))
            if due is not None and due <= 0 and total_paid and total_paid > 0:
                paid.add(str(row["RECORDNO"]))
    return paid
