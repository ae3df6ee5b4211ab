"""Payment notifications: Sage (here the sandbox's Smart Events) posts to a connection's
endpoint, and the payment reaches its load at once, read back from Sage; the 12-hour import
afterwards changes nothing, and nothing is ever applied twice."""

import json
import logging
import re
from decimal import Decimal

import pytest
import responses
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from accounting import models as am
from intacct import models as m
from intacct.notifications import services as notifications
from intacct.notifications import smart_event, views
from intacct.payments import services as payments
from intacct.sandbox.models import smart_event_body
from intacct.sandbox.services import sandbox_payment_void, sandbox_user_set_active

from .test_payments import exported_load, pay, sage_document

Notification = m.PaymentNotification
Run = m.PaymentImportRun


@pytest.fixture
def inline_tasks(monkeypatch):
    """Queued tasks run at once, in the test, instead of on the cluster."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def secret(connection):
    return notifications.notification_secret_rotate(connection=connection)


def url(connection, secret) -> str:
    return reverse("intacct_notifications:payments", args=[connection.pk, secret])


def notify(connection, secret, body, client=None, **headers):
    client = client or Client()
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        url(connection, secret), data=data, content_type="application/json", headers=headers
    )


def notice(payment) -> dict:
    """The body the Smart Event on the payment's object posts, as Sage fills it in."""
    return {
        "object": payment.object,
        "recordno": str(payment.pk),
        "whenmodified": payment.data["WHENMODIFIED"],
    }


def route_app(rsps):
    """Requests to the app (http://testserver/...) go through Django's test client."""

    def reply(request):
        answer = Client().generic(
            "POST",
            request.path_url,
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", "application/json"),
            headers={
                k: v for k, v in request.headers.items() if k.lower().endswith("idempotency-key")
            },
        )
        return answer.status_code, {"Content-Type": answer["Content-Type"]}, answer.content

    rsps.add_callback(responses.POST, re.compile(r"http://testserver/.*"), callback=reply)


# --- end to end -------------------------------------------------------------------------------


def test_a_paid_invoice_completes_its_load_on_notification_and_the_12_hour_import_changes_nothing(
    connection, secret, inline_tasks
):
    load = exported_load(connection)
    payment = pay(sage_document(load))

    answer = notify(connection, secret, notice(payment))

    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED
    stored = am.Payment.objects.get()
    assert (stored.load, stored.amount, stored.sage_payment_id) == (
        load,
        Decimal("1400.00"),
        str(payment.pk),
    )
    notification = Notification.objects.get()
    run = notification.run
    assert (notification.status, run.trigger, run.backfill) == (
        Notification.Status.IMPORTED,
        Run.Trigger.NOTIFICATION,
        True,
    )
    # Requests per notification: the payment, its details, the invoice's totals.
    assert (run.fetched, run.applied, run.closed, run.requests) == (1, 1, 1, 3)
    assert "1 applied" in notification.message and "1 document(s) closed" in notification.message

    scheduled = payments.payments_import(connection=connection)

    assert (scheduled.fetched, scheduled.applied, scheduled.duplicates, scheduled.closed) == (
        1,
        0,
        1,
        0,
    )
    assert am.Payment.objects.count() == 1


def test_a_partial_payment_is_stored_and_the_load_stays_open_until_the_rest_is_notified(
    connection, secret, inline_tasks
):
    load = exported_load(connection)
    first = pay(sage_document(load), amount="400.00")
    notify(connection, secret, notice(first))
    load.refresh_from_db()
    assert load.billing_status != am.BillingStatus.COMPLETED
    assert am.Payment.objects.get().amount == 400

    rest = pay(sage_document(load))
    notify(connection, secret, notice(rest))

    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED
    assert sorted(p.amount for p in am.Payment.objects.all()) == [400, Decimal("1000.00")]


def test_the_sandbox_console_notifies_the_endpoint_and_the_load_is_completed_without_any_import(
    connection, secret, inline_tasks, sandbox, sandbox_http, django_capture_on_commit_callbacks
):
    route_app(sandbox_http)
    m_target = _sandbox_target(sandbox, "http://testserver" + url(connection, secret))
    load = exported_load(connection)

    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(sage_document(load))

    delivery = m_target.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.last_status, delivery.record_no) == (
        "delivered",
        1,
        202,
        str(payment.pk),
    )
    assert json.loads(delivery.body) == notice(payment)
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED
    assert list(Run.objects.values_list("trigger", flat=True)) == [Run.Trigger.NOTIFICATION]
    assert payments.payments_import(connection=connection).applied == 0
    assert am.Payment.objects.count() == 1


