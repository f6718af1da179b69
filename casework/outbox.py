"""The outbox: notifications written with the change they report, e-mailed after it commits.

A notification row is written in the transaction of the change; its delivery is published only
after that transaction commits, so a rolled-back change sends nothing, and a broker that is down
delays delivery (the outbox sweep publishes again) but loses nothing. Delivery e-mails each row
once: it locks the row, sends, and records `emailed_at` in one transaction.

The services write rows here (`notify`); casework.tasks runs the outbox sweep. This module
imports neither: the delivery task is defined here, under its casework.tasks name.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .models import Notification

log = logging.getLogger(__name__)

# The outbox sweep re-sends an undelivered notification after 1, 2, 4, … minutes of age,
# doubling with each delivery attempt, and gives up after OUTBOX_MAX_ATTEMPTS (about 17 hours).
OUTBOX_RETRY_AFTER = datetime.timedelta(minutes=1)
OUTBOX_MAX_ATTEMPTS = 10
# Re-sent copies of a notification expire, so that a queue backed up for hours does not fill
# with copies of the same id (each would be a harmless no-op, but a slow one to drain).
REQUEUE_EXPIRES = 600
REQUEUE_BATCH = 500


# --- writing -------------------------------------------------------------------------------


def notify(
    *,
    recipients,
    kind: str,
    referral=None,
    case=None,
    dedup: str | None = None,
    about: tuple | None = None,
) -> list:
    """Queue `kind` for each recipient. `dedup` makes it once-only per recipient (reminders);
    `about` = (topic, subject id, deadline) marks a reminder as written for that deadline."""
    created = []
    topic, subject_id, due_at = about or ("", None, None)
    for user in {u.pk: u for u in recipients if u is not None and u.is_active}.values():
        key = f"{dedup}:{user.pk}" if dedup else None
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=user,
                        kind=kind,
                        referral=referral,
                        case=case,
                        dedup_key=key,
                        topic=topic,
                        subject_id=subject_id,
                        due_at=due_at,
                    )
                )
        except IntegrityError:
            if key is None:
                raise
            # Already queued by an earlier (or a concurrent) run: once is enough.
    if created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: _publish(ids))
    return created


def _publish(ids: list[int]) -> None:
    """Queue delivery after commit. If the broker (or, in the embedded mode, the mail server)
    fails, the rows stay in the outbox and the sweep delivers them later: stop at the first
    failure rather than wait on a broken connection once per notification."""
    for position, pk in enumerate(ids):
        try:
            deliver_notification.delay(pk)
        except Exception:  # noqa: BLE001 - an outage must not break the user's request
            log.warning(
                "could not queue notifications %s now; the outbox sweep will retry them",
                ids[position:],
            )
            return


# --- the sweep -----------------------------------------------------------------------------


def notifications_undelivered(*, now: datetime.datetime | None = None) -> QuerySet:
    """Outbox rows not yet e-mailed whose next try is due, oldest first.

    A row that no worker has tried (the broker was down at commit, or lost the message) is
    due after OUTBOX_RETRY_AFTER; each failed attempt doubles the wait, counted from the
    row's creation; after OUTBOX_MAX_ATTEMPTS the outbox gives up (the row stays, unsent,
    for the administrator)."""
    now = now or timezone.now()
    due = Q()
    for attempts in range(OUTBOX_MAX_ATTEMPTS):
        due |= Q(attempts=attempts, created_at__lte=now - OUTBOX_RETRY_AFTER * 2**attempts)
    return Notification.objects.filter(due, emailed_at__isnull=True).order_by("created_at", "pk")


def due_for_retry() -> list[int]:
    """The ids of the next batch the outbox sweep publishes again."""
    return list(notifications_undelivered().values_list("pk", flat=True)[:REQUEUE_BATCH])


def publish_again(ids: list[int]) -> int:
    """Publish delivery again for these rows; a row the broker refuses is left for the next
    sweep, and the others still go."""
    for pk in ids:
        try:
            deliver_notification.apply_async((pk,), expires=REQUEUE_EXPIRES)
        except Exception as exc:  # noqa: BLE001 - one row (or a broker blip) must not stop the rest
            log.warning("outbox sweep: notification %s not queued (%s)", pk, type(exc).__name__)
    if ids:
        log.info("outbox sweep queued %s notifications again", len(ids))
    return len(ids)


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


def _count_failed_attempt(notification_id: int) -> None:
    """Count the failed attempt outside the rolled-back transaction: the outbox sweep backs
    off by it, and stops at OUTBOX_MAX_ATTEMPTS."""
    Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        attempts=F("attempts") + 1
    )
    attempts = (
        Notification.objects.filter(pk=notification_id).values_list("attempts", flat=True).first()
    )
    if attempts is not None and attempts >= OUTBOX_MAX_ATTEMPTS:
        log.error(
            "notification %s not delivered after %s attempts: the outbox gives up",
            notification_id,
            attempts,
        )
    else:
        log.warning("notification %s: delivery attempt %s failed", notification_id, attempts)


@shared_task(
    name="casework.tasks.deliver_notification",
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
    wait (notifications_undelivered)."""
    try:
        return _deliver(notification_id)
    except Exception:
        _count_failed_attempt(notification_id)
        raise
