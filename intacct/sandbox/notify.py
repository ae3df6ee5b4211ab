"""The sandbox's Smart Events: when a payment is recorded or voided in the console, post a
notification to the configured URL, as Sage does.

Delivery runs on the task cluster, not in the console's request: the request only writes the
delivery's log row and queues it (after its transaction commits), so a slow or dead target
never holds the console up. A delivery that fails with 408, 429, 500, 502, 503, 504 or no
answer is retried after 10, 30 and 90 seconds (4 attempts in all), Sage's schedule for Platform
trigger webhooks (developer.sage.com/intacct/docs/developer-portal/guides/webhooks); after the
last, or at once on any other answer (a wrong secret, a bad body), it gives up: the payment is
left to the 12-hour import. Every retry carries the same idempotency key, as Sage's do.
"""

import datetime as dt
import logging
import re

import requests
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

from .models import SandboxNotificationDelivery, SandboxNotificationTarget, SandboxRecord

logger = logging.getLogger("intacct.sandbox")

DELIVERY_TASK = "intacct.sandbox.notify.sandbox_delivery_attempt"
RETRY_DELAYS = (10, 30, 90)  # seconds before the 2nd, 3rd and 4th attempt
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TIMEOUT_SECONDS = 10
TOKEN = re.compile(r"\{!([A-Z0-9_]+)\.([A-Z0-9_]+)!\}")
Status = SandboxNotificationDelivery.Status


def inject(template: str, record: SandboxRecord) -> str:
    """Sage's field injection: `{!OBJECT.FIELD!}` becomes the record's value (empty when the
    object is another or the field is unknown)."""

    def value(match):
        if match.group(1) != record.object:
            return ""
        return str(record.data.get(match.group(2), "")).replace('"', "").replace("\\", "")

    return TOKEN.sub(value, template)


def sandbox_notify(*, payment: SandboxRecord, event: str) -> SandboxNotificationDelivery | None:
    """Log a notification of `payment` and queue its delivery once the caller's transaction
    commits; None when the company sends none."""
    target = (
        SandboxNotificationTarget.objects.filter(company=payment.company_id, enabled=True)
        .exclude(url="")
        .first()
    )
    if target is None or payment.object not in ("ARPYMT", "APPYMT"):
        return None
    template = target.ar_body if payment.object == "ARPYMT" else target.ap_body
    delivery = SandboxNotificationDelivery.objects.create(
        target=target,
        sage_object=payment.object,
        record_no=str(payment.pk),
        event=event,
        url=target.url,
        body=inject(template, payment),
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: async_task(DELIVERY_TASK, delivery.pk))
    return delivery


def sandbox_delivery_attempt(delivery_id: int) -> SandboxNotificationDelivery | None:
    """Post one delivery (one attempt); on a retryable failure schedule the next attempt.
    Returns the delivery, or None when it is not due (delivered, given up, or claimed by
    another worker)."""
    now = timezone.now()
    claimed = SandboxNotificationDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        status__in=(Status.PENDING, Status.RETRYING),
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + dt.timedelta(minutes=5))
    if not claimed:
        return None
    delivery = SandboxNotificationDelivery.objects.get(pk=delivery_id)
    try:
        response = requests.post(
            delivery.url,
            data=delivery.body.encode(),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": f"sandbox-delivery-{delivery.pk}",
            },
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status, answer = response.status_code, response.text[:1000]
    except requests.RequestException as error:
        status, answer = None, f"No answer: {type(error).__name__}"
    fields = {"last_status": status, "last_answer": answer}
    if status is not None and 200 <= status < 300:
        fields.update(status=Status.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None)
    elif (status is None or status in RETRY_STATUSES) and delivery.attempts <= len(RETRY_DELAYS):
        delay = RETRY_DELAYS[delivery.attempts - 1]
        next_at = timezone.now() + dt.timedelta(seconds=delay)
        fields.update(status=Status.RETRYING, next_attempt_at=next_at)
        schedule(
            DELIVERY_TASK,
            delivery.pk,
            schedule_type=Schedule.ONCE,
            next_run=next_at,
        )
    else:
        fields.update(status=Status.GAVE_UP, next_attempt_at=None)
        logger.warning(
            "Sandbox notification of %s %s not delivered after %s attempt(s) (%s): left to "
            "the 12-hour import",
            delivery.sage_object,
            delivery.record_no,
            delivery.attempts,
            status or answer,
        )
    SandboxNotificationDelivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()
    return delivery


def sandbox_delivery_retry(*, delivery: SandboxNotificationDelivery) -> None:
    """Deliver again now (the console's action): a fresh set of attempts."""
    SandboxNotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.PENDING, attempts=0, next_attempt_at=None
    )
    transaction.on_commit(lambda: async_task(DELIVERY_TASK, delivery.pk))
