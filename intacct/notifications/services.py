"""Payment notifications: the per-connection secret, receiving a notification, the narrow
import it queues, and Send test notification.

`notification_receive` runs these steps for an authenticated request:
1. Rate limit: at most `INTACCT_NOTIFY_PER_MINUTE` notifications per connection per minute
   (counted in the log, so every web process agrees); over it, 429 with Retry-After, which
   Sage's webhooks retry. A notification refused here is not lost: the 12-hour import reads it.
2. Read the body (`smart_event.notice_parse`): which Sage object, which RECORDNOs. Nothing else
   in it is used: the payments are read back from Sage.
3. A replay (Sage's idempotency key, else the same body, within `DEDUPE_WINDOW`) is answered
   200 "duplicate" and queues nothing. Replays outside the window, or two at once, import again
   and change nothing: payments are deduplicated by their Sage detail ID.
4. Write the notification's log row (Queued), then queue the import on the task cluster; if the
   queue cannot be reached the row is marked Failed and the answer is 503, so Sage retries.
"""

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from intacct.connections.crypto import CredentialDecryptError, encrypt
from intacct.connections.models import Connection
from intacct.payments import payments_import
from intacct.payments.models import PaymentImportRun

from .models import NotificationEndpoint, PaymentNotification
from .smart_event import NotificationError, notice_parse

logger = logging.getLogger("intacct.notifications")

NOTIFICATION_TASK = "intacct.tasks.payment_notification_import"
# Sage's webhook retries span about two minutes (10, 30, 90 s): a replay comes well within this.
DEDUPE_WINDOW = dt.timedelta(minutes=10)
# A notification Importing for longer than the task timeout plus this has no worker left.
REAP_MARGIN = dt.timedelta(minutes=5)
TEST_TIMEOUT_SECONDS = 10

RATE_LIMITED = (
    "Too many notifications for this connection: at most {limit} a minute. Retry after "
    "{seconds} seconds; the 12-hour import reads any payment a refused notification named."
)
DUPLICATE = "Already received (a replay of notification {id}): nothing queued again."
QUEUED = "Queued: payments {keys} are read back from Sage and imported."
TEST_RECEIVED = "Test notification received: this URL and secret work. Nothing was imported."
NOT_SYNCING = (
    "Received, but {subsidiary}'s connection is not Active with Primary Sync on, so nothing is "
    "imported now; the scheduled import reads these payments once syncing resumes."
)
QUEUE_DOWN = (
    "The task queue could not be reached ({error}); the notification was not queued. Retry "
    "later; the 12-hour import reads these payments in any case."
)
IMPORTED = (
    "Read {fetched} payment detail(s) of {object} {keys} from Sage: {applied} applied, "
    "{duplicates} already imported, {skipped} skipped, {unmatched} on documents Ledgerline did "
    "not export; {closed} document(s) closed."
)
NOT_FOUND = (
    "Sage shows no {object} with RECORDNO {keys} to this connection (deleted, at another "
    "entity, or a notification from another company): nothing was applied. Check that the "
    "Smart Event is in company {company} and its body is as shown on the Advanced step."
)
IMPORT_FAILED = (
    "The import of {object} {keys} failed: {error} Nothing was stored; the 12-hour import "
    "reads these payments again."
)
TEST_SENT = "Test notification sent to {url}: HTTP {status}. {detail}"
TEST_UNREACHABLE = (
    "Test notification to {url} failed: {error}. Sage must reach this URL from the internet: "
    "set LEDGERLINE_BASE_URL to the address the app is served at, and allow it through the "
    "firewall."
)
NO_SECRET = (
    "This connection has no notification URL yet: select Create the notification URL on the "
    "Advanced step first."
)


# --- the secret --------------------------------------------------------------------------------


def notification_secret_rotate(*, connection: Connection) -> str:
    """Create or replace the connection's notification secret; returns it (shown once). The
    old URL stops working at once."""
    secret = secrets.token_urlsafe(32)
    NotificationEndpoint.objects.update_or_create(
        connection=connection,
        defaults={"secret_encrypted": encrypt(secret), "rotated_at": timezone.now()},
    )
    logger.info("Payment notification secret of %s rotated", connection.subsidiary)
    return secret


