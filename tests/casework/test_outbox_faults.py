"""The outbox under faults, in this process with a controlled clock: a mail outage follows the
documented schedule and gives up once; a database connection lost after the hand-over retries
the bookkeeping, never the send; a copy of the task run while another holds the claim sends
nothing; a broker that accepts connections and never answers costs a request one short wait.

The same faults against a real worker, Redis and PostgreSQL: tests/integration/test_faults.py.
"""

import datetime
import logging
import socket
import threading
import time

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import OperationalError
from django.db.models.query import QuerySet
from django.utils import timezone
from rest_framework.test import APIClient

from casework import outbox, services
from casework.models import Notification, Referral
from casework.outbox import deliver, notify
from casework.tasks import requeue_undelivered_notifications
from tests.integration.broker import celery_broker

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)


class OutageBackend(BaseEmailBackend):
    """A mail server that refuses every message while `down`, and notes when it was asked."""

    down = True
    asked: list = []

    def send_messages(self, messages):
        type(self).asked.append(timezone.now())
        if type(self).down:
            raise ConnectionRefusedError("mail server down")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def outage(settings):
    settings.EMAIL_BACKEND = "tests.casework.test_outbox_faults.OutageBackend"
    OutageBackend.down = True
    OutageBackend.asked = []
    return OutageBackend


@pytest.fixture
def written(triage_worker):
    """A notification written (and committed) at START; its publish was lost."""
    with time_machine.travel(START, tick=False):
        [notification] = notify(recipients=[triage_worker], kind=Notification.Kind.REMINDER)
    return notification


def minutes_after(moment, start=START) -> float:
    return (moment - start) / MINUTE


def test_a_mail_outage_follows_the_documented_schedule_and_gives_up_once(outage, written, caplog):
    """Tries due 0, 1, 3, 7, 15, 31, 63 minutes after the row was written, then every hour;
    the failure whose next try would fall past 24 hours gives up, with one ERROR line. The
    sweep runs every minute, as beat runs it."""
    with caplog.at_level(logging.WARNING, logger="casework.outbox"):
        with time_machine.travel(START, tick=False):
            assert deliver(written.pk) == "failed"  # the publish after the commit
        # Every minute for the first two hours, then the minute before and the minute of
        # each hourly try (a sweep every minute for 26 hours would take the suite too long).
        minutes = [*range(1, 120), *(m + d for m in range(123, 26 * 60, 60) for d in (-1, 0))]
        for minute in minutes:
            with time_machine.travel(START + minute * MINUTE, tick=False):
                requeue_undelivered_notifications()

    tries = [minutes_after(at) for at in outage.asked]
    assert tries == [0, 1, 3, 7, 15, 31] + [63 + 60 * hour for hour in range(23)]
    written.refresh_from_db()
    assert written.attempts == 29 == len(tries)
    assert written.emailed_at is None and written.next_attempt_at is None
    assert minutes_after(written.gave_up_at) == 23 * 60 + 3
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert (
        errors[0]
        .getMessage()
        .startswith(f"notification {written.pk} not delivered after 29 attempts in 23.1 hours")
    )
    # Given up: the sweep leaves it alone, whatever the clock says.
    with time_machine.travel(START + 30 * 24 * 60 * MINUTE, tick=False):
        assert requeue_undelivered_notifications() == 0
    assert len(outage.asked) == 29


def test_the_give_up_period_is_a_setting(outage, written, settings):
    settings.OUTBOX_GIVE_UP_HOURS = 1
    with time_machine.travel(START, tick=False):
        deliver(written.pk)
    for minute in range(1, 70):
        with time_machine.travel(START + minute * MINUTE, tick=False):
            requeue_undelivered_notifications()
    # 0, 1, 3, 7, 15, 31: the next would be at 63 minutes, past the hour.
    assert [minutes_after(at) for at in outage.asked] == [0, 1, 3, 7, 15, 31]
    written.refresh_from_db()
    assert minutes_after(written.gave_up_at) == 31


def test_an_operator_retries_what_the_outbox_gave_up_on_and_it_is_sent_once(
    outage, written, settings, capsys
):
    settings.OUTBOX_GIVE_UP_HOURS = 1
    with time_machine.travel(START, tick=False):
        deliver(written.pk)
    for minute in range(1, 70):
        with time_machine.travel(START + minute * MINUTE, tick=False):
            requeue_undelivered_notifications()
    call_command("outbox_retry", "--list")
    assert "given up: 1" in capsys.readouterr().out

    outage.down = False  # the cause is fixed
    later = START + 5 * 60 * MINUTE
    with time_machine.travel(later, tick=False):
        call_command("outbox_retry")
        assert "1 notifications to be tried again" in capsys.readouterr().out
        assert requeue_undelivered_notifications() == 1
        assert requeue_undelivered_notifications() == 0
    written.refresh_from_db()
    assert written.emailed_at == later and written.gave_up_at is None
    assert written.retried_by_hand_at == later
    assert [m.to for m in mail.outbox] == [[written.recipient.email]]


