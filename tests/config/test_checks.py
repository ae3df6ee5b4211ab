"""`manage.py check` reports an empty or invalid INTACCT_FERNET_KEYS with the fix, before a
password is ever stored or read."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.checks import FERNET_FIX, FERNET_KEY_INVALID, FERNET_KEYS_EMPTY

GOOD = Fernet.generate_key().decode()


def check() -> str:
    """What `manage.py check` says, its errors included."""
    out = io.StringIO()
    try:
        call_command("check", stdout=out, stderr=out)
    except SystemCheckError as error:
        return str(error)
    return out.getvalue()


@pytest.mark.parametrize("keys", [[], [""], [" ", ""]], ids=["none", "blank", "spaces"])
def test_an_empty_key_list_is_an_error_with_the_fix(settings, keys):
    settings.INTACCT_FERNET_KEYS = keys

    said = check()

    assert f"(ledgerline.E001) {FERNET_KEYS_EMPTY}" in said
    assert f"HINT: {FERNET_FIX}" in said


def test_a_value_that_is_not_a_fernet_key_is_named_by_its_position_never_shown(settings):
    settings.INTACCT_FERNET_KEYS = [GOOD, GOOD[:-4], "hunter2-not-a-key"]

    said = check()

    assert FERNET_KEY_INVALID.format(position=2, count=3) in said
    assert FERNET_KEY_INVALID.format(position=3, count=3) in said
    assert FERNET_KEY_INVALID.format(position=1, count=3) not in said
    assert GOOD[:-4] not in said and "hunter2" not in said


def test_valid_keys_pass(settings):
    settings.INTACCT_FERNET_KEYS = [GOOD, Fernet.generate_key().decode()]

    assert "System check identified no issues" in check()