def test_a_void_in_the_console_notifies_again_and_the_payment_is_flagged(
    connection, secret, inline_tasks, sandbox, sandbox_http, django_capture_on_commit_callbacks
):
    route_app(sandbox_http)
    _sandbox_target(sandbox, "http://testserver" + url(connection, secret))
    load = exported_load(connection)
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(sage_document(load))
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_payment_void(payment=payment)

    assert am.Payment.objects.get().voided_in_sage_at is not None
    assert am.ErrorTransaction.objects.filter(entity_type="Payment").count() == 1
    assert Notification.objects.filter(status=Notification.Status.IMPORTED).count() == 2


def _sandbox_target(company, target_url):
    from intacct.sandbox.models import SandboxNotificationTarget

    return SandboxNotificationTarget.objects.create(company=company, url=target_url)


# --- the endpoint's guards ------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", ["a-wrong-secret", "x"])
def test_a_wrong_secret_is_404_with_nothing_said_and_nothing_stored(connection, secret, wrong):
    answer = notify(connection, wrong, {"object": "ARPYMT", "recordno": "1"})
    unknown = Client().post(
        reverse("intacct_notifications:payments", args=[connection.pk + 999, secret]),
        data="{}",
        content_type="application/json",
    )

    assert (answer.status_code, answer.json()) == (404, {"error": views.NOT_FOUND})
    assert (unknown.status_code, unknown.content) == (404, answer.content)
    assert Notification.objects.count() == 0


def test_the_secret_may_come_in_a_header_instead(connection, secret):
    path = reverse("intacct_notifications:payments_header", args=[connection.pk])
    right = Client().post(
        path,
        data='{"test": true}',
        content_type="application/json",
        headers={"X-Ledgerline-Secret": secret},
    )
    wrong = Client().post(
        path,
        data='{"test": true}',
        content_type="application/json",
        headers={"X-Ledgerline-Secret": secret + "x"},
    )

    assert (right.status_code, right.json()["status"]) == (200, "test")
    assert wrong.status_code == 404


def test_the_secret_is_encrypted_at_rest_and_a_new_one_retires_the_old(connection, secret):
    stored = m.NotificationEndpoint.objects.get(connection=connection)
    assert secret not in stored.secret_encrypted and stored.get_secret() == secret

    new = notifications.notification_secret_rotate(connection=connection)

    assert notify(connection, secret, {"test": True}).status_code == 404
    assert notify(connection, new, {"test": True}).status_code == 200


def test_disconnecting_deletes_the_secret_and_the_url_stops_working(connection, secret):
    from intacct.connections import services as connections

    assert notify(connection, secret, {"test": True}).status_code == 200

    connections.connection_disconnect(connection=connection)

    assert not m.NotificationEndpoint.objects.filter(connection=connection).exists()
    assert notify(connection, secret, {"test": True}).status_code == 404


def test_an_oversized_body_is_refused_with_413_before_anything_is_stored(
    connection, secret, settings
):
    settings.INTACCT_NOTIFY_MAX_BYTES = 200
    answer = notify(connection, secret, {"object": "ARPYMT", "recordno": "1", "pad": "x" * 300})

    assert answer.status_code == 413
    assert "larger than 200 bytes" in answer.json()["error"]
    assert Notification.objects.count() == 0


def test_the_endpoint_takes_only_post_and_needs_no_csrf_token_nor_login(connection, secret):
    strict = Client(enforce_csrf_checks=True)

    assert strict.get(url(connection, secret)).status_code == 405
    assert notify(connection, secret, {"test": True}, client=strict).status_code == 200


def test_a_body_that_is_not_a_payment_notification_is_400_saying_what_to_fix(connection, secret):
    wrong_object = notify(connection, secret, {"object": "ARINVOICE", "recordno": "1"})
    no_key = notify(connection, secret, {"object": "ARPYMT", "recordno": "{!ARPYMT.RECORDNO!}"})
    garbage = notify(connection, secret, "{not json")

    assert wrong_object.status_code == no_key.status_code == garbage.status_code == 400
    assert "ARPYMT or APPYMT" in wrong_object.json()["error"]
    assert "{!ARPYMT.RECORDNO!}" in no_key.json()["error"]
    assert "neither a JSON object nor form fields" in garbage.json()["error"]
    assert Notification.objects.count() == 0


