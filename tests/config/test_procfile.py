"""The Procfile's commands, run as a platform runs them: release on a fresh database, then the
web process (gunicorn, production settings, WhiteNoise) and a worker (the task cluster).

compose.yaml runs the same commands in containers; Docker Compose is not on these machines, so
its file is checked for what it must hold (the Procfile's commands, two workers)."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60
# django-q2's sentinel looks at the schedules about every 30 seconds.
SCHEDULER_SECONDS = 120
ALERTS_TASK = "intacct.tasks.connection_alerts_send"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_env(tmp_path):
    """Production settings (DEBUG off) on a throwaway SQLite database, no Redis."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "INTACCT_", "Q_", "DATABASE", "REDIS", "PYTEST"))
    }
    env.update(
        PATH=f"{ROOT / '.venv' / 'bin'}:{env['PATH']}",
        DEBUG="false",
        SECRET_KEY="procfile-test-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        INTACCT_FERNET_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        SECURE_SSL_REDIRECT="false",
        PORT=str(free_port()),
        WEB_CONCURRENCY="1",
    )
    return env


def start(command: str, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> int:
    """SIGTERM to the main process only, as a platform stops it: gunicorn's master and the
    cluster's sentinel each stop their own children."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def wait_for(condition, what: str, log: Path, seconds: int = STARTUP_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"{what} within {seconds}s; its log:\n{log.read_text()[-3000:]}")


def get(url: str):
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None


def alert_checks_done(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as db:
        return db.execute(
            "SELECT count(*) FROM django_q_task WHERE func = ? AND success", (ALERTS_TASK,)
        ).fetchone()[0]


def test_release_then_web_then_worker_run_with_production_settings(production_env, tmp_path):
    commands = procfile()
    assert set(commands) == {"release", "web", "worker"}

    release = subprocess.run(
        ["bash", "-c", commands["release"]],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file()  # hashed names, for WhiteNoise

    base = f"http://127.0.0.1:{production_env['PORT']}"
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    web = start(commands["web"], production_env, web_log)
    worker = start(commands["worker"], production_env, worker_log)
    try:
        health = wait_for(lambda: get(f"{base}/healthz"), "gunicorn did not answer", web_log)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        ready = get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "migrations": "ok"}

        # The sign-in page links its stylesheet by its hashed name; WhiteNoise serves it with
        # a far-future cache header.
        login = get(f"{base}/admin/login/")
        assert login.status_code == 200
        css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.text)
        assert css, "the admin's stylesheet is not linked by its hashed name"
        asset = get(base + css.group(1))
        assert asset.status_code == 200
        assert "max-age=315360000" in asset.headers["Cache-Control"]
        assert "gunicorn" in asset.headers.get("Server", "")

        wait_for(
            lambda: "running" in worker_log.read_text(),
            "the task cluster did not start",
            worker_log,
        )
    finally:
        web_status, worker_status = stop(web), stop(worker)
    assert web_status == 0, web_log.read_text()[-2000:]
    assert worker_status == 0, worker_log.read_text()[-2000:]


def test_the_compose_file_runs_the_procfiles_commands_with_two_workers():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "release", "web", "worker"}
    commands = procfile()
    assert services["web"]["command"] == [commands["web"]]
    assert " ".join(services["worker"]["command"]) == commands["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("release", "web", "worker"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
    # Migrations run once, before any web process or worker starts.
    assert "migrate" in services["release"]["command"][-1]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["release"] == {
            "condition": "service_completed_successfully"
        }
