"""A real worker, a real Redis, the PostgreSQL test database: notifications arrive, once.

Skipped with the reason where Redis or PostgreSQL is missing (see conftest.py).
"""

import os
import signal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from casework import services
from casework.models import Notification
from casework.outbox import OUTBOX_RETRY_AFTER, notify
from casework.tasks import requeue_undelivered_notifications
from tests.conftest import protocol

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "family_informed": True,
    "urgency": "priority",
}


def test_a_submitted_referral_reaches_the_team_by_e_mail_through_a_worker(
    cluster, teacher, child, triage_worker, supervisor
):
    cluster.start_worker()
    with cluster.publishing():
        draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
        # Commits the referral and its outbox rows, then publishes one task per row.
        protocol("referral.submit")(actor=teacher, referral=draft)

    outbox = Notification.objects.filter(kind=Notification.Kind.REFERRAL_SUBMITTED)
    assert outbox.count() == 2
    cluster.wait_for(
        lambda: not outbox.filter(emailed_at__isnull=True).exists() and cluster.broker_is_empty(),
        "the worker to e-mail both notifications",
    )
    e_mails = cluster.e_mails()
    assert sorted(m["to"][0] for m in e_mails) == sorted([triage_worker.email, supervisor.email])
    for message in e_mails:
        assert "/casework/notifications/" in message["body"]
        for private in ("Luca", "Bruno", "2016", "hungry", "Rodari", "neglect"):
            assert private not in message["subject"] + message["body"]
    assert cluster.deliveries() == ["sent", "sent"]
    assert all(n.attempts == 1 for n in outbox)


@pytest.mark.parametrize(
    ("pool", "pause_at"),
    [("solo", "before-send"), ("solo", "after-commit"), ("prefork", "before-send")],
    ids=["solo-killed-before-the-e-mail", "solo-killed-before-the-ack", "prefork-child-killed"],
)
def test_a_worker_killed_mid_task_delivers_exactly_once_after_a_new_worker_starts(
    cluster, triage_worker, pool, pause_at
):
    """SIGKILL while the task runs: before the e-mail leaves (the transaction holding the row
    dies with the worker), or after it was sent and committed but before the broker got the
    acknowledgement. Either way the message comes back, and the notification is e-mailed once.

    solo: the whole worker dies; Redis hands the unacknowledged message to the next worker
    after the visibility timeout (3 s here), and the outbox sweep sends a copy of its own.
    prefork: the pool process dies; the worker gives the message back at once
    (task_reject_on_worker_lost) and a new pool process takes it."""
    # prefork keeps the production hour: only task_reject_on_worker_lost can bring it back.
    visibility = 3 if pool == "solo" else 3600
    first = cluster.start_worker(pool=pool, pause_at=pause_at, visibility_timeout=visibility)
    with cluster.publishing(), transaction.atomic():
        [notification] = notify(recipients=[triage_worker], kind=Notification.Kind.REMINDER)

    victim = cluster.paused_pid()
    assert victim != os.getpid()
    os.kill(victim, signal.SIGKILL)
    notification.refresh_from_db()
    if pause_at == "before-send":
        assert notification.emailed_at is None and cluster.e_mails() == []
    else:
        assert notification.emailed_at is not None and len(cluster.e_mails()) == 1

    expected_runs = len(cluster.deliveries()) + 1  # the message given back, run again
    if pool == "solo":
        assert first.process.wait(15) == -signal.SIGKILL
        cluster.start_worker(visibility_timeout=3)
        # What beat does a minute later: rows still unsent are queued again.
        with cluster.publishing():
            with time_machine.travel(timezone.now() + 2 * OUTBOX_RETRY_AFTER):
                expected_runs += requeue_undelivered_notifications()
    else:
        assert first.alive()  # the worker lives on; only its pool process was killed

    cluster.wait_for(
        lambda: len(cluster.deliveries()) >= expected_runs and cluster.broker_is_empty(),
        "the message to come back and be processed",
    )
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    [e_mail] = cluster.e_mails()
    assert e_mail["to"] == [triage_worker.email]
    # The run killed before the acknowledgement said "sent" too: still one e-mail.
    assert cluster.deliveries().count("sent") == 1
    assert set(cluster.deliveries()) <= {"sent", "already-sent"}