def test_form_fields_are_read_like_json(connection, secret, inline_tasks):
    load = exported_load(connection)
    payment = pay(sage_document(load))
    answer = Client().post(
        url(connection, secret),
        data=f"object=ARPYMT&recordno={payment.pk}",
        content_type="application/x-www-form-urlencoded",
    )

    assert answer.status_code == 202
    assert am.Payment.objects.count() == 1


def test_over_the_rate_limit_a_notification_is_refused_with_429_and_retry_after(
    connection, secret, settings
):
    settings.INTACCT_NOTIFY_PER_MINUTE = 2
    answers = [
        notify(connection, secret, {"test": True}, **{"Idempotency-Key": str(n)}) for n in range(3)
    ]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2]["Retry-After"] == "60"
    assert "at most 2 a minute" in answers[2].json()["error"]
    assert Notification.objects.count() == 2


def test_repeated_wrong_secrets_from_one_address_are_refused_unread(connection, secret):
    from django.core.cache import cache

    cache.clear()
    answers = [notify(connection, "wrong", {}) for _ in range(views.FAILURE_LIMIT + 1)]

    assert answers[-2].status_code == 404 and answers[-1].status_code == 429
    assert notify(connection, secret, {"test": True}).status_code == 429  # until it cools off
    cache.clear()


# --- idempotency and faults -------------------------------------------------------------------------


def test_a_replayed_notification_queues_nothing_and_applies_no_second_payment(
    connection, secret, inline_tasks
):
    load = exported_load(connection)
    payment = pay(sage_document(load))
    first = notify(connection, secret, notice(payment), **{"Idempotency-Key": "sage-1"})

    replay = notify(connection, secret, notice(payment), **{"Idempotency-Key": "sage-1"})
    same_body = notify(connection, secret, notice(payment))
    same_body_again = notify(connection, secret, notice(payment))

    assert first.status_code == 202 and same_body.status_code == 202
    assert (replay.status_code, replay.json()["status"]) == (200, "duplicate")
    assert same_body_again.json()["status"] == "duplicate"
    assert am.Payment.objects.count() == 1
    assert Run.objects.filter(trigger=Run.Trigger.NOTIFICATION).count() == 2


def test_a_replay_after_the_dedupe_window_imports_again_and_changes_nothing(
    connection, secret, inline_tasks
):
    load = exported_load(connection)
    payment = pay(sage_document(load))
    notify(connection, secret, notice(payment))
    Notification.objects.update(received_at=timezone.now() - notifications.DEDUPE_WINDOW * 2)

    notify(connection, secret, notice(payment))

    latest = Notification.objects.first()
    assert (latest.run.applied, latest.run.duplicates) == (0, 1)
    assert am.Payment.objects.count() == 1


def test_a_notification_naming_an_unknown_payment_applies_nothing_and_says_so(
    connection, secret, inline_tasks, caplog
):
    pay(sage_document(exported_load(connection)))  # a payment it does not name stays unread
    with caplog.at_level(logging.WARNING, logger="intacct.notifications"):
        answer = notify(connection, secret, {"object": "ARPYMT", "recordno": "987654"})

    notification = Notification.objects.get()
    assert answer.status_code == 202
    assert notification.status == Notification.Status.NOT_FOUND
    assert "Sage shows no ARPYMT with RECORDNO 987654" in notification.message
    assert "nothing was applied" in notification.message
    assert "987654" in caplog.text and "nothing was applied" in caplog.text
    assert am.Payment.objects.count() == 0


def test_when_sage_refuses_the_read_the_notification_fails_and_the_scheduled_import_catches_up(
    connection, secret, inline_tasks
):
    load = exported_load(connection)
    payment = pay(sage_document(load))
    sandbox_user_set_active(
        company_id=connection.company_id, user_id=connection.user_id, active=False
    )
    m.Connection.objects.filter(pk=connection.pk).update(session_encrypted="")

    notify(connection, secret, notice(payment))

    notification = Notification.objects.get()
    assert notification.status == Notification.Status.FAILED
    assert "the 12-hour import reads these payments again" in notification.message
    assert am.Payment.objects.count() == 0

    sandbox_user_set_active(
        company_id=connection.company_id, user_id=connection.user_id, active=True
    )
    assert payments.payments_import(connection=connection).applied == 1
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED


