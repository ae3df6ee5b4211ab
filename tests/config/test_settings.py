"""Settings are parsed from the environment in one place; each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import config.settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "engine": s.DATABASES["default"]["ENGINE"],
    "name": str(s.DATABASES["default"]["NAME"]),
    "host": s.DATABASES["default"].get("HOST", ""),
    "q": s.Q_CLUSTER,
    "secret_key": s.SECRET_KEY,
    "fernet_keys": s.INTACCT_FERNET_KEYS,
    "sandbox": s.INTACCT_SANDBOX,
    "endpoint": s.INTACCT_ENDPOINT_URL,
}))
"""

SETTINGS_VARS = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "INTACCT_FERNET_KEYS",
    "DATABASE_URL",
    "REDIS_URL",
    "Q_TIMEOUT",
    "Q_RETRY",
    "INTACCT_SANDBOX",
    "INTACCT_ENDPOINT_URL",
    "PORT",
)


def load_settings(**env):
    """Import config.settings in a child interpreter with only `env` set; return (code, out)."""
    child_env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    child_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        return 0, json.loads(proc.stdout)
    return proc.returncode, proc.stderr


def test_nothing_set_runs_for_development_on_sqlite_in_the_project_folder():
    code, s = load_settings()
    assert code == 0, s
    assert s["debug"] is True
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(ROOT / "db.sqlite3")
    assert s["sandbox"] is True
    assert s["endpoint"] == "http://127.0.0.1:8000/intacct-sandbox/xmlgw.phtml"
    assert s["fernet_keys"]


def test_database_url_switches_to_postgresql():
    code, s = load_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/ledgerline")
    assert code == 0, s
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("ledgerline", "127.0.0.1")


def test_task_cluster_uses_the_orm_broker_by_default_and_redis_when_set():
    code, s = load_settings()
    assert s["q"]["orm"] == "default" and "redis" not in s["q"]
    assert s["q"]["retry"] > s["q"]["timeout"]
    assert s["q"]["catch_up"] is False

    code, s = load_settings(REDIS_URL="redis://127.0.0.1:6379/3")
    assert code == 0, s
    assert s["q"]["redis"] == "redis://127.0.0.1:6379/3" and "orm" not in s["q"]


def test_a_retry_not_larger_than_the_timeout_is_refused():
    code, err = load_settings(Q_TIMEOUT="600", Q_RETRY="600")
    assert code != 0
    assert "Q_RETRY (600) must be larger than Q_TIMEOUT (600)" in err


@pytest.mark.parametrize(
    "present",
    [
        {},
        {"SECRET_KEY": "x" * 50},
        {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "tms.example.com"},
    ],
)
def test_production_refuses_to_start_without_its_secrets(present):
    code, err = load_settings(DEBUG="false", **present)
    assert code != 0
    missing = [
        n for n in ("SECRET_KEY", "ALLOWED_HOSTS", "INTACCT_FERNET_KEYS") if n not in present
    ]
    assert f"these settings must be set in the environment: {', '.join(missing)}" in err


def test_production_starts_with_its_secrets_and_no_development_fallbacks():
    code, s = load_settings(
        DEBUG="false",
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="tms.example.com",
        INTACCT_FERNET_KEYS="new-key,old-key",
    )
    assert code == 0, s
    assert s["debug"] is False
    assert s["secret_key"] == "k" * 50
    assert s["fernet_keys"] == ["new-key", "old-key"]
    assert s["sandbox"] is False
    assert s["endpoint"] == "https://api.intacct.com/ia/xml/xmlgw.phtml"
