"""Admin sign-in throttling (django-axes): a user name is locked from an address after
repeated failures, with the lockout page; an administrator unlocks it in the admin."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from config.lockout import UNLOCK_HOW, lockout_message

PASSWORD = "Correct-Horse-42"
ATTACKER, OFFICE = "203.0.113.9", "198.51.100.20"


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    """Dozens of sign-ins: a fast hasher keeps the test quick (the throttle does not care)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def accountant(django_user_model):
    return django_user_model.objects.create_user(
        "accountant", password=PASSWORD, is_staff=True, is_superuser=True
    )


def sign_in(address: str, password: str, username: str = "accountant") -> tuple[Client, object]:
    client = Client(REMOTE_ADDR=address)
    page = client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
    )
    return client, page


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_fifth_failure_locks_and_then_even_the_right_password_is_refused(accountant, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        client, page = sign_in(ATTACKER, "guess")
        assert page.status_code == 200 and not signed_in(client)
    assert sign_in(ATTACKER, "guess")[1].status_code == 429

    client, page = sign_in(ATTACKER, PASSWORD)

    assert page.status_code == 429
    assert escape(lockout_message()) in page.content.decode()
    assert "locked for 15 minutes" in lockout_message()
    assert escape(UNLOCK_HOW) in page.content.decode()
    assert not signed_in(client)
    assert PASSWORD not in str(list(AccessAttempt.objects.values()))


def test_the_lock_is_per_user_and_address(accountant, django_user_model):
    django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    for _ in range(5):
        sign_in(ATTACKER, "guess")

    assert signed_in(sign_in(OFFICE, PASSWORD)[0])  # the real user, from the office
    assert signed_in(sign_in(ATTACKER, PASSWORD, username="clerk")[0])  # another user
    assert sign_in(ATTACKER, PASSWORD)[1].status_code == 429


def test_a_success_resets_the_count(accountant):
    for _ in range(4):
        sign_in(OFFICE, "typo")
    assert signed_in(sign_in(OFFICE, PASSWORD)[0])
    for _ in range(4):
        sign_in(OFFICE, "typo")

    assert signed_in(sign_in(OFFICE, PASSWORD)[0])


def test_an_administrator_unlocks_a_user_from_the_admin(accountant, admin_client):
    for _ in range(5):
        sign_in(ATTACKER, "guess")
    attempt = AccessAttempt.objects.get(username="accountant")
    attempts = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert attempts.status_code == 200 and "accountant" in attempts.content.decode()

    admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )

    assert not AccessAttempt.objects.exists()
    assert signed_in(sign_in(ATTACKER, PASSWORD)[0])
