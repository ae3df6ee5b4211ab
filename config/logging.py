"""A logging filter that removes secrets from every record before it is written.

Belt and braces: code must not log secrets in the first place, but an XML body or a
`password=...` pair that slips into a message is masked here.
"""

import logging

from intacct.client.redaction import MASK, redact

__all__ = ["MASK", "RedactSecretsFilter", "redact"]


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
