"""/healthz and /readyz: unauthenticated, no data, 503 when the database, the migrations, the
media storage, the broker or the beat heartbeat fail, and ready again when they return."""

import datetime
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from casework.tasks import run_sweeps
from ops import readiness
from ops.heartbeat import BEAT, stale_after
from ops.models import Heartbeat
from ops.tasks import heartbeat
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
CHECKS = {"database", "migrations", "media", "broker", "heartbeat"}
NOW = datetime.datetime(2030, 3, 4, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _fresh_migration_check(monkeypatch):
    monkeypatch.setattr(readiness, "_migrations_applied", False)


def ready(client, **extra):
    response = client.get("/readyz", **extra)
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies, "a probe sets no cookie"
    body = json.loads(response.content)
    assert set(body) == {"status", "checks"}
    assert set(body["checks"]) == CHECKS
    return response.status_code, body


def test_healthz_answers_anyone_with_nothing_but_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert not response.cookies
    # A load balancer asks by the node's address: no host check, no redirect to the login.
    assert client.get("/healthz", HTTP_HOST="10.20.30.40:8000").status_code == 200
    assert client.get("/casework/", HTTP_HOST="10.20.30.40:8000").status_code == 400
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_ready_with_a_fresh_heartbeat_and_says_nothing_else(client, child):
    heartbeat.delay()
    status, body = ready(client)
    assert status == 200, body
    assert body == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "media": "ok",
            "broker": "not configured",
            "heartbeat": "ok (0 s ago)",
        },
    }
    # Nothing about the children, the people or the installation.
    assert child.first_name not in str(body) and child.last_name not in str(body)
    assert ready(client, HTTP_HOST="10.20.30.40")[0] == 200


@pytest.mark.django_db
def test_readyz_turns_unready_when_beat_stops_and_ready_when_it_is_back(client):
    with time_machine.travel(NOW, tick=False) as clock:
        status, body = ready(client)
        assert (status, body["checks"]["heartbeat"]) == (503, "never")
        assert body["status"] == "unavailable"

        heartbeat.delay()
        assert ready(client)[0] == 200
        clock.shift(datetime.timedelta(seconds=60))  # one beat missed: still ready
        assert ready(client)[0] == 200
        clock.shift(stale_after() - datetime.timedelta(seconds=60) + datetime.timedelta(seconds=1))
        status, body = ready(client)
        assert status == 503
        assert body["checks"]["heartbeat"] == "stale (151 s ago)"
        assert {k: v for k, v in body["checks"].items() if k != "heartbeat"} == {
            "database": "ok",
            "migrations": "ok",
            "media": "ok",
            "broker": "not configured",
        }

        heartbeat.delay()  # beat, the broker and a worker are back
        assert ready(client) == (
            200,
            {
                "status": "ok",
                "checks": {
                    "database": "ok",
                    "migrations": "ok",
                    "media": "ok",
                    "broker": "not configured",
                    "heartbeat": "ok (0 s ago)",
                },
            },
        )


@pytest.mark.django_db
def test_the_embedded_sweeper_beats_too(client):
    assert ready(client)[0] == 503
    run_sweeps()
    assert Heartbeat.objects.get(name=BEAT).at <= timezone.now()
    assert ready(client)[0] == 200


@pytest.mark.django_db
def test_a_sweep_run_by_a_worker_records_when_it_finished_and_how_long_it_took():
    from casework.tasks import remind_overdue_triage

    remind_overdue_triage.apply()
    row = Heartbeat.objects.get(name="casework.tasks.remind_overdue_triage")
    assert row.duration is not None and 0 <= row.duration < 10
    assert timezone.now() - row.at < datetime.timedelta(seconds=10)
    # A task that is not a sweep of the schedule leaves nothing.
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {
        "casework.tasks.remind_overdue_triage"
    }


@pytest.mark.django_db
def test_readyz_unready_while_a_migration_is_not_applied(client):
    heartbeat.delay()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'ops' AND name = '0001_initial'")
    status, body = ready(client)
    assert (status, body["checks"]["migrations"]) == (503, "1 not applied")


@pytest.mark.django_db
def test_readyz_unready_when_the_media_folder_cannot_be_written(client, tmp_path):
    heartbeat.delay()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with override_settings(MEDIA_ROOT=blocker / "media"):
        status, body = ready(client)
    assert (status, body["checks"]["media"]) == (503, "error (NotADirectoryError)")
    assert str(tmp_path) not in json.dumps(body), "no path in the answer"
    assert ready(client)[0] == 200
    assert not list((Path(tmp_path)).glob("**/.readyz/*")), "the probe file is removed"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_readyz_unready_when_the_configured_broker_is_down(client):
    heartbeat.delay()
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=url):
        status, body = ready(client)
    assert (status, body["checks"]["broker"]) == (503, "error (OperationalError)")
    assert "127.0.0.1" not in json.dumps(body)


REDIS_URL = os.environ.get("CASEWORK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.mark.django_db
def test_readyz_ready_with_a_broker_that_answers(client):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis on {REDIS_URL}")
    heartbeat.delay()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=REDIS_URL):
        status, body = ready(client)
    assert (status, body["checks"]["broker"]) == (200, "ok")


PROBE = """
import json
import django
django.setup()
from django.test import Client
client = Client()
health, ready = client.get("/healthz"), client.get("/readyz")
print(json.dumps([health.status_code, ready.status_code, json.loads(ready.content)]))
"""


def test_readyz_unready_when_the_database_is_unreachable():
    """A real process whose database refuses connections: alive, not ready."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://casework@127.0.0.1:{_closed_port()}/casework",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    health, ready_status, body = json.loads(done.stdout.strip().splitlines()[-1])
    assert (health, ready_status) == (200, 503)
    assert body == {
        "status": "unavailable",
        "checks": {
            "database": "error (OperationalError)",
            "migrations": "skipped (no database)",
            "media": "ok",
            "broker": "not configured",
            "heartbeat": "skipped (no database)",
        },
    }


@pytest.mark.django_db
def test_the_admin_home_says_when_background_tasks_stopped(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    with time_machine.travel(NOW, tick=False) as clock:
        client.force_login(admin)
        page = client.get("/admin/").content.decode()
        assert "Background tasks have never run" in page
        heartbeat.delay()
        page = client.get("/admin/").content.decode()
        assert "Background tasks: last run 0\xa0minutes ago." in page
        assert 'class="error"' not in page
        clock.shift(datetime.timedelta(minutes=7))
        page = client.get("/admin/").content.decode()
        assert "Background tasks last ran 7\xa0minutes ago" in page
        assert 'class="error"' in page
