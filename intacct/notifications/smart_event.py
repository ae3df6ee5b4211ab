"""What Sage Intacct sends, and what we ask it to send.

Sources (looked up for this feature; see README "Payments within a minute"):

- Smart Events (Platform Services > All > Smart events > Create): an event belongs to one
  owner object, fires on Add, Set and/or Delete, may have a condition, and its action can be an
  HTTP post to an external URL. Field values are injected into the action's text with tokens
  `{!OBJECT.FIELD!}` (e.g. `{!ARINVOICE.RECORDNO!}`).
  developer.intacct.com/customization-services/smart-event-walkthrough/ and
  /smart-event-examples/ ("Execute an HTTP Post when a customer is added ..."), and Sage's help
  page "Add or edit a Smart event" (intacct.com/ia/docs/.../Smart_Events/create-smart-event.htm).
- Platform trigger webhooks (2025 R1 early adopter, 2025 R2 general availability): a Platform
  trigger of type HTTP post with "Use webhook delivery" is retried on 408, 429, 500, 502, 503
  and 504 after 10, 30 and 90 seconds (4 attempts in all); retries carry the same idempotency
  key; requests carry an `Authorization` bearer JWT and `X-Trusted-Context`.
  developer.sage.com/intacct/docs/developer-portal/guides/webhooks and the 2025 R1 release note
  "Improved Platform Trigger Creation for POST Requests".

Inferred (no source says): the header that carries the webhook's idempotency key (we accept
`Idempotency-Key` and `X-Idempotency-Key`); whether a Smart Event's HTTP post retries (we assume
not: the 12-hour import is the net); the content type of a Smart Event post (we accept a JSON
body or a form-encoded one with the same names). We do not verify the webhook's JWT (Sage
publishes no key for it that we found): the secret in the URL authenticates every request.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

PAYMENT_OBJECTS = {"ARPYMT": "AR payment", "APPYMT": "AP payment"}
MAX_KEYS = 100  # payments one notification may name
EVENTS = ("Add", "Set")  # Set: a payment changed or voided later is read again


def body_template(sage_object: str) -> str:
    """The HTTP post body a Smart Event on `sage_object` sends (Sage injects the tokens).
    WHENMODIFIED makes a later change (a void) a different notification from the first."""
    return (
        f'{{"object": "{sage_object}", "recordno": "{{!{sage_object}.RECORDNO!}}", '
        f'"whenmodified": "{{!{sage_object}.WHENMODIFIED!}}"}}'
    )


@dataclass(frozen=True)
class SmartEvent:
    """One Smart Event to create in Sage, as the Advanced step shows it."""

    sage_object: str
    label: str
    event_id: str
    events: tuple[str, ...]
    body: str


def smart_events(subsidiary_code: str) -> list[SmartEvent]:
    code = re.sub(r"[^A-Z0-9]", "_", subsidiary_code.upper())
    return [
        SmartEvent(
            sage_object=obj,
            label=label,
            event_id=f"LEDGERLINE_{code}_{obj}",
            events=EVENTS,
            body=body_template(obj),
        )
        for obj, label in PAYMENT_OBJECTS.items()
    ]


# --- reading a notification ---------------------------------------------------------------------

NOT_JSON_OR_FORM = (
    "The body is neither a JSON object nor form fields. Send the body shown on the connection's "
    "Advanced step, e.g. {example}."
)
UNKNOWN_OBJECT = (
    '"object" is {value!r}; payment notifications name ARPYMT or APPYMT. Create the Smart '
    "Event on AR payment or AP payment with the body shown on the connection's Advanced step."
)
NO_KEYS = (
    '"recordno" is missing or is not a Sage record number ({value!r}). Keep the token '
    "{{!{object}.RECORDNO!}} in the Smart Event's body exactly as shown."
)
TOO_MANY_KEYS = "The notification names {count} payments; at most {limit} are read at once."


class NotificationError(ValueError):
    """The body cannot be read as a payment notification; the message says how to fix it."""


@dataclass(frozen=True)
class Notice:
    """What a notification names: a test, or payments of one Sage object."""

    test: bool
    sage_object: str = ""
    record_keys: tuple[str, ...] = ()


def notice_parse(body: bytes) -> Notice:
    """Read a notification body (JSON, or form fields with the same names). Raises
    NotificationError with a message naming what is wrong."""
    fields = _fields(body)
    if str(fields.get("test", "")).lower() in ("1", "true", "yes") or fields.get("test") is True:
        return Notice(test=True)
    sage_object = str(fields.get("object") or "").strip().upper()
    if sage_object not in PAYMENT_OBJECTS:
        raise NotificationError(UNKNOWN_OBJECT.format(value=fields.get("object")))
    raw = fields.get("recordno")
    values = raw if isinstance(raw, list) else str(raw or "").split(",")
    keys = tuple(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if not keys or not all(k.isdigit() and len(k) <= 20 for k in keys):
        raise NotificationError(NO_KEYS.format(value=raw, object=sage_object))
    if len(keys) > MAX_KEYS:
        raise NotificationError(TOO_MANY_KEYS.format(count=len(keys), limit=MAX_KEYS))
    return Notice(test=False, sage_object=sage_object, record_keys=keys)


def _fields(body: bytes) -> dict:
    text = body.decode("utf-8", errors="replace").strip()
    example = body_template("ARPYMT")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise NotificationError(NOT_JSON_OR_FORM.format(example=example)) from None
        if not isinstance(data, dict):
            raise NotificationError(NOT_JSON_OR_FORM.format(example=example))
        return {str(k).lower(): v for k, v in data.items()}
    form = parse_qs(text, keep_blank_values=True)
    if not form:
        raise NotificationError(NOT_JSON_OR_FORM.format(example=example))
    return {k.lower(): (v[0] if len(v) == 1 else v) for k, v in form.items()}