def test_a_redelivered_task_finds_its_notification_claimed_and_does_nothing(connection, secret):
    load = exported_load(connection)
    payment = pay(sage_document(load))
    notify(connection, secret, notice(payment))  # queued on the cluster, not run
    notification = Notification.objects.get()
    assert OrmQ.objects.count() == 1

    from intacct import tasks

    first = tasks.payment_notification_import(notification.pk)
    again = tasks.payment_notification_import(notification.pk)

    assert first["status"] == Notification.Status.IMPORTED
    assert again == {"skipped": "already claimed or finished"}
    assert am.Payment.objects.count() == 1


def test_a_notification_left_importing_by_a_killed_worker_is_claimed_again_after_the_timeout(
    connection, secret, settings
):
    load = exported_load(connection)
    payment = pay(sage_document(load))
    notify(connection, secret, notice(payment))
    notification = Notification.objects.get()
    # The worker claimed it and died before importing anything.
    Notification.objects.update(status=Notification.Status.RUNNING, started_at=timezone.now())
    assert notifications.notification_import(notification_id=notification.pk) is None

    long_ago = timezone.now() - notifications.REAP_MARGIN * 2
    long_ago -= timezone.timedelta(seconds=settings.Q_CLUSTER["timeout"])
    Notification.objects.update(started_at=long_ago)
    again = notifications.notification_import(notification_id=notification.pk)

    assert again.status == Notification.Status.IMPORTED
    assert am.Payment.objects.count() == 1


def test_a_worker_killed_after_the_import_stored_the_payment_leaves_nothing_to_apply_twice(
    connection, secret, settings
):
    load = exported_load(connection)
    payment = pay(sage_document(load))
    notify(connection, secret, notice(payment))
    notification = Notification.objects.get()
    notifications.notification_import(notification_id=notification.pk)
    # As if the worker died after the payment was stored, before the notification's row
    # was finished: the row is still Importing, long after the timeout.
    long_ago = timezone.now() - notifications.REAP_MARGIN * 2
    long_ago -= timezone.timedelta(seconds=settings.Q_CLUSTER["timeout"])
    Notification.objects.update(status=Notification.Status.RUNNING, started_at=long_ago)

    again = notifications.notification_import(notification_id=notification.pk)
    scheduled = payments.payments_import(connection=connection)

    assert (again.run.applied, again.run.duplicates) == (0, 1)
    assert scheduled.applied == 0
    assert am.Payment.objects.count() == 1


def test_when_the_queue_is_down_the_answer_is_503_and_sages_retry_is_accepted(
    connection, secret, monkeypatch, inline_tasks
):
    load = exported_load(connection)
    payment = pay(sage_document(load))

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(notifications, "async_task", down)
    refused = notify(connection, secret, notice(payment), **{"Idempotency-Key": "k"})
    monkeypatch.undo()
    monkeypatch.setattr(Conf, "SYNC", True)
    retried = notify(connection, secret, notice(payment), **{"Idempotency-Key": "k"})

    assert (refused.status_code, refused["Retry-After"]) == (503, "30")
    assert "could not be reached" in refused.json()["error"]
    assert retried.status_code == 202
    assert am.Payment.objects.count() == 1


def test_a_connection_not_syncing_logs_the_notification_and_imports_nothing(connection, secret):
    m.Connection.objects.filter(pk=connection.pk).update(primary_sync=False)
    answer = notify(connection, secret, {"object": "ARPYMT", "recordno": "5"})

    assert (answer.status_code, answer.json()["status"]) == (200, "ignored")
    assert Notification.objects.get().status == Notification.Status.IGNORED
    assert OrmQ.objects.count() == 0


def test_no_log_line_holds_the_secret(connection, secret, caplog, settings):
    settings.INTACCT_NOTIFY_MAX_BYTES = 10
    with caplog.at_level(logging.DEBUG):
        notify(connection, secret, {"object": "ARPYMT", "recordno": "1"})
        notify(connection, secret, "{")
        notify(connection, secret + "x", {})

    assert caplog.records and secret not in caplog.text


def test_accepting_a_notification_costs_a_constant_number_of_queries(connection, secret):
    with CaptureQueriesContext(db) as queries:
        answer = notify(connection, secret, {"object": "ARPYMT", "recordno": "1,2,3"})

    assert answer.status_code == 202
    # secret, rate count, dedupe, the log row, the queued task (ORM broker)
    assert len(queries) == 5, [q["sql"] for q in queries]


# --- the Advanced step ---------------------------------------------------------------------------


