"""/healthz and /readyz: what a load balancer sees, without signing in, at a constant cost."""

from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.db.migrations.recorder import MigrationRecorder

from config import health
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_migration_check(monkeypatch):
    """Each test starts as a new process would: migrations not yet found applied."""
    monkeypatch.setattr(health, "_migrations_applied", False)


@pytest.fixture
def no_redis(settings):
    settings.REDIS_URL = ""


def test_healthz_answers_without_signing_in_or_touching_the_database(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ok_when_database_and_migrations_are(client, no_redis):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "migrations": "ok"},
    }


def test_readyz_costs_the_same_queries_whatever_the_data(
    client, no_redis, django_assert_num_queries
):
    # The first probe reads the migration table (is it there, what it holds); later probes
    # only ping the database.
    with django_assert_num_queries(3):
        assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/readyz").status_code == 200
    f.LoadFactory.create_batch(30)
    with django_assert_num_queries(1):
        assert client.get("/readyz").status_code == 200


def test_readyz_names_the_migrations_not_applied_and_the_fix(client, no_redis):
    MigrationRecorder.Migration.objects.filter(app="intacct").order_by("-id").first().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"] == health.MIGRATIONS_PENDING.format(count=1)
    assert "manage.py migrate" in body["checks"]["migrations"]
    assert body["checks"]["database"] == "ok"


def test_readyz_reports_a_database_that_does_not_answer_without_its_error_text(client, no_redis):
    refused = OperationalError('connection to "db.internal" user "ledger" password "hunter2"')
    with mock.patch.object(connections["default"], "cursor", side_effect=refused):
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == health.DATABASE_DOWN
    assert checks["broker"] == health.DATABASE_DOWN  # the database is the broker here
    assert checks["migrations"].startswith("unknown")
    assert b"hunter2" not in response.content and b"db.internal" not in response.content


def test_readyz_pings_redis_when_it_is_the_broker(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/4"
    response = client.get("/readyz")
    if response.json()["checks"]["broker"] != "ok":
        pytest.skip("no Redis at 127.0.0.1:6379 here")
    assert response.status_code == 200


def test_readyz_reports_redis_down_without_its_url(client, settings):
    # Port 1 on loopback refuses at once: nothing listens there.
    settings.REDIS_URL = "redis://:s3cret-redis-password@127.0.0.1:1/4"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == health.BROKER_DOWN
    assert b"s3cret" not in response.content


def test_the_probes_need_no_sign_in_and_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.get("/healthz", follow=False).status_code == 200  # not sent to the login page
