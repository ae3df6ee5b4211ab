"""Logging that never writes a secret: a filter that cleans each record's message, and a
formatter that masks secrets in the whole text a handler writes (message, arguments,
exception text, formatted traceback and stack).

Belt and braces: code must not log secrets in the first place, but an XML body or a
`password=...` pair that slips into a message or an exception is masked here.
"""

import logging

from intacct.client.redaction import MASK, redact

__all__ = ["MASK", "ExpectedForbiddenFilter", "RedactSecretsFilter", "RedactingFormatter", "redact"]


class RedactSecretsFilter(logging.Filter):
    """Cleans the message of every record it passes, for handlers without our formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """Formats a record as usual, then masks secrets in the final text.

    The traceback is masked where it is formatted too, because the record caches it
    (`exc_text`) for every other handler that writes the same record.
    """

    def formatException(self, ei) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class ExpectedForbiddenFilter(logging.Filter):
    """A 403 is an expected answer (a user without a permission), not a fault: Django logs it
    as a warning with the PermissionDenied traceback; this makes it one INFO line naming the
    path and the user. Attached to the `django.request` logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        user = getattr(getattr(record, "request", None), "user", None)
        who = getattr(user, "get_username", lambda: "")() or "anonymous"
        record.msg, record.args = f"{record.getMessage()} (user {who})", None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True
