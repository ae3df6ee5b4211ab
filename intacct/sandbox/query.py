"""Filtering records the way Sage does: readByQuery's query language and query's filter tree.

Both compile to a predicate over a record (a dict of Sage field -> text). Dates and numbers
compare as dates and numbers; other text compares exactly, or case-insensitively on request.
"""

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from .catalog import DATE_FIELDS, NUMBER_FIELDS
from .errors import fault

Predicate = Callable[[dict], bool]
Getter = Callable[[dict, str], object]  # (record, field) -> the value the query compares


def _get(record: dict, field: str):
    return record.get(field)


class QueryError(Exception):
    pass


def _as_datetime(text: str) -> dt.datetime | None:
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def _key(field: str, value, case_insensitive: bool):
    """A comparable form of `value` for `field` (None when missing)."""
    if value in (None, ""):
        return None
    text = str(value)
    if field in DATE_FIELDS:
        return _as_datetime(text)
    if field in NUMBER_FIELDS:
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    return text.lower() if case_insensitive else text


def _like(pattern: str, case_insensitive: bool) -> re.Pattern:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", (re.IGNORECASE if case_insensitive else 0) | re.DOTALL)


def compare(
    op: str,
    field: str,
    values: list[str],
    case_insensitive: bool = False,
    get: Getter = _get,
) -> Predicate:
    """A predicate for one comparison, e.g. compare(">=", "WHENMODIFIED", ["11/01/2026"])."""
    field = field.upper()
    if op in ("like", "not like"):
        pattern = _like(values[0], case_insensitive)
        positive = op == "like"
        return lambda r: bool(pattern.match(str(get(r, field) or ""))) == positive
    if op in ("is null", "is not null"):
        wanted = op == "is null"
        return lambda r: (get(r, field) in (None, "")) == wanted
    keys = [_key(field, v, case_insensitive) for v in values]
    if field in DATE_FIELDS and any(k is None for k in keys):
        raise fault("Invalid query", f"'{values[0]}' is not a date (use mm/dd/yyyy) for {field}.")

    def test(record: dict) -> bool:
        left = _key(field, get(record, field), case_insensitive)
        if op == "in":
            return left in keys
        if op == "not in":
            return left not in keys
        right = keys[0]
        if op == "=":
            return left == right
        if op in ("!=", "<>"):
            return left != right
        if left is None or right is None:
            return False
        try:
            return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[
                op
            ]
        except TypeError:
            return False

    return test


# --- readByQuery's query language ------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<op><=|>=|<>|!=|=|<|>)
      | (?P<paren>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<number>-?\d+(?:\.\d+)?)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    position, tokens = 0, []
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise fault("Invalid query", f"Cannot read the query near: {text[position:][:30]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


def parse_query(text: str, *, get: Getter = _get, fields: list | None = None) -> Predicate:
    """Compile a readByQuery `query` ("STATUS = 'T' AND RECORDNO > 5"); '' matches everything.
    `get` reads a record's field as readByQuery sees it; `fields` receives the names used."""
    fields = fields if fields is not None else []
    if not text or not text.strip():
        return lambda record: True
    tokens = _tokens(text)
    position = 0

    def peek(offset=0):
        index = position + offset
        return tokens[index] if index < len(tokens) else (None, None)

    def take():
        nonlocal position
        token = peek()
        position += 1
        return token

    def word(value):
        kind, text_ = peek()
        return kind == "word" and text_.upper() == value

    def expression():
        left = term()
        while word("OR"):
            take()
            right = term()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def term():
        left = factor()
        while word("AND"):
            take()
            right = factor()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def factor():
        if word("NOT"):
            take()
            inner = factor()
            return lambda r: not inner(r)
        if peek() == ("paren", "("):
            take()
            inner = expression()
            if take() != ("paren", ")"):
                raise fault("Invalid query", "A parenthesis is not closed in the query.")
            return inner
        kind, field = take()
        if kind != "word":
            raise fault("Invalid query", f"Expected a field name, found {field!r}.")
        fields.append(field.upper())
        if word("IS"):
            take()
            negate = word("NOT") and take()
            if not word("NULL"):
                raise fault("Invalid query", "Expected NULL after IS.")
            take()
            return compare("is not null" if negate else "is null", field, [], get=get)
        negate = word("NOT") and take()
        if word("IN"):
            take()
            if take() != ("paren", "("):
                raise fault("Invalid query", "Expected ( after IN.")
            values = []
            while True:
                _, value = take()
                values.append(value)
                separator = take()
                if separator == ("paren", ")"):
                    break
                if separator != ("paren", ","):
                    raise fault("Invalid query", "Separate IN values with commas.")
            return compare("not in" if negate else "in", field, values, get=get)
        if word("LIKE"):
            take()
            return compare("not like" if negate else "like", field, [take()[1]], get=get)
        kind, op = take()
        if kind != "op":
            raise fault("Invalid query", f"Expected an operator after {field}.")
        _, value = take()
        return compare(op, field, [value], get=get)

    predicate = expression()
    if position != len(tokens):
        raise fault("Invalid query", f"Unexpected {tokens[position][1]!r} in the query.")
    return predicate


# --- query's filter tree ----------------------------------------------------------------------

_OPERATORS = {
    "equalto": "=",
    "notequalto": "!=",
    "lessthan": "<",
    "lessthanorequalto": "<=",
    "greaterthan": ">",
    "greaterthanorequalto": ">=",
    "like": "like",
    "notlike": "not like",
    "in": "in",
    "notin": "not in",
    "isnull": "is null",
    "isnotnull": "is not null",
}


def _listed(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_filter(
    node: dict | None, *, case_insensitive: bool = False, fields: list | None = None
) -> Predicate:
    """Compile query's <filter> (as parsed by xmltodict) into a predicate; `fields` receives
    the names it compares."""
    fields = fields if fields is not None else []
    if not node:
        return lambda record: True
    predicates = []
    for tag, value in node.items():
        for item in _listed(value):
            predicates.append(_filter_node(tag, item or {}, case_insensitive, fields))
    return lambda r: all(p(r) for p in predicates)


def _filter_node(tag: str, node: dict, case_insensitive: bool, fields: list) -> Predicate:
    if tag in ("and", "or"):
        children = [
            _filter_node(child_tag, item or {}, case_insensitive, fields)
            for child_tag, value in node.items()
            for item in _listed(value)
        ]
        if len(children) < 2:
            raise fault("Invalid filter", f"<{tag}> needs at least two conditions.")
        combine = all if tag == "and" else any
        return lambda r: combine(child(r) for child in children)
    if tag == "between":
        field = node.get("field") or ""
        fields.append(field.upper())
        low, high = [*_listed(node.get("value")), "", ""][:2]
        lower = compare(">=", field, [low], case_insensitive)
        upper = compare("<=", field, [high], case_insensitive)
        return lambda r: lower(r) and upper(r)
    if tag not in _OPERATORS:
        raise fault("Invalid filter", f"Unknown filter operator <{tag}>.")
    field = node.get("field")
    if not field:
        raise fault("Invalid filter", f"<{tag}> needs a <field>.")
    fields.append(field.upper())
    values = [v if isinstance(v, str) else "" for v in _listed(node.get("value"))]
    if tag not in ("isnull", "isnotnull") and not values:
        raise fault("Invalid filter", f"<{tag}> needs a <value>.")
    return compare(_OPERATORS[tag], field, values, case_insensitive)
