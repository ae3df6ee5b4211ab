"""Secrets and requests: credentials encrypted at rest and rotated, a wrong key fails loudly,
no password or session ID in any page, log line, audit record or error message, every state
change is a POST with a CSRF token, and `check --deploy` is clean in production settings."""

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.admin import helpers
from django.core.management import CommandError, call_command
from django.db import connection as db
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounting import demo_data
from accounting import models as am
from intacct import models as m
from intacct import tasks
from intacct.connections import crypto
from intacct.connections.sage import client_for
from intacct.payments import services as payments
from intacct.sandbox.models import SandboxRecord, SandboxSession
from intacct.sandbox.services import sandbox_user_set_active
from tests import factories as f
from tests.intacct.test_wizard import (
    ADVANCED,
    AP_DEFAULTS,
    AR_DEFAULTS,
    REQUIRED_CUSTOM_FIELDS,
    credentials,
    start,
)

from .conftest import admin_pages, assert_exported_exactly_once, make_load, make_trip, pay

ROOT = Path(__file__).resolve().parents[2]


def stored_token(connection) -> str:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT password_encrypted FROM intacct_connection WHERE id = %s", [connection.pk]
        )
        return cursor.fetchone()[0]


# --- credentials at rest ----------------------------------------------------------------------


def test_the_password_is_stored_encrypted_and_rotation_moves_it_to_the_newest_key(
    connection, settings
):
    before = stored_token(connection)
    assert demo_data.SAGE_USER_PASSWORD not in before and before.startswith("gAAAA")
    current, new = settings.INTACCT_FERNET_KEYS[0], Fernet.generate_key().decode()
    settings.INTACCT_FERNET_KEYS = [new, current]  # the new key goes in front

    out = io.StringIO()
    call_command("intacct_rotate_keys", stdout=out)

    assert "Re-encrypted 1 stored password(s)." in out.getvalue()
    after = stored_token(connection)
    assert after != before and demo_data.SAGE_USER_PASSWORD not in after
    settings.INTACCT_FERNET_KEYS = [new]  # the old key is retired: everything still works
    connection.refresh_from_db()
    load = make_load(connection)
    assert tasks.connection_export(connection.pk)["created"] == 1
    assert_exported_exactly_once(load)


def test_rotation_stops_at_a_password_no_key_opens_and_changes_nothing(connection, settings):
    other = m.Connection.objects.create(subsidiary=f.SubsidiaryFactory(name="Lost Key Hauling"))
    settings.INTACCT_FERNET_KEYS = [Fernet.generate_key().decode()]
    other.set_password("encrypted-under-a-lost-key")
    other.save()
    current = Fernet.generate_key().decode()
    settings.INTACCT_FERNET_KEYS = [current, *settings.INTACCT_FERNET_KEYS[1:]]
    before = {c.pk: stored_token(c) for c in (connection, other)}

    with pytest.raises(CommandError, match="Lost Key Hauling: The stored Sage password cannot"):
        call_command("intacct_rotate_keys", stdout=io.StringIO())

    assert {c.pk: stored_token(c) for c in (connection, other)} == before


def test_a_wrong_key_fails_loudly_and_the_connection_page_says_why(
    connection, settings, admin_client, sandbox_requests
):
    make_load(connection)
    settings.INTACCT_FERNET_KEYS = [Fernet.generate_key().decode()]  # the key was lost
    sent = len(sandbox_requests)

    with pytest.raises(crypto.CredentialDecryptError, match="cannot be decrypted"):
        tasks.connection_export(connection.pk)
    with pytest.raises(crypto.CredentialDecryptError):
        tasks.connection_payments_import(connection.pk)
    run = m.PaymentImportRun.objects.get()
    assert (run.status, run.error) == ("failed", crypto.WRONG_KEY)  # not left Running
    assert len(sandbox_requests) == sent  # nothing reached Sage, no empty password tried

    test = admin_client.post(reverse("admin:intacct_test", args=[connection.pk]), follow=True)
    assert test.status_code == 200 and escape(crypto.WRONG_KEY) in test.content.decode()
    connection.refresh_from_db()
    assert (connection.last_test_ok, connection.last_test_message) == (False, crypto.WRONG_KEY)
    preview = admin_client.get(
        reverse("admin:intacct_preview_document", args=["load", am.Load.objects.get().pk])
    )
    assert preview.status_code == 200 and escape(crypto.WRONG_KEY) in preview.content.decode()


# --- no secret anywhere -----------------------------------------------------------------------


