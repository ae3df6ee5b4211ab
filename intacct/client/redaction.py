"""Masking secrets in XML and log text. Used by the client's audit hook and by the app's logs."""

import re

MASK = "***"

_XML_SECRET = re.compile(r"<(password|sessionid)>[^<]*</\1>", re.IGNORECASE)
_PAIR_SECRET = re.compile(
    r"""(?P<key>\b(?:password|passwd|sessionid|session_id|secret|secret_key|api_key|token)\b
        ["']?\s*[=:]\s*["']?)(?P<value>[^\s"',&<>]+)""",
    re.IGNORECASE | re.VERBOSE,
)


def redact_xml(text: str) -> str:
    """`text` with every <password> and <sessionid> element's content masked."""
    return _XML_SECRET.sub(lambda m: f"<{m.group(1)}>{MASK}</{m.group(1)}>", text)


def redact(text: str) -> str:
    """`text` with XML secrets and key=value / "key": "value" secrets masked."""
    return _PAIR_SECRET.sub(lambda m: f"{m.group('key')}{MASK}", redact_xml(text))
