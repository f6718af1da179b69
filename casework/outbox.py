"""The outbox: notifications written with the change they report, e-mailed after it commits.

A notification row is written in the transaction of the change; its delivery is published only
after that transaction commits, so a rolled-back change sends nothing, and a broker that is down
or hung delays delivery (the outbox sweep publishes again) but loses nothing.

Delivery is at least once, and twice only after a fault in a window of one SMTP hand-over:
1. claim: one short transaction counts the attempt and leases the row to this worker
   (`claimed_until`); a copy of the task run meanwhile (a redelivery, the sweep) sends nothing;
2. send, outside any transaction;
3. record `emailed_at`, retried on a dropped database connection — the bookkeeping is
   retried, never the send.
A worker killed between 2 and 3 (or a database down for all of 3) leaves the lease: after it
expires the row is sent again, with the same Message-ID. A failed send schedules the next try
(`next_attempt_at`) and, past OUTBOX_GIVE_UP_HOURS, gives up and alerts once.

The services write rows here (`notify`); casework.tasks runs the outbox sweep. This module
imports neither: the delivery task is defined here, under its casework.tasks name.
"""

from __future__ import annotations

import datetime
import logging
import time

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .models import Notification

log = logging.getLogger(__name__)

# The schedule. A row no worker has tried yet (its publish was lost or refused) is swept one
# minute after it was written. After a failed try the next one waits 1, 2, 4, 8, 16, 32 minutes,
# then every hour; a failure whose next try would fall after OUTBOX_GIVE_UP_HOURS (24) from the
# row's creation (or from an operator's retry) gives up.
RETRY_MIN_DELAY = datetime.timedelta(minutes=1)
RETRY_MAX_DELAY = datetime.timedelta(hours=1)
# Kept for the first sweep: a row not yet tried is due this long after it was written.
OUTBOX_RETRY_AFTER = RETRY_MIN_DELAY
# Re-sent copies of a notification expire, so that a queue backed up for hours does not fill
# with copies of the same id (each would be a harmless no-op, but a slow one to drain).
REQUEUE_EXPIRES = 600
REQUEUE_BATCH = 500
# The web's publish after a commit: a broker that accepts the connection and never answers
# costs the request at most about PUBLISH_TIMEOUT + PUBLISH_CONNECT_TIMEOUT seconds, once;
# after a failure the process does not try again for PUBLISH_PAUSE seconds (the sweep delivers).
PUBLISH_CONNECT_TIMEOUT = 1.0
PUBLISH_TIMEOUT = 1.0
PUBLISH_PAUSE = 30.0
# Pauses between tries at recording a sent e-mail (a database connection dropped after the
# hand-over): about 7 seconds in all, then the lease decides.
RECORD_PAUSES = (0, 0.5, 1, 2, 4)


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after the `attempts`-th failed try: 1, 2, 4 … minutes, at most an hour."""
    return min(RETRY_MIN_DELAY * 2 ** max(attempts - 1, 0), RETRY_MAX_DELAY)


def give_up_after() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.OUTBOX_GIVE_UP_HOURS)


def send_lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.OUTBOX_SEND_LEASE_SECONDS)


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
    now = timezone.now()
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
                        created_at=now,
                        # Should the publish after the commit be lost, the sweep takes it then.
                        next_attempt_at=now + OUTBOX_RETRY_AFTER,
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


class _Breaker:
    """After a failed publish, this process leaves publishing to the sweep for a while: a
    broken broker costs one request a short wait, not every request."""

    open_until = 0.0

    @classmethod
    def is_open(cls) -> bool:
        return time.monotonic() < cls.open_until

    @classmethod
    def trip(cls) -> None:
        cls.open_until = time.monotonic() + PUBLISH_PAUSE

    @classmethod
    def reset(cls) -> None:
        cls.open_until = 0.0


def _publish_connection():
    """A connection of its own with short timeouts and no reconnect loop: the worker's
    (CELERY_BROKER_TRANSPORT_OPTIONS) may wait for a slow broker; a web request must not."""
    from config.celery import app

    options = {
        **app.conf.broker_transport_options,
        "max_retries": 0,
        # Redis
        "socket_connect_timeout": PUBLISH_CONNECT_TIMEOUT,
        "socket_timeout": PUBLISH_TIMEOUT,
        # RabbitMQ (py-amqp)
        "read_timeout": PUBLISH_TIMEOUT,
        "write_timeout": PUBLISH_TIMEOUT,
    }
    return app.connection_for_write(
        transport_options=options, connect_timeout=PUBLISH_CONNECT_TIMEOUT
    )


def _publish(ids: list[int]) -> None:
    """Queue delivery after commit, once, quickly. If the broker (or, in the embedded mode,
    the database) fails, the rows stay in the outbox and the sweep delivers them a minute
    later: stop at the first failure rather than wait on a broken connection once per row."""
    from config.celery import app

    if app.conf.task_always_eager:  # the embedded mode: deliver in this process
        for pk in ids:
            try:
                deliver_notification.delay(pk)
            except Exception:  # noqa: BLE001 - an outage must not break the user's request
                log.warning("notifications %s left for the outbox sweep", ids)
                return
        return
    if _Breaker.is_open():
        log.info("broker unavailable a moment ago: notifications %s left for the outbox sweep", ids)
        return
    try:
        with _publish_connection() as conn:
            for pk in ids:
                deliver_notification.apply_async((pk,), connection=conn, retry=False)
    except Exception as exc:  # noqa: BLE001 - an outage must not break the user's request
        _Breaker.trip()
        log.warning(
            "broker unavailable (%s): notifications %s left for the outbox sweep, which "
            "will retry them",
            type(exc).__name__,
            ids,
        )


# --- the sweep -----------------------------------------------------------------------------


def notifications_undelivered(*, now: datetime.datetime | None = None) -> QuerySet:
    """Outbox rows not yet e-mailed whose next try is due, the most overdue first (a row a
    worker has claimed is due again only when its claim expires)."""
    now = now or timezone.now()
    return Notification.objects.filter(
        emailed_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")


def due_for_retry(*, now: datetime.datetime | None = None) -> list[int]:
    """The ids of the next batch the outbox sweep publishes again."""
    return list(notifications_undelivered(now=now).values_list("pk", flat=True)[:REQUEUE_BATCH])


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


def notifications_given_up() -> QuerySet:
    return Notification.objects.filter(emailed_at__isnull=True, gave_up_at__isnull=False)


def retry_given_up(*, ids=None, now: datetime.datetime | None = None) -> int:
    """An operator's retry (manage.py outbox_retry, or the admin's action): the rows the
    outbox gave up on are due at once and get another OUTBOX_GIVE_UP_HOURS."""
    now = now or timezone.now()
    rows = notifications_given_up()
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    count = rows.update(
        gave_up_at=None, next_attempt_at=now, retried_by_hand_at=now, claimed_until=None
    )
    if count:
        log.info("outbox: %s notifications given up are to be tried again", count)
    return count


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
    # notification be sent twice — a worker killed between the SMTP hand-over and recording
    # it — mail servers and clients see one message.
    token = salted_hmac("casework.notification.message-id", str(notification.pk)).hexdigest()
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [notification.recipient.email],
        headers={"Message-ID": f"<notification.{notification.pk}.{token[:20]}@{domain}>"},
    )


def _claim(notification_id: int, now: datetime.datetime) -> tuple[Notification | None, str]:
    """Step 1: count the attempt and lease the row, committed before anything is sent."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return None, "missing"
        if notification.emailed_at is not None:
            return None, "already-sent"
        if notification.gave_up_at is not None:
            return None, "given-up"
        if notification.claimed_until is not None and notification.claimed_until > now:
            return None, "in-flight"
        if (
            notification.attempts
            and notification.next_attempt_at
            and (notification.next_attempt_at > now)
        ):
            return None, "not-due"  # a stray copy of the task: the schedule decides
        if notification.claimed_until is not None:
            log.warning(
                "notification %s: the outcome of attempt %s is unknown (its worker stopped "
                "after claiming it); sending again",
                notification_id,
                notification.attempts,
            )
        notification.attempts += 1
        notification.claimed_until = now + send_lease()
        # If this worker vanishes, the sweep looks at the row again when the claim expires.
        notification.next_attempt_at = notification.claimed_until
        notification.save(update_fields=["attempts", "claimed_until", "next_attempt_at"])
    return notification, "claimed"