def notification_secret_delete(*, connection: Connection, **kwargs) -> None:
    """The connection was disconnected: its notification URL stops working (a reconnected
    connection creates a new one on the Advanced step)."""
    if NotificationEndpoint.objects.filter(connection=connection).delete()[0]:
        logger.info("Payment notification secret of %s deleted", connection.subsidiary)


def notification_path(*, connection: Connection, secret: str) -> str:
    return reverse("intacct_notifications:payments", args=[connection.pk, secret])


def notification_url(*, connection: Connection, secret: str, base_url: str) -> str:
    """The full URL Sage posts to: LEDGERLINE_BASE_URL when set, else `base_url`."""
    base = (settings.LEDGERLINE_BASE_URL or base_url).rstrip("/")
    return base + notification_path(connection=connection, secret=secret)


# Compared against when the connection has no secret, so the answer takes as long either way.
_NO_SECRET = secrets.token_urlsafe(32)


def notification_authenticate(*, connection_id: int, secret: str) -> Connection | None:
    """The connection whose secret is `secret` (compared in constant time), else None."""
    endpoint = (
        NotificationEndpoint.objects.select_related("connection__subsidiary")
        .filter(connection_id=connection_id)
        .first()
    )
    expected = _NO_SECRET
    if endpoint is not None:
        try:
            expected = endpoint.get_secret()
        except CredentialDecryptError:
            logger.error(
                "The notification secret of %s cannot be decrypted with INTACCT_FERNET_KEYS: "
                "rotate it on the connection's Advanced step.",
                endpoint.connection.subsidiary,
            )
    matches = hmac.compare_digest(expected.encode(), secret.encode())
    return endpoint.connection if endpoint is not None and matches else None


# --- receiving ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """The endpoint's answer: HTTP status and a JSON body (never the secret, never data)."""

    status: int
    payload: dict
    retry_after: int | None = None


def notification_receive(
    *, connection: Connection, body: bytes, idempotency_key: str = ""
) -> Receipt:
    """Accept one authenticated notification (the module's steps); returns the answer."""
    now = timezone.now()
    limit = settings.INTACCT_NOTIFY_PER_MINUTE
    recent = PaymentNotification.objects.filter(
        connection=connection, received_at__gte=now - dt.timedelta(minutes=1)
    ).count()
    if recent >= limit:
        logger.warning("Payment notification for %s refused: rate limit", connection.subsidiary)
        return Receipt(429, {"error": RATE_LIMITED.format(limit=limit, seconds=60)}, retry_after=60)
    try:
        notice = notice_parse(body)
    except NotificationError as error:
        logger.warning("Payment notification for %s refused: %s", connection.subsidiary, error)
        return Receipt(400, {"error": str(error)})
    key = (idempotency_key.strip()[:200] or "body:") + hashlib.sha256(body).hexdigest()
    dedupe_key = hashlib.sha256(key.encode()).hexdigest()
    earlier = (
        PaymentNotification.objects.filter(
            connection=connection, dedupe_key=dedupe_key, received_at__gte=now - DEDUPE_WINDOW
        )
        .exclude(status=PaymentNotification.Status.FAILED)
        .values_list("pk", flat=True)
        .first()
    )
    if earlier is not None:
        logger.info("Payment notification for %s: a replay of %s", connection.subsidiary, earlier)
        return Receipt(200, {"status": "duplicate", "message": DUPLICATE.format(id=earlier)})
    fields = {
        "connection": connection,
        "received_at": now,
        "dedupe_key": dedupe_key,
        "sage_object": notice.sage_object,
        "record_keys": list(notice.record_keys),
    }
    if notice.test:
        row = PaymentNotification.objects.create(
            **fields, status=PaymentNotification.Status.TEST, message=TEST_RECEIVED
        )
        return Receipt(200, {"status": "test", "id": row.pk, "message": TEST_RECEIVED})
    if not connection.is_syncing:
        message = NOT_SYNCING.format(subsidiary=connection.subsidiary)
        row = PaymentNotification.objects.create(
            **fields, status=PaymentNotification.Status.IGNORED, message=message
        )
        return Receipt(200, {"status": "ignored", "id": row.pk, "message": message})
    message = QUEUED.format(keys=", ".join(notice.record_keys))
    row = PaymentNotification.objects.create(**fields, message=message)
    try:
        async_task(NOTIFICATION_TASK, row.pk)
    except Exception as error:  # the broker (Redis or the database) is down
        message = QUEUE_DOWN.format(error=type(error).__name__)
        PaymentNotification.objects.filter(pk=row.pk).update(
            status=PaymentNotification.Status.FAILED, message=message
        )
        logger.error("Payment notification %s for %s: %s", row.pk, connection.subsidiary, message)
        return Receipt(503, {"error": message}, retry_after=30)
    logger.info(
        "Payment notification %s for %s queued: %s %s",
        row.pk,
        connection.subsidiary,
        notice.sage_object,
        ", ".join(notice.record_keys),
    )
    return Receipt(202, {"status": "queued", "id": row.pk, "message": message})


