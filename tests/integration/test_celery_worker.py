"""A real worker, a real Redis, the PostgreSQL test database: notifications arrive, once.

Skipped with the reason where Redis or PostgreSQL is missing (see conftest.py).
"""

import os
import signal
import time

import pytest
from django.db import transaction

from casework import services
from casework.models import Notification
from casework.outbox import notify
from casework.tasks import requeue_undelivered_notifications
from tests.conftest import protocol

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 2  # seconds a worker's claim on a notification holds, in these tests

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
    """SIGKILL while the task runs: before the e-mail leaves (the row is claimed, its lease
    committed), or after it was sent and recorded but before the broker got the
    acknowledgement. Either way the message comes back, and the notification is e-mailed once.

    solo: the whole worker dies; Redis hands the unacknowledged message to the next worker
    after the visibility timeout (3 s here). prefork: the pool process dies; the worker gives
    the message back at once (task_reject_on_worker_lost). A copy run while the claim holds
    sends nothing ("in-flight"); once the claim expires (2 s here, 10 minutes in production)
    the outbox sweep queues the row again."""
    # prefork keeps the production hour: only task_reject_on_worker_lost can bring it back.
    visibility = 3 if pool == "solo" else 3600
    first = cluster.start_worker(
        pool=pool, pause_at=pause_at, visibility_timeout=visibility, send_lease=LEASE
    )
    with cluster.publishing(), transaction.atomic():
        [notification] = notify(recipients=[triage_worker], kind=Notification.Kind.REMINDER)

    victim = cluster.paused_pid()
    assert victim != os.getpid()
    os.kill(victim, signal.SIGKILL)
    notification.refresh_from_db()
    if pause_at == "before-send":
        assert notification.emailed_at is None and cluster.e_mails() == []
        assert notification.claimed_until is not None  # committed before the hand-over
    else:
        assert notification.emailed_at is not None and len(cluster.e_mails()) == 1

    if pool == "solo":
        assert first.process.wait(15) == -signal.SIGKILL
        cluster.start_worker(visibility_timeout=3, send_lease=LEASE)
    else:
        assert first.alive()  # the worker lives on; only its pool process was killed

    swept = [0.0]

    def delivered() -> bool:
        # What beat does every minute (here: every second): due rows are queued again.
        if time.monotonic() - swept[0] >= 1:
            swept[0] = time.monotonic()
            with cluster.publishing():
                requeue_undelivered_notifications()
        notification.refresh_from_db()
        return notification.emailed_at is not None and len(cluster.deliveries()) >= 1

    cluster.wait_for(delivered, "the notification to be e-mailed")
    cluster.wait_for(cluster.broker_is_empty, "the copies to be processed")
    [e_mail] = cluster.e_mails()
    assert e_mail["to"] == [triage_worker.email]
    # The run killed before the acknowledgement said "sent" too: still one e-mail.
    assert cluster.deliveries().count("sent") == 1
    assert set(cluster.deliveries()) <= {"sent", "already-sent", "in-flight"}