def test_the_advanced_step_shows_the_masked_url_and_the_smart_event_definition(
    admin_client, connection, secret
):
    page = admin_client.get(reverse("admin:intacct_wizard_advanced", args=[connection.pk]))
    text = page.content.decode()

    assert page.status_code == 200
    assert secret not in text
    assert f"/intacct/notify/{connection.pk}/••••••••/payments/" in text
    assert "Platform Services &gt; All &gt; Smart events" in text
    for event in smart_event.smart_events(connection.subsidiary.code):
        assert event.event_id in text
    assert "{!ARPYMT.RECORDNO!}" in text and "{!APPYMT.RECORDNO!}" in text
    assert "Send test notification" in text


def test_creating_the_url_shows_it_once_and_the_old_one_stops_working(
    admin_client, connection, secret
):
    page = admin_client.post(reverse("admin:intacct_notification_rotate", args=[connection.pk]))
    new = m.NotificationEndpoint.objects.get(connection=connection).get_secret()

    assert page.status_code == 200
    assert f"http://testserver/intacct/notify/{connection.pk}/{new}/payments/" in (
        page.content.decode()
    )
    assert notify(connection, secret, {"test": True}).status_code == 404
    advanced = admin_client.get(reverse("admin:intacct_wizard_advanced", args=[connection.pk]))
    assert new not in advanced.content.decode()


def test_send_test_notification_posts_to_the_endpoint_and_shows_the_outcome(
    admin_client, connection, secret, sandbox_http
):
    route_app(sandbox_http)
    answer = admin_client.post(
        reverse("admin:intacct_notification_test", args=[connection.pk]), follow=True
    )

    text = answer.content.decode()
    assert "Test notification sent to http://testserver/intacct/notify/" in text
    assert "HTTP 200" in text and "this URL and secret work" in text
    assert secret not in text
    assert Notification.objects.get().status == Notification.Status.TEST


def test_send_test_notification_says_when_the_url_cannot_be_reached(
    admin_client, connection, secret, settings
):
    settings.LEDGERLINE_BASE_URL = "http://unreachable.test"
    answer = admin_client.post(
        reverse("admin:intacct_notification_test", args=[connection.pk]), follow=True
    )

    text = answer.content.decode()
    assert "Test notification to http://unreachable.test/intacct/notify/" in text
    assert "set LEDGERLINE_BASE_URL" in text


def test_the_sandbox_sends_the_body_the_advanced_step_asks_for():
    for sage_object in smart_event.PAYMENT_OBJECTS:
        assert smart_event_body(sage_object) == smart_event.body_template(sage_object)


def test_key_rotation_re_encrypts_the_notification_secret_and_the_url_keeps_working(
    connection, secret, settings
):
    import io

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old = m.NotificationEndpoint.objects.get().secret_encrypted
    settings.INTACCT_FERNET_KEYS = [Fernet.generate_key().decode(), *settings.INTACCT_FERNET_KEYS]
    out = io.StringIO()

    call_command("intacct_rotate_keys", stdout=out)

    assert "Re-encrypted 1 payment notification secret(s)." in out.getvalue()
    assert m.NotificationEndpoint.objects.get().secret_encrypted != old
    settings.INTACCT_FERNET_KEYS = settings.INTACCT_FERNET_KEYS[:1]  # the old key is gone
    assert notify(connection, secret, {"test": True}).status_code == 200


# --- the sandbox's deliveries ---------------------------------------------------------------------


def test_recording_a_payment_in_the_console_only_logs_and_queues_the_delivery(
    connection, secret, sandbox, django_capture_on_commit_callbacks
):
    target = _sandbox_target(sandbox, "http://testserver" + url(connection, secret))
    load = exported_load(connection)

    with django_capture_on_commit_callbacks(execute=True):
        pay(sage_document(load))

    delivery = target.deliveries.get()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert OrmQ.objects.count() == 1  # the delivery, for the cluster
    assert Notification.objects.count() == 0


def test_a_company_with_notifications_off_sends_none(connection, secret, sandbox):
    target = _sandbox_target(sandbox, "http://testserver" + url(connection, secret))
    target.enabled = False
    target.save()
    pay(sage_document(exported_load(connection)))

    assert target.deliveries.count() == 0


