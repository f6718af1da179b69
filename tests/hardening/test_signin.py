"""Sign-in lock-out, API throttling and the idle timeout."""

import datetime
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins for this user name"


def sign_in(client, username, password, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def worker(triage_worker):
    return triage_worker  # password "pw"


def test_sixth_attempt_is_refused_even_with_the_right_password(client, worker):
    for attempt in range(1, 6):
        response = sign_in(client, worker.username, "wrong")
        # The fifth failure locks the name and says so.
        assert response.status_code == (429 if attempt == 5 else 200)
        assert not signed_in(client)
    response = sign_in(client, worker.username, "pw")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not signed_in(client)
    # Nor does a fresh browser, from the same or another address, get in.
    other = client.__class__(REMOTE_ADDR="10.9.8.7")
    assert sign_in(other, worker.username, "pw").status_code == 429
    assert not signed_in(other)
    attempts = AccessAttempt.objects.filter(username=worker.username)
    assert sum(attempt.failures_since_start for attempt in attempts) >= 5


def test_unknown_user_names_get_the_same_answer(client, worker):
    for name in (worker.username, "nobody-by-this-name"):
        for _ in range(5):
            sign_in(client, name, "wrong")
    known = sign_in(client, worker.username, "wrong")
    unknown = sign_in(client, "nobody-by-this-name", "wrong")
    assert known.status_code == unknown.status_code == 429

    def page(response, name):
        text = response.content.decode().replace(name, "NAME")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)

    assert page(known, worker.username) == page(unknown, "nobody-by-this-name")
    assert LOCKED in page(known, worker.username)


def test_the_admin_login_is_locked_too(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    for _ in range(5):
        sign_in(client, admin.username, "wrong", url="/admin/login/")
    response = sign_in(client, admin.username, "pw", url="/admin/login/")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not signed_in(client)
    # The lock covers the user name on both doors.
    assert sign_in(client, admin.username, "pw").status_code == 429


def test_an_administrator_unlocks_and_the_lock_also_expires(client, worker, settings):
    for _ in range(5):
        sign_in(client, worker.username, "wrong")
    assert sign_in(client, worker.username, "pw").status_code == 429
    call_command("axes_reset_username", worker.username)
    assert sign_in(client, worker.username, "pw").status_code == 302
    assert signed_in(client)

    client.logout()
    for _ in range(5):
        sign_in(client, worker.username, "wrong")
    later = datetime.datetime.now(tz=datetime.UTC) + settings.AXES_COOLOFF_TIME
    with time_machine.travel(later + datetime.timedelta(minutes=1)):
        assert sign_in(client, worker.username, "pw").status_code == 302


def test_the_api_throttles_each_caller(client, worker, outsider, settings):
    settings.API_THROTTLE_RATES = {"anon": "2/minute", "user": "3/minute"}
    client.force_login(worker)
    for _ in range(3):
        assert client.get("/api/v1/queue/").status_code == 200
    response = client.get("/api/v1/queue/")
    assert response.status_code == 429
    assert "Retry-After" in response
    # Another user has a count of their own.
    client.force_login(outsider)
    assert client.get("/api/v1/queue/").status_code == 200


def test_an_idle_session_is_signed_out(client, worker, settings):
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(worker)
        assert client.get("/casework/").status_code == 200
        clock.shift(datetime.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 60))
        assert client.get("/casework/").status_code == 200  # activity moves the clock on
        clock.shift(datetime.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 60))
        assert client.get("/api/v1/queue/").status_code == 200
        clock.shift(datetime.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        response = client.get("/casework/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert not signed_in(client)
        assert client.get("/api/v1/queue/").status_code == 401


def test_the_lock_out_logs_no_user_name(client, worker, caplog):
    with caplog.at_level("DEBUG", logger="axes"):
        for _ in range(5):
            sign_in(client, worker.username, "wrong")
        sign_in(client, "nobody-by-this-name", "wrong")
        client.force_login(worker)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "AXES" in text and "/accounts/login/" in text
    assert worker.username not in text and "nobody-by-this-name" not in text
