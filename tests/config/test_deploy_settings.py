"""Deployment settings read from the environment: email, static files, the probes' exemption."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import config.settings as s
print(json.dumps({
    "email_backend": s.EMAIL_BACKEND,
    "email_host": getattr(s, "EMAIL_HOST", ""),
    "email_port": getattr(s, "EMAIL_PORT", None),
    "email_tls": getattr(s, "EMAIL_USE_TLS", False),
    "email_password": getattr(s, "EMAIL_HOST_PASSWORD", ""),
    "staticfiles": s.STORAGES["staticfiles"]["BACKEND"],
    "middleware": s.MIDDLEWARE[:2],
    "redirect_exempt": getattr(s, "SECURE_REDIRECT_EXEMPT", []),
    "kept_names": [name for name in dir(s) if "EMAIL" in name],
}))
"""


def settings_with(**env) -> dict:
    child = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL", "DEBUG"))}
    child.update(env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=child, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "s" * 50,
    "ALLOWED_HOSTS": "books.example.com",
    "INTACCT_FERNET_KEYS": Fernet.generate_key().decode(),
}


def test_development_prints_email_to_the_console_and_serves_static_files_unhashed():
    s = settings_with(DEBUG="true")
    assert s["email_backend"] == "django.core.mail.backends.console.EmailBackend"
    assert s["staticfiles"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert s["middleware"][1] == "whitenoise.middleware.WhiteNoiseMiddleware"


def test_production_sends_smtp_from_email_url_and_serves_hashed_compressed_static_files():
    s = settings_with(**PRODUCTION, EMAIL_URL="smtp+tls://alerts:pa55word@smtp.example.com:587")
    assert s["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["email_host"], s["email_port"], s["email_tls"]) == ("smtp.example.com", 587, True)
    assert s["email_password"] == "pa55word"
    # The password is kept only under the name Django's error reports mask.
    assert [n for n in s["kept_names"] if n.endswith(("CONFIG", "URL"))] == []
    assert s["staticfiles"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert s["redirect_exempt"] == [r"^healthz$", r"^readyz$"]
