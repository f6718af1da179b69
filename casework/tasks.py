"""Celery tasks: thin wrappers that take ids, load the rows and do one thing.

Every task here may run twice: the broker hands a message out again when the worker that
took it dies before acknowledging it (acks_late, reject_on_worker_lost), and the outbox sweep
re-sends what looks undelivered. So each task checks before it acts: a notification already
e-mailed is not e-mailed again, a reminder already written is not written again (dedup keys),
and a sweep another machine is running is skipped (an advisory lock on PostgreSQL).
"""

import logging
from contextlib import contextmanager

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .models import Notification
from .services import reminders

log = logging.getLogger(__name__)

# Arbitrary, project-wide PostgreSQL advisory lock numbers, one per sweep.
TIMERS_LOCK = 72_310_001
OUTBOX_LOCK = 72_310_002
TRIAGE_LOCK = 72_310_003
INFORMATION_LOCK = 72_310_004
REVIEWS_LOCK = 72_310_005
ACTIONS_LOCK = 72_310_006

# Re-sent copies of a notification expire, so that a queue backed up for hours does not fill
# with copies of the same id (each would be a harmless no-op, but a slow one to drain).
REQUEUE_EXPIRES = 600
REQUEUE_BATCH = 500


@contextmanager
def single_sweeper(lock_id: int):
    """Yield True for the one process that holds the sweep lock, False for the others.
    PostgreSQL: a session advisory lock, so a second beat or worker skips. SQLite is the
    one-process embedded mode: nothing to coordinate."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def _sweep(name: str, lock_id: int, sweep) -> int:
    with single_sweeper(lock_id) as mine:
        if not mine:
            log.info("%s sweep skipped: another sweeper is running", name)
            return 0
        written = sweep()
    if written:
        log.info("%s sweep wrote %s notifications", name, written)
    return written


SWEEP = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**SWEEP)
def remind_overdue_triage() -> int:
    return _sweep("triage", TRIAGE_LOCK, reminders.triage_remind_overdue)


@shared_task(**SWEEP)
def remind_overdue_information_requests() -> int:
    return _sweep(
        "information request", INFORMATION_LOCK, reminders.information_requests_remind_overdue
    )


@shared_task(**SWEEP)
def remind_reviews() -> int:
    return _sweep("review", REVIEWS_LOCK, reminders.reviews_remind_due)


@shared_task(**SWEEP)
def remind_overdue_actions() -> int:
    return _sweep("action", ACTIONS_LOCK, reminders.actions_remind_overdue)


@shared_task(**SWEEP)
def requeue_undelivered_notifications() -> int:
    """The outbox sweep: queue again what a broker outage or a lost message left unsent."""
    with single_sweeper(OUTBOX_LOCK) as mine:
        if not mine:
            log.info("outbox sweep skipped: another sweeper is running")
            return 0
        ids = list(
            reminders.notifications_undelivered().values_list("pk", flat=True)[:REQUEUE_BATCH]
        )
    for pk in ids:
        try:
            deliver_notification.apply_async((pk,), expires=REQUEUE_EXPIRES)
        except Exception as exc:  # noqa: BLE001 - one row (or a broker blip) must not stop the rest
            log.warning("outbox sweep: notification %s not queued (%s)", pk, type(exc).__name__)
    if ids:
        log.info("outbox sweep queued %s notifications again", len(ids))
    return len(ids)


def run_sweeps() -> dict[str, int]:
    """Every sweep once, in this process: the embedded mode's stand-in for beat (`make sweep`)."""
    return {
        "timers": _fire_timers(),
        "triage": remind_overdue_triage(),
        "information_requests": remind_overdue_information_requests(),
        "reviews": remind_reviews(),
        "actions": remind_overdue_actions(),
        "outbox": requeue_undelivered_notifications(),
    }


def _fire_timers() -> int:
    from protocols.tasks import fire_timers

    return fire_timers()


# --- delivery ------------------------------------------------------------------------------


def _message(notification: Notification) -> EmailMessage:
    """The e-mail: the kind of news and a link, never anything about the child."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Casework] %(kind)s") % {"kind": notification.get_kind_display()}
        body = _(
            "There is news for you in Casework.\n\nOpen %(url)s to read it "
            "(you will be asked to log in)."
        ) % {"url": settings.SITE_URL + reverse("casework:notifications")}
    # One Message-ID per notification (stable, unique to this installation): should the same
    # notification ever be sent twice — a worker killed between the SMTP hand-over and the
    # commit — mail servers and clients see one message.
    token = salted_hmac("casework.notification.message-id", str(notification.pk)).hexdigest()
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [notification.recipient.email],
        headers={"Message-ID": f"<notification.{notification.pk}.{token[:20]}@{domain}>"},
    )


def _deliver(notification_id: int) -> str:
    # The row lock is held while the e-mail is handed over, so two copies of this task (a
    # redelivery and an outbox re-send) cannot both send: the second waits, then finds it sent.
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "missing"
        if notification.emailed_at is not None:
            return "already-sent"
        notification.attempts += 1
        if notification.recipient.email:
            _message(notification).send()
            outcome = "sent"
        else:
            outcome = "no-address"
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at", "attempts"])
    log.info("notification %s: %s", notification_id, outcome)
    return outcome


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
)
def deliver_notification(self, notification_id: int) -> str:
    """E-mail one notification, once. A blip (SMTP or database) is retried here within a
    minute; a longer outage is left to the outbox sweep, which tries again with a growing
    wait (casework.services.reminders.notifications_undelivered)."""
    try:
        return _deliver(notification_id)
    except Exception:
        # The failed attempt is counted outside the rolled-back transaction: the outbox
        # sweep backs off by it, and stops at OUTBOX_MAX_ATTEMPTS.
        Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
            attempts=F("attempts") + 1
        )
        attempts = (
            Notification.objects.filter(pk=notification_id)
            .values_list("attempts", flat=True)
            .first()
        )
        if attempts is not None and attempts >= reminders.OUTBOX_MAX_ATTEMPTS:
            log.error(
                "notification %s not delivered after %s attempts: the outbox gives up",
                notification_id,
                attempts,
            )
        else:
            log.warning("notification %s: delivery attempt %s failed", notification_id, attempts)
        raise
