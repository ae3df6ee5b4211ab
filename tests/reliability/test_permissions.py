"""Every admin page and action, for the four kinds of user: Admin, Partner Admin, Support (the
roles of accounting/roles.py) and a staff user without any permission. The expected answer is
written from the product's rules, not read back from the admin classes."""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounting import models as am
from accounting import roles

from .conftest import admin_pages

USERS = {
    "admin": roles.ADMIN,
    "partner admin": roles.PARTNER_ADMIN,
    "support": roles.SUPPORT,
    "staff without permissions": None,
}
MANAGE = "accounting.manage_company_profile"
BILLING = "accounting.billing"
NOBODY = "nobody"  # not even an admin: the page refuses everyone (read-only logs, wizard-made rows)

# Pages that only change state: a browser reaches them with a form that POSTs.
POST_ONLY = {
    "intacct_test",
    "intacct_refresh",
    "intacct_primary_sync",
    "intacct_export_now",
    "intacct_import_payments_now",
    "intacct_notification_rotate",
    "intacct_notification_test",
    "intacct_reconcile_now",
    "intacct_reconcile_link",
    "intacct_reconcile_import_payments",
}


def grants(role) -> set[str]:
    """What each role may do, as roles.py and the seeds say it."""
    if role in (roles.ADMIN, roles.PARTNER_ADMIN):
        return {"accounting.*", MANAGE, BILLING}
    if role == roles.SUPPORT:
        changes = {f"accounting.change_{model}" for model in roles.SUPPORT_CHANGE_MODELS}
        return {"accounting.view_*", MANAGE, BILLING, *changes}
    return set()


def allowed(granted: set[str], permission: str) -> bool:
    if permission == NOBODY:
        return False
    app, codename = permission.split(".")
    action = codename.split("_")[0]
    return permission in granted or f"{app}.*" in granted or f"{app}.{action}_*" in granted


def needed(name: str, model_admin) -> str:
    """The permission a page needs, by the product's rules."""
    if model_admin is None:
        return {"index": "", "password_change": ""}[name]
    if name == "app_list":
        return {"accounting": "accounting.view_*", "intacct": MANAGE}.get(model_admin, NOBODY)
    opts = model_admin.model._meta
    kind = name.removeprefix(f"{opts.app_label}_{opts.model_name}_")
    if opts.app_label == "intacct":
        if (opts.model_name, kind) in {
            ("connection", "add"),
            ("connection", "delete"),
            ("paymentimportrun", "add"),
            ("paymentimportrun", "delete"),
            ("paymentnotification", "add"),
            ("paymentnotification", "delete"),
        }:
            return NOBODY  # connections come from the wizard; the import logs are read-only
        return MANAGE
    if opts.app_label != "accounting":
        return NOBODY  # users, groups, the task cluster, the sandbox: superusers only
    if opts.model_name == "errortransaction":
        return NOBODY if kind in ("add", "delete") else BILLING
    if opts.model_name == "syncrecord" and kind in ("add", "delete"):
        return NOBODY  # the ledger is written by the export and never deleted by hand
    if opts.model_name == "payment" and kind == "delete":
        # The world's payments are imported from Sage: only the import changes them.
        return NOBODY
    action = {
        "changelist": "view",
        "change": "view",
        "history": "view",
        "export": "view",
        "add": "add",
        "delete": "delete",
        "import": "change",
        "process_import": "change",
    }[kind]
    return f"accounting.{action}_{opts.model_name}"


def expected(granted: set[str], name: str, model_admin) -> int:
    if name.endswith("_process_import"):
        return 405  # POST only, refused before anything else (its POST is checked below)
    permission = needed(name, model_admin)
    if not permission:
        return 200
    if allowed(granted, permission):
        return 405 if name in POST_ONLY else 200
    return 404 if name == "app_list" else 403


@pytest.fixture
def browsers(db, django_user_model, quiet_refusals):
    clients = {}
    for key, role in USERS.items():
        user = django_user_model.objects.create_user(
            key.replace(" ", "_"), password="pw-123456", is_staff=True
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        client = Client()
        client.force_login(user)
        clients[key] = (client, grants(role))
    return clients


def actions() -> list[tuple]:
    """(model, action name) of every admin action, the site-wide delete_selected included."""
    found = []
    for model, model_admin in admin.site._registry.items():
        for action in ["delete_selected", *(model_admin.actions or [])]:
            found.append((model, action if isinstance(action, str) else action.__name__))
    return found


def action_permission(model, action: str) -> str:
    opts = model._meta
    if opts.app_label not in ("accounting", "intacct"):
        return NOBODY
    if action == "delete_selected":
        if opts.model_name in ("errortransaction", "syncrecord") or (
            opts.app_label == "intacct"
            and opts.model_name in ("connection", "paymentimportrun", "paymentnotification")
        ):
            return NOBODY
        return MANAGE if opts.app_label == "intacct" else f"accounting.delete_{opts.model_name}"
    return {
        "invoice_selected": "accounting.change_load",
        "retry_export": BILLING,
        "retry_sync": BILLING,
        "mark_as_synced": BILLING,
    }[action]


def ran(response) -> bool:
    """Whether an action POST did its work: a confirmation page, or a redirect with its report
    (a refused action redirects with "No action selected." or shows the list again)."""
    if response.status_code == 302:
        added = response.wsgi_request._messages._queued_messages  # by this request only
        return "No action selected." not in [m.message for m in added]
    templates = {t.name for t in response.templates}
    return response.status_code == 200 and not any(
        name.endswith("change_list.html") for name in templates
    )


@pytest.mark.parametrize("user", USERS)
def test_every_admin_page_and_action_answers_each_user_as_the_roles_say(world, browsers, user):
    browser, granted = browsers[user]
    assert not am.Payment.objects.exclude(source=am.Payment.Source.IMPORTED).exists()
    wrong = []
    for name, model_admin, url in admin_pages(world):
        if name == "app_list":
            model_admin = url.strip("/").split("/")[-1]
        status = browser.get(url).status_code
        want = expected(granted, name, model_admin)
        if status != want:
            wrong.append(f"GET {url}: {status}, expected {want}")
    for model, action in actions():
        opts = model._meta
        first = model._default_manager.order_by("pk").first()
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = browser.post(
            url, {"action": action, "index": "0", helpers.ACTION_CHECKBOX_NAME: [first.pk]}
        )
        may = allowed(granted, action_permission(model, action))
        if may != ran(response) or (not may and response.status_code not in (200, 302, 403)):
            wrong.append(f"POST {opts.label} {action}: {response.status_code}, allowed: {may}")
    assert wrong == []