def test_the_admin_retries_given_up_notifications(admin_client, written):
    Notification.objects.filter(pk=written.pk).update(gave_up_at=START, next_attempt_at=None)
    response = admin_client.post(
        "/admin/casework/notification/",
        {"action": "retry_delivery", "_selected_action": [written.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 notification will be tried again" in response.content.decode()
    written.refresh_from_db()
    assert written.gave_up_at is None and written.next_attempt_at is not None


@pytest.fixture
def no_pauses(monkeypatch):
    monkeypatch.setattr(outbox, "RECORD_PAUSES", (0, 0, 0, 0, 0))


def fail_recording(monkeypatch, times: int):
    """The database connection drops `times` times when the hand-over is being recorded."""
    real_update = QuerySet.update
    failures = []

    def update(self, **kwargs):
        if self.model is Notification and "emailed_at" in kwargs and len(failures) < times:
            failures.append(kwargs)
            raise OperationalError("server closed the connection unexpectedly")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    return failures


def test_a_connection_lost_after_the_hand_over_retries_the_bookkeeping_not_the_send(
    written, monkeypatch, no_pauses, caplog
):
    failures = fail_recording(monkeypatch, times=2)
    with caplog.at_level(logging.WARNING, logger="casework.outbox"):
        assert deliver(written.pk) == "sent"
    assert len(failures) == 2
    assert len(mail.outbox) == 1
    written.refresh_from_db()
    assert written.emailed_at is not None and written.attempts == 1
    assert written.claimed_until is None and written.next_attempt_at is None
    assert "e-mailed, but not recorded yet (OperationalError)" in caplog.text
    # A copy of the task (the sweep, a redelivery) finds it sent.
    assert deliver(written.pk) == "already-sent"
    assert len(mail.outbox) == 1


def test_while_a_worker_holds_the_claim_no_copy_sends_and_after_it_expires_one_does(
    written, monkeypatch, no_pauses, caplog, settings
):
    """The database stays down through every try at recording: the claim, committed before
    the hand-over, stops the copies; only when it expires is the e-mail sent again — the one
    duplicate the outbox allows, with the same Message-ID."""
    fail_recording(monkeypatch, times=len(outbox.RECORD_PAUSES))
    with time_machine.travel(START, tick=False), caplog.at_level(logging.WARNING):
        assert deliver(written.pk) == "sent"
    assert "the database could not record it" in caplog.text
    lease = datetime.timedelta(seconds=settings.OUTBOX_SEND_LEASE_SECONDS)
    with time_machine.travel(START + lease - MINUTE, tick=False):
        assert deliver(written.pk) == "in-flight"  # the redelivered message
        assert requeue_undelivered_notifications() == 0
    assert len(mail.outbox) == 1
    with time_machine.travel(START + lease, tick=False), caplog.at_level(logging.WARNING):
        assert requeue_undelivered_notifications() == 1
    assert "the outcome of attempt 1 is unknown" in caplog.text
    assert len(mail.outbox) == 2
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 1
    written.refresh_from_db()
    assert written.emailed_at is not None and written.attempts == 2


def test_a_stray_copy_of_the_task_before_the_next_try_is_due_sends_nothing(outage, written):
    with time_machine.travel(START, tick=False):
        assert deliver(written.pk) == "failed"
        # A redelivered or duplicated message right after the failure: the schedule decides.
        assert deliver(written.pk) == "not-due"
    assert len(outage.asked) == 1
    written.refresh_from_db()
    assert written.attempts == 1 and minutes_after(written.next_attempt_at) == 1


# --- a broker that accepts connections and never answers ----------------------------------


class HungBroker:
    """A TCP listener that accepts every connection and never says a word."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                client, _address = self.server.accept()
            except OSError:
                return
            self.accepted.append(client)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self):
        self.server.close()
        for client in self.accepted:
            client.close()


@pytest.fixture
def hung_broker():
    broker = HungBroker()
    yield broker
    broker.close()


FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "family_informed": True,
    "urgency": "priority",
}


@pytest.fixture
def api_client():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def draft_for(child, triage_worker, supervisor):
    """draft_for(teacher) → a referral ready to submit; the district team (two) is told."""
    return lambda teacher: services.referral_create_draft(actor=teacher, child=child, **FORM)


def submit(client, referral):
    return client.post(f"/api/v1/referrals/{referral.pk}/submit/")


def test_a_hung_broker_costs_one_submit_a_short_wait_and_the_next_none(
    api_client, teacher, draft_for, hung_broker, django_capture_on_commit_callbacks, caplog
):
    """The broker accepts the connection and never answers: the first submit waits for the
    publish's socket timeout (1 s, never gunicorn's 30 s), is answered 200 and
    committed; the next ones, within PUBLISH_PAUSE, do not try the broker at all. The
    notifications wait in the outbox for the sweep."""
    client = api_client(teacher)
    first, second = draft_for(teacher), draft_for(teacher)
    assert client.get(f"/api/v1/referrals/{first.pk}/").status_code == 200  # a warm process
    with celery_broker(hung_broker.url, {"socket_timeout": 30}):
        with caplog.at_level(logging.INFO, logger="casework.outbox"):
            started = time.monotonic()
            # The callbacks run as the request's transaction commits: the publish is in it.
            with django_capture_on_commit_callbacks(execute=True):
                response = submit(client, first)
            waited = time.monotonic() - started
            assert response.status_code == 200
            assert waited < 3
            assert len(hung_broker.accepted) == 1
            assert "broker unavailable (OperationalError)" in caplog.text

            with django_capture_on_commit_callbacks(execute=True):
                assert submit(client, second).status_code == 200
            assert len(hung_broker.accepted) == 1  # not asked again
            assert "broker unavailable a moment ago" in caplog.text

    for referral in (first, second):
        referral.refresh_from_db()
        assert referral.status == Referral.Status.SUBMITTED
    waiting = Notification.objects.filter(emailed_at__isnull=True)
    assert waiting.count() == 4 and not waiting.filter(attempts__gt=0).exists()
    assert set(outbox.due_for_retry(now=timezone.now() + MINUTE)) == set(
        waiting.values_list("pk", flat=True)
    )
