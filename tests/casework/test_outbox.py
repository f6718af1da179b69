"""The notification outbox: written with the change, delivered after the commit, exactly once.

A rolled-back change sends nothing; a broker that is down at commit time delays the e-mail
until the outbox sweep, never loses it; a task delivered twice e-mails once; a failing mail
server is retried on the documented schedule, then given up (tests/casework/test_outbox_faults.py).
"""

import datetime
import logging

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from casework import services
from casework.models import Notification, Referral
from casework.tasks import (
    deliver_notification,
    remind_overdue_actions,
    remind_overdue_information_requests,
    remind_overdue_triage,
    remind_reviews,
    requeue_undelivered_notifications,
)
from protocols.tasks import fire_timers
from tests.conftest import protocol
from tests.integration.broker import celery_broker

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
SUBMITTED = Notification.Kind.REFERRAL_SUBMITTED
CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens there: a broker that is down

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "family_informed": True,
    "urgency": "priority",
}


@pytest.fixture
def draft(teacher, child, triage_worker, supervisor) -> Referral:
    """A referral about to be submitted; the district team (worker and supervisor) is told."""
    return services.referral_create_draft(actor=teacher, child=child, **FORM)


def at(moment, fn, *args, **kwargs):
    with time_machine.travel(moment, tick=False):
        return fn(*args, **kwargs)


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every connection."""

    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        raise ConnectionRefusedError("mail server down")


def test_a_committed_change_is_e_mailed_once_with_a_link_and_nothing_about_the_child(
    draft, triage_worker, supervisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        protocol("referral.submit")(actor=draft.referrer, referral=draft)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([triage_worker.email, supervisor.email])
    for message in mail.outbox:
        assert "/casework/notifications/" in message.body
        text = message.subject + message.body + str(message.extra_headers)
        for private in ("Luca", "Bruno", "2016", "hungry", "Rodari", "neglect"):
            assert private not in text
    ids = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert len(ids) == 2
    for notification in Notification.objects.filter(kind=SUBMITTED):
        assert notification.emailed_at is not None
        assert notification.attempts == 1


def test_a_rolled_back_change_writes_and_sends_nothing(draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            protocol("referral.submit")(actor=draft.referrer, referral=draft)
            assert Notification.objects.filter(kind=SUBMITTED).count() == 2
            raise RuntimeError("the request fails after the change")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []
    draft.refresh_from_db()
    assert draft.status == Referral.Status.DRAFT


def test_a_broker_down_at_commit_delays_the_notification_and_never_loses_it(
    draft, django_capture_on_commit_callbacks, caplog
):
    with celery_broker(CLOSED_PORT), caplog.at_level(logging.WARNING):
        with django_capture_on_commit_callbacks(execute=True):
            referral = protocol("referral.submit")(actor=draft.referrer, referral=draft)
    # The change is committed, its notifications are in the outbox, nothing was sent.
    assert referral.status == Referral.Status.SUBMITTED
    waiting = list(Notification.objects.filter(kind=SUBMITTED))
    assert len(waiting) == 2
    assert all(n.emailed_at is None and n.attempts == 0 for n in waiting)
    assert "left for the outbox sweep" in caplog.text
    assert mail.outbox == []

    # The broker is back (here: tasks run in-process again); the beat sweep finds the rows.
    created = max(n.created_at for n in waiting)
    assert at(created + datetime.timedelta(seconds=30), requeue_undelivered_notifications) == 0
    assert mail.outbox == []
    assert at(created + MINUTE, requeue_undelivered_notifications) == 2
    assert len(mail.outbox) == 2
    # Swept twice: sent once.
    assert at(created + 2 * MINUTE, requeue_undelivered_notifications) == 0
    assert at(created + 60 * MINUTE, requeue_undelivered_notifications) == 0
    assert len(mail.outbox) == 2
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_a_task_delivered_twice_e_mails_once(draft):
    protocol("referral.submit")(actor=draft.referrer, referral=draft)
    notification = Notification.objects.filter(kind=SUBMITTED).first()
    assert deliver_notification.apply(args=(notification.pk,)).get() == "sent"
    assert deliver_notification.apply(args=(notification.pk,)).get() == "already-sent"
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_a_notification_to_someone_without_an_address_is_settled_without_mail(draft, triage_worker):
    triage_worker.email = ""
    triage_worker.save()
    protocol("referral.submit")(actor=draft.referrer, referral=draft)
    notification = Notification.objects.get(kind=SUBMITTED, recipient=triage_worker)
    assert deliver_notification.apply(args=(notification.pk,)).get() == "no-address"
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert mail.outbox == []
    assert deliver_notification.apply(args=(999_999,)).get() == "missing"


@pytest.mark.parametrize(
    "task",
    [
        deliver_notification,
        requeue_undelivered_notifications,
        remind_overdue_triage,
        remind_overdue_information_requests,
        remind_reviews,
        remind_overdue_actions,
        fire_timers,
    ],
    ids=lambda task: task.name.rpartition(".")[2],
)
def test_every_task_is_acknowledged_late_and_given_back_when_its_worker_dies(task):
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
