"""The integration status (connection page, JSON endpoint, `manage.py intacct_status`) and the
alerts emailed to a connection's admins, driven through the sandbox."""

import dataclasses
import datetime as dt
import io
import json
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from accounting import demo_data, roles
from accounting import models as am
from intacct import messages as msg
from intacct import tasks
from intacct.connections import schedules
from intacct.connections import services as connection_services
from intacct.monitoring import alerts, connections_status, status, views
from intacct.monitoring.models import MonitorState
from intacct.sandbox.models import SandboxRecord
from intacct.sandbox.services import sandbox_user_set_active
from tests import factories as f

from .test_export import make_load
from .test_payments import exported_load, pay, sage_document

TOKEN = "monitor-token-" + "x" * 20


def status_of(connection, **kwargs):
    (only,) = connections_status(connection_ids=[connection.pk], **kwargs)
    return only


def refuse_credentials(connection) -> None:
    """Sage revokes the Web Services user; the next scheduled export (it has a load to send)
    finds out."""
    make_load(connection)
    sandbox_user_set_active(active=False)
    tasks.connection_export(connection.pk)


def later(connection, **delta) -> dt.datetime:
    return connection.activated_at + dt.timedelta(**delta)


@pytest.fixture
def admins(db):
    """An Admin and a Partner Admin with email addresses, a Support user without one, and a
    staff user outside the roles (who must get nothing)."""
    people = []
    for name, role, email in (
        ("ada", roles.ADMIN, "ada@example.com"),
        ("pat", roles.PARTNER_ADMIN, "pat@example.com"),
        ("sam", roles.SUPPORT, ""),
    ):
        user = User.objects.create_user(name, email=email, password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        people.append(user)
    User.objects.create_user("otto", email="otto@example.com", password="x", is_staff=True)
    return people


# --- status --------------------------------------------------------------------------------


def test_a_new_connection_shows_its_waiting_documents_and_no_problem(connection):
    for _ in range(3):
        make_load(connection)
    current = status_of(connection)
    assert (current.documents_waiting, current.open_errors) == (3, 0)
    assert (current.last_export_at, current.last_payment_import_at) == (None, None)
    assert current.ok and not current.failing


def test_a_scheduled_export_records_its_time_and_empties_the_queue(connection):
    for _ in range(3):
        make_load(connection)
    tasks.connection_export(connection.pk)
    current = status_of(connection)
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 3
    assert current.documents_waiting == 0
    assert current.last_export_at is not None
    assert timezone.now() - current.last_export_at < dt.timedelta(minutes=1)


def test_the_export_is_overdue_after_two_intervals_without_success(connection, settings):
    settings.INTACCT_EXPORT_INTERVAL_MINUTES = 15
    assert status_of(connection, now=later(connection, minutes=29)).ok
    current = status_of(connection, now=later(connection, minutes=31))
    assert current.export_overdue and current.failing
    (problem,) = current.problems
    assert problem.code == status.EXPORT_OVERDUE
    assert "every 15 minutes" in problem.message and "31 minutes ago" in problem.message
    assert problem.fix_url == reverse("admin:intacct_connection_change", args=[connection.pk])


def test_an_overdue_export_names_a_stopped_cluster_when_its_schedule_was_not_run(connection):
    # Activation made the schedules; a cluster would have run the export at once.
    assert Schedule.objects.filter(func=schedules.EXPORT_TASK).count() == 1
    Schedule.objects.filter(func=schedules.EXPORT_TASK).update(
        next_run=later(connection, minutes=1)
    )
    current = status_of(connection, now=later(connection, hours=2))
    assert status.CLUSTER_LATE.split("{")[0] in current.problems[0].message
    assert "qcluster" in current.problems[0].message

    Schedule.objects.filter(func=schedules.EXPORT_TASK).delete()
    current = status_of(connection, now=later(connection, hours=2))
    assert status.NO_SCHEDULE in current.problems[0].message


def test_the_payment_import_is_overdue_a_day_after_its_last_success(connection):
    pay(sage_document(exported_load(connection)))
    tasks.connection_payments_import(connection.pk)
    current = status_of(connection)
    assert current.last_payment_import_at is not None and current.ok
    day_later = current.last_payment_import_at + dt.timedelta(hours=24, minutes=1)
    MonitorState.objects.update_or_create(
        connection=connection, defaults={"last_export_at": day_later}
    )
    current = status_of(connection, now=day_later)
    assert current.payments_overdue and not current.export_overdue
    assert [p.code for p in current.problems] == [status.PAYMENTS_OVERDUE]
    assert "every 12 hours" in current.problems[0].message


def test_refused_credentials_fail_the_status_and_do_not_count_as_an_export(connection):
    refuse_credentials(connection)
    current = status_of(connection)
    assert current.credentials_failing and current.failing
    assert current.last_export_at is None
    problem = current.problems[0]
    assert problem.code == status.CREDENTIALS
    assert msg.CLIENT_NOT_INITIALIZED in problem.message
    assert problem.fix_url == reverse("admin:intacct_wizard_credentials", args=[connection.pk])


def test_open_error_transactions_at_the_threshold_are_a_problem_that_links_to_them(
    connection, settings
):
    settings.INTACCT_ALERT_OPEN_ERRORS = 3
    f.ErrorTransactionFactory.create_batch(2, subsidiary=connection.subsidiary)
    f.ErrorTransactionFactory(subsidiary=connection.subsidiary, status="resolved")
    f.ErrorTransactionFactory.create_batch(5)  # another subsidiary's
    assert status_of(connection).open_errors == 2 and status_of(connection).ok
    f.ErrorTransactionFactory(subsidiary=connection.subsidiary)
    (problem,) = status_of(connection).problems
    assert problem.code == status.OPEN_ERRORS
    assert problem.message.startswith("3 documents failed to export")
    assert problem.fix_url.endswith(
        f"?status__exact=failed&subsidiary__id__exact={connection.subsidiary_id}"
    )
    assert not status_of(connection).failing  # errors alert, but are not an outage


def test_reading_the_status_costs_the_same_queries_whatever_the_documents(connection):
    def queries():
        with CaptureQueriesContext(db) as captured:
            connections_status()
        return len(captured)

    make_load(connection)
    few = queries()
    for _ in range(15):
        make_load(connection)
    f.ErrorTransactionFactory.create_batch(10, subsidiary=connection.subsidiary)
    assert queries() == few


# --- the connection page, the endpoint, the command ----------------------------------------


def test_a_document_type_that_cannot_be_counted_leaves_the_page_open(
    connection, admin_client, monkeypatch, caplog
):
    from intacct import export

    def broken(*, connection):
        raise RuntimeError("database view missing")

    kind = export.DOCUMENT_TYPES["load"]
    monkeypatch.setitem(export.DOCUMENT_TYPES, "load", dataclasses.replace(kind, ready=broken))
    assert status_of(connection).documents_waiting is None
    page = admin_client.get(reverse("admin:intacct_connection_change", args=[connection.pk]))
    assert page.status_code == 200
    assert "unknown: a document type could not be counted" in page.content.decode()
    assert "load could not be counted" in caplog.text


def test_the_connection_page_shows_the_status_panel(connection, admin_client):
    refuse_credentials(connection)
    page = admin_client.get(reverse("admin:intacct_connection_change", args=[connection.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="intacct-status"' in html
    assert "Documents waiting to export</th><td>1</td>" in html
    assert "Open Error Transactions</th><td>1</td>" in html
    assert "refused by Sage Intacct" in html
    assert reverse("admin:intacct_wizard_credentials", args=[connection.pk]) in html


def test_the_endpoint_refuses_anonymous_and_staff_outside_the_roles(client, connection, admins):
    response = client.get("/intacct/status.json")
    assert response.status_code == 401
    assert response.json() == {"error": views.NOT_ALLOWED}
    client.force_login(User.objects.get(username="otto"))
    assert client.get("/intacct/status.json").status_code == 401
    client.force_login(admins[0])
    assert client.get("/intacct/status.json").status_code == 200


def test_the_endpoint_answers_a_monitors_token_without_any_secret(client, connection, settings):
    settings.INTACCT_STATUS_TOKEN = TOKEN
    assert client.get("/intacct/status.json", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    make_load(connection)
    response = client.get("/intacct/status.json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["failing"]) == (True, False)
    (entry,) = body["connections"]
    assert entry["subsidiary"] == "RF" and entry["documents_waiting"] == 1
    assert entry["open_error_transactions"] == 0 and entry["problems"] == []
    text = response.content.decode()
    for secret in (demo_data.SAGE_USER_PASSWORD, demo_data.SAGE_USER_ID, TOKEN):
        assert secret not in text
    wrong = client.get("/intacct/status.json?subsidiary=XX", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert wrong.status_code == 404 and "XX" in wrong.json()["error"]


def test_an_empty_token_setting_never_opens_the_endpoint(client, connection, settings):
    settings.INTACCT_STATUS_TOKEN = ""
    assert client.get("/intacct/status.json", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_the_command_prints_the_status_and_exits_zero_when_all_is_well(connection):
    make_load(connection)
    out = io.StringIO()
    call_command("intacct_status", stdout=out)
    text = out.getvalue()
    assert "RF Ridgeline Freight (Active): OK" in text
    assert "documents waiting:              1" in text


def test_the_command_exits_non_zero_when_credentials_fail(connection):
    refuse_credentials(connection)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 connection"):
        call_command("intacct_status", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["failing"] and body["connections"][0]["credentials_failing"]


def test_the_command_exits_non_zero_when_the_export_is_overdue(connection):
    connection.activated_at = timezone.now() - dt.timedelta(hours=2)
    connection.save(update_fields=["activated_at"])
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 connection"):
        call_command("intacct_status", stdout=out)
    assert "RF Ridgeline Freight (Active): needs attention" in out.getvalue()
    assert "No export has reached Sage Intacct since" in out.getvalue()


def test_the_command_refuses_an_unknown_subsidiary(connection):
    with pytest.raises(CommandError, match=r"No Active or Paused .* ZZ"):
        call_command("intacct_status", "--subsidiary", "ZZ", stdout=io.StringIO())


# --- alerts --------------------------------------------------------------------------------


def test_failing_credentials_send_one_email_to_the_admins_not_one_per_document(
    connection, admins, settings
):
    settings.LEDGERLINE_BASE_URL = "https://books.example.com"
    settings.INTACCT_ALERT_OPEN_ERRORS = 4
    for _ in range(5):
        make_load(connection)
    refuse_credentials(connection)
    assert am.ErrorTransaction.objects.filter(status="failed").count() == 6

    assert tasks.connection_alerts_send() == {"sent": 1}
    (email,) = mail.outbox
    assert sorted(email.to) == ["ada@example.com", "pat@example.com"]
    assert "RF Ridgeline Freight needs attention" in email.subject
    assert "refuses the credentials" in email.subject and "Error Transactions" in email.subject
    credentials_url = reverse("admin:intacct_wizard_credentials", args=[connection.pk])
    assert f"Fix it here: https://books.example.com{credentials_url}" in email.body
    assert demo_data.SAGE_USER_PASSWORD not in email.body

    # The next checks find nothing new: no second email, however many documents fail.
    make_load(connection)
    tasks.connection_export(connection.pk)
    assert alerts.alerts_send() == 0
    assert len(mail.outbox) == 1


def test_a_fixed_problem_sends_one_all_clear(connection, admins):
    refuse_credentials(connection)
    assert alerts.alerts_send() == 1
    sandbox_user_set_active(active=True)
    assert connection_services.connection_test(connection=connection)[0]
    assert alerts.alerts_send() == 1
    assert mail.outbox[-1].subject.endswith("RF Ridgeline Freight is working again")
    assert "Resolved: Sage Intacct refuses the credentials." in mail.outbox[-1].body
    assert alerts.alerts_send() == 0


def test_an_overdue_schedule_alerts_once(connection, admins):
    two_hours = later(connection, hours=2)
    assert alerts.alerts_send(now=two_hours) == 1
    assert "the export is overdue" in mail.outbox[0].subject
    assert alerts.alerts_send(now=two_hours + dt.timedelta(minutes=5)) == 0


def test_an_email_that_could_not_be_sent_is_tried_again_on_the_next_check(connection, admins):
    refuse_credentials(connection)
    with mock.patch.object(alerts.EmailMessage, "send", side_effect=OSError("SMTP down")):
        assert alerts.alerts_send() == 0
    assert MonitorState.objects.get(connection=connection).alerted == ""
    assert alerts.alerts_send() == 1
    assert len(mail.outbox) == 1


def test_two_clusters_checking_at_once_send_the_change_once(connection, admins):
    refuse_credentials(connection)
    # The other cluster claimed the change between this one's read and its update.
    real_get_or_create = MonitorState.objects.get_or_create

    def stale_read(**kwargs):
        row, created = real_get_or_create(**kwargs)
        MonitorState.objects.filter(pk=row.pk).update(alerted="credentials")
        return row, created

    with mock.patch.object(MonitorState.objects, "get_or_create", side_effect=stale_read):
        assert alerts.alerts_send() == 0
    assert mail.outbox == []
    assert MonitorState.objects.get(connection=connection).alerted == "credentials"


def test_without_an_admin_email_the_alert_is_logged(connection, caplog):
    refuse_credentials(connection)
    assert alerts.alerts_send() == 0
    assert "no active user with an email address" in caplog.text


def test_ensure_schedules_adds_the_alert_check_every_five_minutes(connection):
    call_command("ensure_schedules", stdout=io.StringIO())
    schedule = Schedule.objects.get(name=schedules.ALERTS_SCHEDULE)
    assert (schedule.func, schedule.minutes, schedule.repeats) == (schedules.ALERTS_TASK, 5, -1)
    assert schedule.next_run is not None
    call_command("ensure_schedules", stdout=io.StringIO())
    assert Schedule.objects.filter(func=schedules.ALERTS_TASK).count() == 1
