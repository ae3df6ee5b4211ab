"""The 403 page names the missing permission and who grants it; the console logs an expected
403 as one line; /favicon.ico is the project's icon."""

import io
import logging

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from accounting import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher():
    client = Client()
    client.force_login(User.objects.create_user("dispatcher", password="x", is_staff=True))
    return client


@pytest.fixture
def console():
    """What the console log handler (config/settings.py LOGGING) prints."""
    handler = next(h for h in logging.getLogger("django").handlers if h.get_name() == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.mark.parametrize(
    "url, permission, label",
    [
        (
            "admin:intacct_connection_changelist",
            "accounting.manage_company_profile",
            "manage company profile",
        ),
        (
            "admin:intacct_wizard_start",
            "accounting.manage_company_profile",
            "manage company profile",
        ),
        ("admin:accounting_errortransaction_changelist", "accounting.billing", "billing"),
    ],
)
def test_the_403_page_names_the_missing_permission_and_who_grants_it(
    dispatcher, url, permission, label
):
    response = dispatcher.get(reverse(url))

    assert response.status_code == 403
    html = response.content.decode()
    assert f"“{label}”</strong> permission" in html and permission in html
    assert "your user <strong>dispatcher</strong> does not have" in html
    assert "The groups Admin, Partner Admin, Support hold it" in html
    assert "ask an administrator who manages users (a superuser)" in html
    assert '<div id="site-name"><a href="/admin/">Ledgerline</a></div>' in html


def test_a_member_of_a_role_group_opens_the_pages(dispatcher):
    User.objects.get(username="dispatcher").groups.add(Group.objects.get(name=roles.SUPPORT))
    for url in (
        "admin:intacct_connection_changelist",
        "admin:accounting_errortransaction_changelist",
    ):
        assert dispatcher.get(reverse(url)).status_code == 200


def test_another_refused_page_says_a_permission_is_missing(dispatcher):
    response = dispatcher.get(reverse("admin:accounting_load_changelist"))
    assert response.status_code == 403
    assert "does not have the permission this page needs" in response.content.decode()


def test_an_expected_403_is_one_line_on_the_console(dispatcher, console):
    path = reverse("admin:intacct_connection_changelist")

    dispatcher.get(path)

    lines = console.getvalue().splitlines()
    assert lines == [line for line in lines if "Traceback" not in line and "WARNING" not in line]
    forbidden = [line for line in lines if "Forbidden" in line]
    assert len(forbidden) == 1, lines
    assert (
        f"INFO django.request: Forbidden (Permission denied): {path} (user dispatcher)"
        in (forbidden[0])
    )


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("ledgerline/favicon.svg")