class Everything(logging.Handler):
    """Every log record, formatted with its traceback, from every logger."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def all_logs():
    handler = Everything()
    names = ["", "django", "django.request", "django.security", "intacct", "accounting"]
    loggers = [logging.getLogger(name) for name in names]
    saved = [(logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    # Django's own debugging (each template variable lookup, each SQL statement) is not
    # something production logs; everything else is captured from DEBUG up.
    quiet = [logging.getLogger(name) for name in ("django.template", "django.db.backends")]
    for logger in quiet:
        logger.setLevel(logging.INFO)
    yield handler.lines
    for logger in quiet:
        logger.setLevel(logging.NOTSET)
    for logger, (level, disabled) in zip(loggers, saved, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled


def database_text() -> str:
    """Every row the application keeps (not the sandbox's own tables, which play Sage), the
    encrypted password column left out, and an Error Transaction's `cause`: a grouping key
    derived from its message, which the Error Transactions list works out and stores on its
    first view of a new failure (a cache of the message, never shown or edited; README
    "Payment import and admin pages")."""
    rows = []
    for model in apps.get_models():
        if model._meta.app_label == "intacct_sandbox" or model._meta.proxy:
            continue
        for row in model._default_manager.values():
            row.pop("password_encrypted", None)
            if model._meta.label == "accounting.ErrorTransaction":
                row.pop("cause")
            rows.append(f"{model._meta.label} {row!r}")
    return "\n".join(rows)


def test_no_password_or_session_id_appears_in_pages_logs_audit_records_or_errors(
    sandbox, admin_client, all_logs, settings
):
    freight = f.SubsidiaryFactory(code="RF", name="Ridgeline Freight")
    pages = []

    # Connect through the wizard: a wrong password first, then the right one.
    connection = start(admin_client, freight)
    pages.append(credentials(admin_client, connection, password="Wr0ng-Pa$$word!"))
    pages.append(credentials(admin_client, connection))
    for step, data in (
        ("wizard_ap", AP_DEFAULTS),
        ("wizard_ar", AR_DEFAULTS),
        ("wizard_advanced", {**ADVANCED, **REQUIRED_CUSTOM_FIELDS}),
        ("wizard_finish", {}),
    ):
        pages.append(
            admin_client.post(
                reverse(f"admin:intacct_{step}", args=[connection.pk]), data, follow=True
            )
        )
    connection.refresh_from_db()
    assert connection.status == "active"

    # Export and import with an audit hook, then fail: revoked credentials, a refused sign-in.
    audit = []
    f.ExternalIdFactory(
        subsidiary=freight,
        customer=f.CustomerFactory(name="Acme Distribution"),
        external_id="C1001",
    )
    load, trip = make_load(connection), make_trip(connection)
    from intacct import export

    export.connection_export(
        connection=connection, client=client_for(connection, audit=audit.append)
    )
    pay(load)
    payments.payments_import(
        connection=connection, client=client_for(connection, audit=audit.append)
    )
    tasks.connection_export(connection.pk)
    tasks.connection_payments_import(connection.pk)
    sandbox_user_set_active(active=False)
    make_load(connection)
    export.connection_export(
        connection=connection, client=client_for(connection, audit=audit.append)
    )
    payments.payments_import(connection=connection)
    pages.append(
        admin_client.post(reverse("admin:intacct_test", args=[connection.pk]), follow=True)
    )

    # Every page the people involved read, the error pages included.
    for url in (
        reverse("admin:accounting_errortransaction_changelist"),
        reverse(
            "admin:accounting_errortransaction_change",
            args=[am.ErrorTransaction.objects.first().pk],
        ),
        reverse("admin:accounting_syncrecord_changelist"),
        reverse("admin:intacct_connection_change", args=[connection.pk]),
        reverse("admin:intacct_connection_changelist"),
        reverse("admin:intacct_paymentimportrun_changelist"),
        reverse(
            "admin:intacct_paymentimportrun_change", args=[m.PaymentImportRun.objects.first().pk]
        ),
        reverse("admin:intacct_wizard_credentials", args=[connection.pk]),
        reverse("admin:intacct_preview_document", args=["trip", trip.pk]),
        reverse("admin:intacct_sandbox_sandboxuser_changelist"),
        reverse("admin:intacct_sandbox_sandboxuser_change", args=[1]),
        reverse("admin:accounting_errortransaction_sync_all"),
    ):
        pages.append(admin_client.get(url))
    assert [p.wsgi_request.path for p in pages if p.status_code not in (200, 302)] == []

    secrets = {
        demo_data.SAGE_USER_PASSWORD,
        demo_data.SAGE_SENDER_PASSWORD,
        "Wr0ng-Pa$$word!",
        *settings.INTACCT_FERNET_KEYS,
        *SandboxSession.objects.values_list("session_id", flat=True),
    }
    assert SandboxSession.objects.count() >= 2  # sessions to look for: the wizard's, the entity's
    assert len(audit) >= 2 and any("<sessionid>***</sessionid>" in a.request_xml for a in audit)
    assert any("intacct.tasks" in line for line in all_logs)  # the capture works
    places = {
        "pages": "\n".join(page.content.decode() for page in pages),
        "logs": "\n".join(all_logs),
        "audit records": "\n".join(repr(a) for a in audit),
        "database (errors, runs, ledger, admin log)": database_text(),
        "client repr": repr(client_for(connection)) + repr(client_for(connection).credentials),
    }
    leaks = [
        f"{secret[:6]}… in {place}"
        for place, text in places.items()
        for secret in secrets
        if secret and secret in text
    ]
    assert leaks == []


# --- every state change is a POST with a CSRF token ---------------------------------------------


def test_reading_every_admin_page_changes_nothing_and_every_post_form_has_a_csrf_token(
    world, admin_client, quiet_refusals
):
    """A GET (a link, a prefetch, a crawler) never changes state, and every form that does
    change it POSTs with Django's CSRF token: every admin page, read by a superuser."""
    before = database_text()
    missing, statuses = [], {}
    for _, _, url in admin_pages(world):
        page = admin_client.get(url)
        statuses[url] = page.status_code
        if page.status_code != 200:
            continue
        for form in re.findall(r"<form\b[^>]*>.*?</form>", page.content.decode(), re.S | re.I):
            opening = form[: form.index(">")].lower()
            if 'method="post"' in opening and "csrfmiddlewaretoken" not in form:
                missing.append(f"{url}: {opening[:80]}")
    assert set(statuses.values()) <= {200, 403, 405}
    assert missing == []
    assert database_text() == before


def csrf_refused(response) -> bool:
    return response.status_code == 403 and b"CSRF" in response.content


def test_state_changing_requests_without_a_csrf_token_are_refused(world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-123456")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    connection = world
    load = am.Load.objects.order_by("pk").first()
    error = am.ErrorTransaction.objects.filter(status="failed").first()
    posts = [
        (reverse("admin:intacct_test", args=[connection.pk]), {}),
        (reverse("admin:intacct_refresh", args=[connection.pk]), {}),
        (reverse("admin:intacct_primary_sync", args=[connection.pk]), {"on": "0"}),
        (reverse("admin:intacct_export_now", args=[connection.pk]), {}),
        (reverse("admin:intacct_import_payments_now", args=[connection.pk]), {}),
        (reverse("admin:intacct_notification_rotate", args=[connection.pk]), {}),
        (reverse("admin:intacct_notification_test", args=[connection.pk]), {}),
        (reverse("admin:intacct_disconnect", args=[connection.pk]), {"confirm": "on"}),
        (reverse("admin:intacct_wizard_ar", args=[connection.pk]), AR_DEFAULTS),
        (reverse("admin:accounting_errortransaction_sync_all"), {}),
        (
            reverse("admin:accounting_errortransaction_changelist"),
            {"action": "mark_as_synced", "post": "yes", helpers.ACTION_CHECKBOX_NAME: [error.pk]},
        ),
        (
            reverse("admin:accounting_load_changelist"),
            {"action": "delete_selected", "post": "yes", helpers.ACTION_CHECKBOX_NAME: [load.pk]},
        ),
        (reverse("admin:accounting_load_change", args=[load.pk]), {"number": "HACKED"}),
        (reverse("admin:accounting_load_delete", args=[load.pk]), {"post": "yes"}),
        (reverse("admin:accounting_customer_process_import"), {"import_file_name": "x.csv"}),
        (reverse("admin:intacct_sandbox_sandboxfaults_changelist"), {"action": "clear"}),
    ]
    before = database_text()
    refused = {url: csrf_refused(browser.post(url, data)) for url, data in posts}
    assert [url for url, ok in refused.items() if not ok] == []
    assert database_text() == before
    assert am.Load.objects.filter(pk=load.pk, number=load.number).exists()


def test_pages_that_only_change_state_refuse_a_get(world, admin_client, quiet_refusals):
    for name in (
        "test",
        "refresh",
        "primary_sync",
        "export_now",
        "import_payments_now",
        "notification_rotate",
        "notification_test",
    ):
        url = reverse(f"admin:intacct_{name}", args=[world.pk])
        assert admin_client.get(url).status_code == 405, url
    world.refresh_from_db()
    assert world.status == "active" and world.primary_sync
    assert SandboxRecord.objects.filter(object="ARINVOICE").count() == 1


# --- production settings ----------------------------------------------------------------------


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "INTACCT_", "SECRET_KEY", "DEBUG"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        ALLOWED_HOSTS="ledgerline.example.com",
        INTACCT_FERNET_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_to_start_without_their_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "INTACCT_FERNET_KEYS")}
    env.update(DEBUG="false", ALLOWED_HOSTS="ledgerline.example.com")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY, INTACCT_FERNET_KEYS" in result.stderr
