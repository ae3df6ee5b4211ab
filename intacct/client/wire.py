"""XML on the wire: building elements with escaping, values in Sage's formats, safe parsing."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import xmltodict

from .errors import ResponseFormatError
from .redaction import SECRET_TAGS

CENT = Decimal("0.01")
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- values ---------------------------------------------------------------------------------


def amount(value) -> str:
    """A money amount as Sage wants it: 2 decimals, half up, no thousands separator."""
    if isinstance(value, float):
        raise TypeError("Amounts must be Decimal or str, never float.")
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def us_date(value: dt.date) -> str:
    """Generic objects' date format, mm/dd/yyyy."""
    return value.strftime("%m/%d/%Y")


def to_decimal(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a number.") from None


def to_date(value: str | None) -> dt.date | None:
    """Parse mm/dd/yyyy (optionally with a time) or yyyy-mm-dd; None for empty."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    candidates = ((text.split(" ")[0], "%m/%d/%Y"), (text.split("T")[0], "%Y-%m-%d"))
    for candidate, fmt in candidates:
        try:
            return dt.datetime.strptime(candidate, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{value}' is not a date Sage uses (mm/dd/yyyy).")


def convert(record: dict, schema: Mapping[str, Callable[[str | None], object]]) -> dict:
    """A copy of `record` whose leaves named in `schema` are converted by the caller's
    converter (e.g. {"TOTALDUE": to_decimal, "WHENDUE": to_date}); other leaves stay text.

    Raises ValueError naming the field when a value does not convert. Never produces floats:
    use to_decimal for amounts.
    """
    converted = dict(record)
    for name, converter in schema.items():
        if name not in record:
            continue
        try:
            converted[name] = converter(text_of(record[name]) or None)
        except ValueError as exc:
            raise ValueError(f"Sage field {name}: {exc}") from None
    return converted


def _text(value, *, secret: bool = False) -> str:
    """`value` as XML text; a `secret` one is never quoted in an error (errors reach logs)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return amount(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%m/%d/%Y %H:%M:%S")
    if isinstance(value, dt.date):
        return us_date(value)
    if isinstance(value, float):
        raise TypeError("Values must not be float: use Decimal.")
    text = str(value)
    if _NOT_XML_CHAR.search(text):
        shown = "A secret value" if secret else f"The text {text[:40]!r}"
        raise ValueError(
            f"{shown} contains a control character that XML cannot carry: "
            "remove it from the TMS record."
        )
    return text


# --- building -------------------------------------------------------------------------------


def element(tag: str, value=None, **attrs) -> ET.Element:
    """An element; `value` may be text, a child element, a list of children, or a mapping.

    Mappings keep their order (Sage checks element order); a list value under a mapping key
    repeats that key; None values are skipped. ElementTree escapes every text and attribute.
    """
    node = ET.Element(tag, {k: _text(v) for k, v in attrs.items() if v is not None})
    _fill(node, value)
    return node


def _fill(node: ET.Element, value) -> None:
    if value is None:
        return
    if isinstance(value, ET.Element):
        node.append(value)
    elif isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                continue
            for item in child if isinstance(child, list) else [child]:
                node.append(element(key, item))
    elif isinstance(value, list | tuple):
        for child in value:
            if child is not None:
                _fill(node, child)
    else:
        node.text = _text(value, secret=node.tag in SECRET_TAGS)


def legacy_date(tag: str, value: dt.date) -> ET.Element:
    """A legacy function date: <tag><year/><month/><day/></tag>."""
    return element(
        tag, {"year": f"{value.year:04d}", "month": f"{value.month:02d}", "day": f"{value.day:02d}"}
    )


def to_bytes(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )


# --- parsing --------------------------------------------------------------------------------


def parse(body: bytes, *, http_status: int | None = None) -> dict:
    """Parse a response safely. Raises ResponseFormatError naming the HTTP status."""
    status = f"HTTP {http_status}" if http_status else "the response"
    if _DECLARATION.search(body[:4096]) or _DECLARATION.search(body):
        raise ResponseFormatError(
            f"Sage Intacct's answer ({status}) declares a DOCTYPE or entities; it was rejected "
            "unread.",
            http_status=http_status,
        )
    if not body.strip():
        raise ResponseFormatError(
            f"Sage Intacct's answer ({status}) was empty.", http_status=http_status
        )
    try:
        return xmltodict.parse(body, disable_entities=True)
    except Exception as exc:  # expat raises several types; all mean the same to the caller
        snippet = body[:80].decode("utf-8", "replace").replace("\n", " ")
        raise ResponseFormatError(
            f"Sage Intacct's answer ({status}) is not valid XML ({exc.__class__.__name__}: "
            f"{exc}); it starts with: {snippet!r}",
            http_status=http_status,
        ) from None


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text_of(value) -> str:
    """xmltodict leaf text: '' for empty elements, the '#text' for elements with attributes."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return value.get("#text", "") or ""
    return str(value)
