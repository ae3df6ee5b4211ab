"""Sage credentials encrypted at rest with MultiFernet under settings.INTACCT_FERNET_KEYS.

The first key encrypts; every key decrypts, so a new key goes in front and `rotate` re-encrypts
old tokens. A token no configured key can open raises CredentialDecryptError: never garbage.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from intacct.client.errors import AuthenticationError

WRONG_KEY = (
    "The stored Sage password cannot be decrypted with any key in INTACCT_FERNET_KEYS. Restore "
    "the key it was encrypted with (keep old keys after the new one), or enter the password "
    "again in the connection's credentials step."
)


class CredentialDecryptError(AuthenticationError):
    """No configured key opens the stored password. An AuthenticationError, so every page and
    run that explains a refused sign-in explains this too (never a 500); tasks still fail."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.INTACCT_FERNET_KEYS if k.strip()]
    if not keys:
        raise ImproperlyConfigured("INTACCT_FERNET_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "INTACCT_FERNET_KEYS holds a value that is not a Fernet key (32 url-safe base64 "
            "bytes). Generate one with Fernet.generate_key()."
        ) from None


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialDecryptError(WRONG_KEY) from None


def rotate(token: str) -> str:
    """The same secret encrypted under the newest key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialDecryptError(WRONG_KEY) from None
