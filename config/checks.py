"""System checks of the settings, run by `manage.py check` (and runserver, migrate, ...)."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks

FERNET_KEYS_EMPTY = "INTACCT_FERNET_KEYS is empty: Sage passwords can be neither stored nor read."
FERNET_KEY_INVALID = (
    "INTACCT_FERNET_KEYS: key {position} of {count} is not a Fernet key (32 url-safe "
    "base64-encoded bytes)."
)
FERNET_FIX = (
    "Set INTACCT_FERNET_KEYS to comma-separated Fernet keys, newest first. Correct a key that "
    'was cut short or mistyped; make a new one with: python -c "from cryptography.fernet '
    'import Fernet; print(Fernet.generate_key().decode())" and keep the old keys after it '
    "until `manage.py intacct_rotate_keys` has run."
)


@checks.register()
def fernet_keys_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """An error for an empty key list and for each value that is not a Fernet key (the
    message names its position, never the key)."""
    keys = [key.strip() for key in settings.INTACCT_FERNET_KEYS if key.strip()]
    if not keys:
        return [checks.Error(FERNET_KEYS_EMPTY, hint=FERNET_FIX, id="ledgerline.E001")]
    problems = []
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except ValueError:
            problems.append(
                checks.Error(
                    FERNET_KEY_INVALID.format(position=position, count=len(keys)),
                    hint=FERNET_FIX,
                    id="ledgerline.E002",
                )
            )
    return problems
