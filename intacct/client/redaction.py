"""Masking secrets in XML and log text. Used by the client's audit hook and by the app's logs."""

import re

MASK = "***"
# Elements whose text is a secret: never logged, never quoted in an error.
SECRET_TAGS = ("password", "sessionid")

_XML_SECRET = re.compile(rf"<({'|'.join(SECRET_TAGS)})>[^<]*</\1>", re.IGNORECASE)
# A secret's name, also with a prefix (sender_password, INTACCT_SENDER_PASSWORD, SECRET_KEY).
_SECRET_NAME = (
    r"(?:\w*_)?(?:password|passwd|sessionid|session_id|secret|secret_key|api_key|token"
    r"|fernet_keys?)|csrftoken|csrfmiddlewaretoken"
)
# name=value, name: value, "name": "value", name='a quoted value, spaces and all'
_PAIR_SECRET = re.compile(
    rf"""(?P<key>\b(?:{_SECRET_NAME})\b["']?\s*[=:]\s*)
        (?:(?P<quote>["'])(?:\\.|(?!(?P=quote)).)*(?P=quote)|[^\s"',;&<>]+)""",
    re.IGNORECASE | re.VERBOSE,
)

# The secret in a payment notification URL (/intacct/notify/<connection>/<secret>/payments/),
# as a web server's access log line writes it.
_NOTIFY_SECRET = re.compile(r"(/intacct/notify/\d+/)[^/\s\"'?#]+(/payments)")


def redact_xml(text: str) -> str:
    """`text` with every <password> and <sessionid> element's content masked."""
    return _XML_SECRET.sub(lambda m: f"<{m.group(1)}>{MASK}</{m.group(1)}>", text)


def _mask_pair(match: re.Match) -> str:
    quote = match.group("quote") or ""
    return f"{match.group('key')}{quote}{MASK}{quote}"


def redact(text: str) -> str:
    """`text` with XML secrets, key=value / "key": "value" secrets and the secret of a payment
    notification URL masked."""
    text = _NOTIFY_SECRET.sub(rf"\g<1>{MASK}\g<2>", text)
    return _PAIR_SECRET.sub(_mask_pair, redact_xml(text))
