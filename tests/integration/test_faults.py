"""The faults of the fault replays, against real processes on PostgreSQL (and Redis): a
database connection terminated right after a worker handed an e-mail over, and a web
process whose kept database connection was terminated between two requests.

The other faults are proven in-process (tests/casework/test_outbox_faults.py): the hung
broker (a local listener that never answers) and the retry schedule under a mail outage, with
a controlled clock. Skipped with the reason where PostgreSQL (or Redis) is missing.
"""

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection
from knox.models import AuthToken

from casework.models import Notification
from casework.outbox import notify
from casework.tasks import requeue_undelivered_notifications

from .conftest import _database_url

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_database_connection_terminated_after_the_send_does_not_send_twice(
    cluster, triage_worker
):
    cluster.start_worker(environment={"CASEWORK_TEST_DROP_DB_AFTER_SEND": "1"})
    with cluster.publishing():
        [notification] = notify(recipients=[triage_worker], kind=Notification.Kind.REMINDER)
    cluster.wait_for(
        lambda: Notification.objects.filter(pk=notification.pk, emailed_at__isnull=False).exists(),
        "the e-mail to be recorded after the connection was replaced",
    )
    assert os.path.exists(str(cluster.pause_marker) + ".dropped")  # the fault did happen
    # Later copies (what the sweep would send) find it sent.
    with cluster.publishing():
        notification.refresh_from_db()
        requeue_undelivered_notifications()
    cluster.wait_for(cluster.broker_is_empty, "the queue to drain")
    assert len(cluster.e_mails()) == 1
    assert cluster.deliveries() == ["sent"]
    notification.refresh_from_db()
    assert notification.attempts == 1 and notification.claimed_until is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - our server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_terminated_database_connection_costs_no_500_on_the_next_request(teacher, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the web process is another process (DATABASE_URL=…)")
    _token_row, token = AuthToken.objects.create(teacher)
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "integration-test-secret-key-0123456789abcdefghij",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": _database_url(),
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_BROKER_URL", None)
    log = tmp_path / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "tests.integration.web_server", str(port)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
        )
    try:
        assert web.stdout.readline().strip() == "ready", log.read_text()
        url = f"http://127.0.0.1:{port}/api/v1/referrals/"
        assert _get(url, token) == 200
        with connection.cursor() as cursor:  # the server drops every other session
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
        assert [_get(url, token) for _ in range(3)] == [200, 200, 200], log.read_text()
    finally:
        web.terminate()
        web.wait(10)
        web.stdout.close()