def _record_sent(notification_id: int) -> bool:
    """Step 3: record the hand-over. A dropped connection is replaced and the UPDATE tried
    again, a few times; the e-mail is never sent again from here."""
    for pause in RECORD_PAUSES:
        if pause:
            time.sleep(pause)
        try:
            Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
                emailed_at=timezone.now(), claimed_until=None, next_attempt_at=None
            )
            return True
        except DatabaseError as exc:
            log.warning(
                "notification %s: e-mailed, but not recorded yet (%s); trying again",
                notification_id,
                type(exc).__name__,
            )
            if not connection.in_atomic_block:
                connection.close()  # the next query opens a fresh connection
    log.error(
        "notification %s: e-mailed, but the database could not record it; it will be sent "
        "again when its claim expires",
        notification_id,
    )
    return False


def _record_failure(notification: Notification, now: datetime.datetime, error: str) -> str:
    """A failed send: schedule the next try, or give up — and say so once."""
    since = notification.retried_by_hand_at or notification.created_at
    next_at = now + retry_delay(notification.attempts)
    unsent = Notification.objects.filter(
        pk=notification.pk, emailed_at__isnull=True, gave_up_at__isnull=True
    )
    if next_at - since > give_up_after():
        if unsent.update(gave_up_at=now, next_attempt_at=None, claimed_until=None):
            log.error(
                "notification %s not delivered after %s attempts in %s hours (last: %s): the "
                "outbox gives up; retry with `manage.py outbox_retry` once the cause is fixed",
                notification.pk,
                notification.attempts,
                round((now - since).total_seconds() / 3600, 1),
                error,
            )
        return "given-up"
    unsent.update(next_attempt_at=next_at, claimed_until=None)
    log.warning(
        "notification %s: delivery attempt %s failed (%s); next try at %s",
        notification.pk,
        notification.attempts,
        error,
        next_at.isoformat(timespec="seconds"),
    )
    return "failed"


def deliver(notification_id: int, *, now: datetime.datetime | None = None) -> str:
    """E-mail one notification: claim, send, record (see the module's docstring)."""
    notification, outcome = _claim(notification_id, now or timezone.now())
    if notification is None:
        log.info("notification %s: %s", notification_id, outcome)
        return outcome
    if notification.recipient.email:
        try:
            _message(notification).send()
        except Exception as exc:  # noqa: BLE001 - any failure to hand over: try again later
            return _record_failure(notification, timezone.now(), type(exc).__name__)
        outcome = "sent"
    else:
        outcome = "no-address"
    _record_sent(notification_id)
    log.info("notification %s: %s", notification_id, outcome)
    return outcome


@shared_task(
    name="casework.tasks.deliver_notification",
    acks_late=True,
    reject_on_worker_lost=True,
    # Only the claim can raise this, before anything is sent: retried within a minute.
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def deliver_notification(notification_id: int) -> str:
    """E-mail one notification, at most once per claim; the outbox's schedule, not Celery,
    decides when a failed one is tried again."""
    return deliver(notification_id)