def _attempt_until_settled(delivery):
    from intacct.sandbox import notify as sandbox_notify

    answers = []
    for _ in range(6):
        delivery.refresh_from_db()
        if delivery.status in ("delivered", "gave_up"):
            break
        type(delivery).objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        answers.append(sandbox_notify.sandbox_delivery_attempt(delivery.pk).last_status)
    delivery.refresh_from_db()
    return answers


def test_a_failing_delivery_is_retried_on_sages_schedule_then_left_to_the_12_hour_import(
    connection, secret, sandbox, sandbox_http, django_capture_on_commit_callbacks, inline_tasks
):
    from django_q.models import Schedule

    from intacct.sandbox import notify as sandbox_notify

    sandbox_http.add(responses.POST, "http://down.test/notify", status=503)
    target = _sandbox_target(sandbox, "http://down.test/notify")
    load = exported_load(connection)
    with django_capture_on_commit_callbacks(execute=True):
        pay(sage_document(load))  # the first attempt runs inline
    delivery = target.deliveries.get()
    first_retry = delivery.next_attempt_at - timezone.now()

    answers = _attempt_until_settled(delivery)

    assert 0 < first_retry.total_seconds() <= sandbox_notify.RETRY_DELAYS[0]
    assert answers == [503, 503, 503]
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("gave_up", 4, 503)
    assert Schedule.objects.filter(func=sandbox_notify.DELIVERY_TASK).count() == 3
    assert am.Payment.objects.count() == 0
    assert payments.payments_import(connection=connection).applied == 1
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED


def test_a_delivery_refused_for_a_wrong_secret_is_not_retried(
    connection, secret, sandbox, sandbox_http, django_capture_on_commit_callbacks, inline_tasks
):
    route_app(sandbox_http)
    target = _sandbox_target(sandbox, "http://testserver" + url(connection, "stale-secret"))
    with django_capture_on_commit_callbacks(execute=True):
        pay(sage_document(exported_load(connection)))

    delivery = target.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("gave_up", 1, 404)
    assert json.loads(delivery.last_answer) == {"error": views.NOT_FOUND}


def test_a_delivery_that_gets_no_answer_is_retried_and_then_delivered(
    connection, secret, sandbox, sandbox_http, django_capture_on_commit_callbacks, inline_tasks
):
    import requests

    # The first post gets no answer (responses hands out the first of two matches once).
    sandbox_http.add(
        responses.POST,
        "http://testserver" + url(connection, secret),
        body=requests.ConnectionError("connection reset"),
    )
    route_app(sandbox_http)
    target = _sandbox_target(sandbox, "http://testserver" + url(connection, secret))
    load = exported_load(connection)
    with django_capture_on_commit_callbacks(execute=True):
        pay(sage_document(load))
    delivery = target.deliveries.get()
    assert (delivery.status, delivery.last_status) == ("retrying", None)
    assert "ConnectionError" in delivery.last_answer

    answers = _attempt_until_settled(delivery)

    assert answers == [202]
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    load.refresh_from_db()
    assert load.billing_status == am.BillingStatus.COMPLETED


def test_the_narrow_import_of_one_payment_costs_a_constant_number_of_queries(connection, secret):
    loads = [exported_load(connection) for _ in range(3)]
    paid = [pay(sage_document(load)) for load in loads]
    counts = []
    for payment in (paid[0], paid[1]):
        notify(connection, secret, notice(payment))
        pk = Notification.objects.values_list("pk", flat=True).first()
        with CaptureQueriesContext(db) as queries:
            notifications.notification_import(notification_id=pk)
        # The sandbox answers in this process: its queries (and savepoints) are Sage's.
        ours = [
            q["sql"]
            for q in queries
            if "intacct_sandbox_" not in q["sql"] and "SAVEPOINT" not in q["sql"]
        ]
        counts.append(len(ours))

    # Staged like the 12-hour import (intacct/payments: stage, mark fully paid, apply in one
    # transaction, clean up): a fixed cost per run, the same for every notified payment.
    assert counts[0] == counts[1] <= 33, ours
    assert Notification.objects.filter(status=Notification.Status.IMPORTED).count() == 2
    print(f"queries for the import of one notified payment: {counts[0]}")


def test_a_web_servers_access_log_line_never_shows_the_secret(connection, secret):
    from config.logging import RedactingFormatter

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        "",
        0,
        '"POST %s HTTP/1.1" 202 96',
        (url(connection, secret),),
        None,
    )
    line = RedactingFormatter("%(message)s").format(record)

    assert secret not in line
    assert f"/intacct/notify/{connection.pk}/***/payments/" in line
