"""The payment notification endpoint: no login, no CSRF token (Sage cannot send one); the
secret in the URL (or the `X-Ledgerline-Secret` header) authenticates each request."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .services import notification_authenticate, notification_receive

logger = logging.getLogger("intacct.notifications")

SECRET_HEADER = "HTTP_X_LEDGERLINE_SECRET"
IDEMPOTENCY_HEADERS = ("HTTP_IDEMPOTENCY_KEY", "HTTP_X_IDEMPOTENCY_KEY")
# Refused secrets per client address before it is refused unread for FAILURE_WINDOW seconds.
FAILURE_LIMIT = 20
FAILURE_WINDOW = 600

NOT_FOUND = "Not found."  # the same for an unknown connection and a wrong secret
POST_ONLY = "Payment notifications are sent with POST."
TOO_LARGE = (
    "The notification is larger than {limit} bytes. Send only the body shown on the "
    "connection's Advanced step (the object and the payment's RECORDNO)."
)
TOO_MANY_FAILURES = "Too many refused requests from this address; retry in {seconds} seconds."


@csrf_exempt  # machine to machine: the secret authenticates, no session or cookie is used
def payment_notification(request, connection_id: int, secret: str = ""):
    """Answers (JSON): 202 queued, 200 test / duplicate / ignored, 400 a body that is not a
    payment notification (saying what to fix), 404 unknown connection or wrong secret, 405 not
    POST, 413 too large, 429 rate limited (with Retry-After)."""
    if request.method != "POST":
        return _answer({"error": POST_ONLY}, 405, Allow="POST")
    address = request.META.get("REMOTE_ADDR", "")
    failures_key = f"intacct-notify-failures:{address}"
    if (cache.get(failures_key) or 0) >= FAILURE_LIMIT:
        return _answer(
            {"error": TOO_MANY_FAILURES.format(seconds=FAILURE_WINDOW)},
            429,
            **{"Retry-After": str(FAILURE_WINDOW)},
        )
    secret = secret or request.META.get(SECRET_HEADER, "")
    connection = notification_authenticate(connection_id=connection_id, secret=secret)
    if connection is None:
        cache.add(failures_key, 0, FAILURE_WINDOW)
        try:
            cache.incr(failures_key)
        except ValueError:  # expired between add and incr
            cache.set(failures_key, 1, FAILURE_WINDOW)
        logger.warning(
            "Payment notification refused: unknown connection %s or wrong secret (from %s)",
            connection_id,
            address,
        )
        return _answer({"error": NOT_FOUND}, 404)
    limit = settings.INTACCT_NOTIFY_MAX_BYTES
    too_large = {"error": TOO_LARGE.format(limit=limit)}
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _answer(too_large, 413)  # refused unread
    body = request.read(limit + 1)
    if len(body) > limit:
        return _answer(too_large, 413)
    idempotency_key = next(
        (request.META[h] for h in IDEMPOTENCY_HEADERS if request.META.get(h)), ""
    )
    receipt = notification_receive(
        connection=connection, body=body, idempotency_key=idempotency_key
    )
    extra = {"Retry-After": str(receipt.retry_after)} if receipt.retry_after else {}
    return _answer(receipt.payload, receipt.status, **extra)


def _answer(payload: dict, status: int, **headers) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    for name, value in headers.items():
        response[name] = value
    # Django's request logger would write the path, secret included, for every 4xx/5xx: this
    # view logs what happened itself, without the secret.
    response._has_been_logged = True
    return response