# --- the narrow import -------------------------------------------------------------------------


def notification_import(*, notification_id: int) -> PaymentNotification | None:
    """Import the payments a queued notification names, read back from Sage. Returns the
    notification, or None when there is nothing to do: another worker claimed it, or it
    already finished (a redelivered task). A notification left Importing by a killed worker
    is claimed again once the task timeout has passed."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.Q_CLUSTER["timeout"]) - REAP_MARGIN
    claimed = PaymentNotification.objects.filter(
        Q(status=PaymentNotification.Status.QUEUED)
        | Q(status=PaymentNotification.Status.RUNNING, started_at__lt=stale),
        pk=notification_id,
    ).update(status=PaymentNotification.Status.RUNNING, started_at=now)
    if not claimed:
        return None
    notification = PaymentNotification.objects.select_related("connection__subsidiary").get(
        pk=notification_id
    )
    connection = notification.connection
    names = {"object": notification.sage_object, "keys": ", ".join(notification.record_keys)}
    try:
        run = payments_import(
            connection=connection,
            payment_keys={notification.sage_object: notification.record_keys},
            trigger=PaymentImportRun.Trigger.NOTIFICATION,
        )
    except Exception as error:
        _finish(notification, PaymentNotification.Status.FAILED, None, repr(error), names)
        raise
    if run.status == PaymentImportRun.Status.FAILED:
        status, detail = PaymentNotification.Status.FAILED, run.error
    elif run.fetched == 0:
        status, detail = PaymentNotification.Status.NOT_FOUND, ""
    else:
        status, detail = PaymentNotification.Status.IMPORTED, ""
    _finish(notification, status, run, detail, names)
    notification.refresh_from_db()
    return notification


def _finish(notification, status, run, error: str, names: dict) -> None:
    connection = notification.connection
    subsidiary = connection.subsidiary
    if status == PaymentNotification.Status.IMPORTED:
        message = IMPORTED.format(**names, **run.counts())
        logger.info("Payment notification %s for %s: %s", notification.pk, subsidiary, message)
    elif status == PaymentNotification.Status.NOT_FOUND:
        message = NOT_FOUND.format(**names, company=connection.company_id)
        logger.warning("Payment notification %s for %s: %s", notification.pk, subsidiary, message)
    else:
        message = IMPORT_FAILED.format(**names, error=error)
        logger.warning("Payment notification %s for %s: %s", notification.pk, subsidiary, message)
    PaymentNotification.objects.filter(pk=notification.pk).update(
        status=status, run=run, finished_at=timezone.now(), message=message
    )


# --- Send test notification ----------------------------------------------------------------------


def notification_test_send(*, connection: Connection, base_url: str) -> tuple[bool, str]:
    """Post a test notification to the connection's own URL over HTTP, as Sage would; returns
    (worked, what happened). The URL in the message has its secret masked."""
    endpoint = NotificationEndpoint.objects.filter(connection=connection).first()
    if endpoint is None:
        return False, NO_SECRET
    url = notification_url(connection=connection, secret=endpoint.get_secret(), base_url=base_url)
    shown = url.replace(endpoint.get_secret(), "••••••")
    try:
        response = requests.post(
            url,
            json={"test": True},
            headers={"Idempotency-Key": f"test-{uuid.uuid4()}"},
            timeout=TEST_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return False, TEST_UNREACHABLE.format(url=shown, error=type(error).__name__)
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    detail = answer.get("message") or answer.get("error") or response.reason or ""
    return response.status_code == 200 and answer.get("status") == "test", TEST_SENT.format(
        url=shown, status=response.status_code, detail=detail
    )
