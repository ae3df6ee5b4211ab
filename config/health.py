"""Health and readiness for a load balancer or monitor: JSON, no sign-in, no secrets, cheap.

`/healthz` answers as long as the process serves requests (no database, no broker).
`/readyz` answers 200 when the database answers, the task broker answers and every migration
is applied, else 503 naming what failed and how to fix it. One database query (three until the
migrations are first found applied), whatever the data.
"""

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("config.health")

# Messages a monitor shows: what failed, and what to do. Never an exception's text, which can
# carry a host name or user (and, from some drivers, more).
DATABASE_DOWN = (
    "The database did not answer: check that it is running and that DATABASE_URL points at it."
)
BROKER_DOWN = (
    "Redis (the task broker) did not answer: check that it is running and that REDIS_URL "
    "points at it."
)
MIGRATIONS_PENDING = (
    "{count} migration(s) are not applied: run `python manage.py migrate` (the Procfile's "
    "release step)."
)
BROKER_TIMEOUT_SECONDS = 2

# Once every migration is found applied it stays so for this process's code: later probes skip
# reading the migration table.
_migrations_applied = False


@never_cache
@require_GET
def healthz(request):
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Ready for traffic: database, broker and migrations, each "ok" or a message."""
    checks = {"database": _database(), "broker": "ok", "migrations": "ok"}
    if checks["database"] != "ok":
        checks["migrations"] = "unknown: the database did not answer"
    else:
        checks["migrations"] = _migrations()
    checks["broker"] = _broker(checks["database"])
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def _database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        logger.warning("Readiness: the database did not answer (%s)", type(error).__name__)
        return DATABASE_DOWN
    return "ok"


def _migrations() -> str:
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:
        logger.warning("Readiness: migrations could not be read (%s)", type(error).__name__)
        return DATABASE_DOWN
    if pending:
        return MIGRATIONS_PENDING.format(count=len(pending))
    _migrations_applied = True
    return "ok"


def _broker(database: str) -> str:
    """Redis when REDIS_URL is set; otherwise the broker is the database itself."""
    if not settings.REDIS_URL:
        return database
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
            socket_timeout=BROKER_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:
        logger.warning("Readiness: Redis did not answer (%s)", type(error).__name__)
        return BROKER_DOWN
    return "ok"
