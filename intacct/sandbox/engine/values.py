"""Values as Sage writes them: amounts, dates, the text of parsed XML, required elements."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .. import errors as e

CENT = Decimal("0.01")


def money(value, what: str) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError):
        raise e.fault("Invalid amount", f"'{value}' is not a valid amount for {what}.") from None


def us_date(value: dt.date) -> str:
    return value.strftime("%m/%d/%Y")


def timestamp(value: dt.datetime) -> str:
    return value.strftime("%m/%d/%Y %H:%M:%S")


def parse_us_date(text, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(str(text).strip(), "%m/%d/%Y").date()
    except (ValueError, TypeError):
        raise e.fault(
            "Invalid date", f"'{text}' is not a valid date for {what} (mm/dd/yyyy)."
        ) from None


def legacy_date(node, what: str) -> dt.date:
    try:
        return dt.date(int(node["year"]), int(node["month"]), int(node["day"]))
    except (KeyError, TypeError, ValueError):
        raise e.fault("Invalid date", f"{what} needs <year>, <month> and <day>.") from None


def listed(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return value.get("#text", "") or ""
    return str(value)


def required(body: dict, name: str, function: str) -> str:
    value = text(body.get(name)) if isinstance(body, dict) else ""
    if not value:
        raise e.fault(
            "Missing required element", f"<{name}> is required in <{function}>.", f"Add <{name}>."
        )
    return value
