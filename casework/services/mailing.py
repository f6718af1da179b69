"""The mailing list: subscriptions with double opt-in, mailings and their delivery.

Delivery of a mailing, each recipient at most once:
1. `mailing_send` writes one MailingDelivery per subscriber of the category (unique pair) in
   the transaction that marks the mailing as sending, and queues the send after commit;
2. the send task claims one row at a time (status `sending`, a lease, committed), sends,
   and records `sent`. A failure the mail server reported puts the row back to wait (three
   tries); a row whose worker died after claiming it is never sent again: the sweep marks it
   `unknown` when its lease expires;
3. the sweep (`mailings_resume`) queues the send again for every mailing still sending, so a
   crashed worker's mailing finishes from where it stopped.
Task arguments are ids; the tokens in links are random and say nothing about the person.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import OperationalError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .. import permissions
from ..models import (
    District,
    Mailing,
    MailingCategory,
    MailingDelivery,
    Subscriber,
    SubscriberEvent,
)
from ..models.mailing import new_token
from .common import TransitionNotAllowed, audited_save

__all__ = [
    "mailing_deliver",
    "mailing_send",
    "mailing_write",
    "mailings_resume",
    "subscriber_confirm",
    "subscriber_erase",
    "subscriber_request",
    "subscriber_unsubscribe",
]

log = logging.getLogger(__name__)

# A worker that claimed a delivery holds it this long (one SMTP hand-over and its record).
DELIVERY_LEASE = datetime.timedelta(minutes=10)
DELIVERY_TRIES = 3
BATCH = 200


def _event(subscriber: Subscriber, reason: str, actor=None) -> None:
    SubscriberEvent.objects.create(subscriber=subscriber, reason=reason, actor=actor)


def _save_subscriber(subscriber: Subscriber, *, actor, reason: str) -> None:
    audited_save(subscriber, actor=actor, reason=reason)
    _event(subscriber, reason, actor)


# --- subscriptions -------------------------------------------------------------------------


@transaction.atomic
def subscriber_request(
    *,
    kind: str,
    email: str,
    categories,
    consent_text: str,
    name: str = "",
    institution_type: str = "",
    district: District | None = None,
    language: str = "",
) -> Subscriber | None:
    """The public form: record the request and e-mail a confirmation link (double opt-in).
    An address already on the list gets the link again and nothing else changes, so the form
    neither tells who is subscribed nor lets anyone change another person's subscription."""
    email = email.strip()
    existing = Subscriber.objects.filter(email__iexact=email, erased_at__isnull=True).first()
    if existing is not None:
        transaction.on_commit(lambda: send_subscription_confirmation.delay(existing.pk))
        return None
    subscriber = Subscriber(
        kind=kind,
        institution_type=institution_type if kind == Subscriber.Kind.INSTITUTION else "",
        name=name,
        email=email,
        district=district,
        language=language,
        consent_text=consent_text,
    )
    if kind == Subscriber.Kind.INSTITUTION and not institution_type:
        raise ValidationError({"institution_type": [_("Say what kind of institution it is.")]})
    if not list(categories):
        raise ValidationError({"categories": [_("Choose at least one category.")]})
    _save_subscriber(subscriber, actor=None, reason="casework.subscriber.requested")
    subscriber.categories.set(categories)
    transaction.on_commit(lambda: send_subscription_confirmation.delay(subscriber.pk))
    return subscriber


@transaction.atomic
def subscriber_confirm(*, subscriber: Subscriber) -> Subscriber:
    """The second opt-in: the person opened the link and confirmed. Consent is dated now."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.erased_at is not None:
        raise TransitionNotAllowed(_("This subscription no longer exists."))
    if subscriber.is_active:
        return subscriber
    subscriber.consent_at = timezone.now()
    subscriber.subscribed_on = timezone.localdate()
    subscriber.unsubscribed_on = None
    _save_subscriber(subscriber, actor=None, reason="casework.subscriber.confirmed")
    return subscriber


@transaction.atomic
def subscriber_unsubscribe(*, subscriber: Subscriber, actor=None) -> Subscriber:
    """Leave the list (the link in every mail, or the helpline on request). Mail not yet sent
    to them is skipped."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.unsubscribed_on is None and subscriber.subscribed_on is not None:
        subscriber.unsubscribed_on = timezone.localdate()
        _save_subscriber(subscriber, actor=actor, reason="casework.subscriber.unsubscribed")
    MailingDelivery.objects.filter(
        subscriber=subscriber, status=MailingDelivery.Status.PENDING
    ).update(status=MailingDelivery.Status.SKIPPED)
    return subscriber


@transaction.atomic
def subscriber_erase(*, subscriber: Subscriber, actor) -> Subscriber:
    """Erasure on request: the name, address and language go, and the link stops working.
    The dates stay, without anyone's data, so that past years' counts do not change."""
    if actor is not None and not permissions.can_manage_mailing_list(actor):
        raise PermissionDenied(_("Only the helpline manages the mailing list."))
    subscriber = subscriber_unsubscribe(subscriber=subscriber, actor=actor)
    if subscriber.subscribed_on is None:
        subscriber.unsubscribed_on = None  # never confirmed: it never counted
    subscriber.name = ""
    subscriber.email = ""
    subscriber.language = ""
    subscriber.token = new_token()
    subscriber.erased_at = timezone.now()
    _save_subscriber(subscriber, actor=actor, reason="casework.subscriber.erased")
    return subscriber


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(f"mailing_list:{name}", args=[token])


@shared_task(
    name="casework.tasks.send_subscription_confirmation",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    max_retries=5,
)
def send_subscription_confirmation(subscriber_id: int) -> str:
    """E-mail the confirmation link. Sent again if asked again; confirming twice is harmless."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id, erased_at__isnull=True).first()
    if subscriber is None or not subscriber.email:
        return "missing"
    with translation.override(subscriber.language or settings.LANGUAGE_CODE):
        subject = _("Confirm your subscription to the family helpline's mailing list")
        body = _(
            "Someone (we hope you) asked to receive the family helpline's news at this "
            "address.\n\nTo confirm, open %(url)s and press the button.\n\nIf it was not you, "
            "do nothing: without confirmation you will receive nothing."
        ) % {"url": _link("confirm", subscriber.token)}
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [subscriber.email]).send()
    return "sent"


# --- mailings ------------------------------------------------------------------------------


@transaction.atomic
def mailing_write(
    *,
    actor,
    category: MailingCategory,
    subject: str,
    body: str,
    district: District | None = None,
) -> Mailing:
    """A draft mailing of the helpline staff, for the subscribers of one category."""
    if not permissions.can_manage_mailing_list(actor):
        raise PermissionDenied(_("Only the helpline writes mailings."))
    mailing = Mailing(
        category=category, subject=subject, body=body, district=district, author=actor
    )
    audited_save(mailing, actor=actor, reason="casework.mailing.written")
    return mailing


def recipients_of(mailing: Mailing):
    """The subscribers a mailing goes to: confirmed, not unsubscribed, following its category
    (and of its district, or of none, when the mailing has a district)."""
    from django.db.models import Q

    rows = Subscriber.objects.filter(
        categories=mailing.category_id,
        subscribed_on__isnull=False,
        unsubscribed_on__isnull=True,
        erased_at__isnull=True,
    ).exclude(email="")
    if mailing.district_id:
        rows = rows.filter(Q(district_id=mailing.district_id) | Q(district__isnull=True))
    return rows


@transaction.atomic
def mailing_send(*, mailing: Mailing, actor) -> int:
    """Start sending: one delivery row per recipient, written now, sent by a worker after
    commit. Returns the number of recipients."""
    if not permissions.can_manage_mailing_list(actor):
        raise PermissionDenied(_("Only the helpline sends mailings."))
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    if mailing.status != Mailing.Status.DRAFT:
        raise TransitionNotAllowed(_("This mailing has already been sent."))
    recipients = list(recipients_of(mailing).values_list("pk", flat=True).distinct())
    MailingDelivery.objects.bulk_create(
        [MailingDelivery(mailing=mailing, subscriber_id=pk) for pk in recipients],
        ignore_conflicts=True,
        batch_size=500,
    )
    mailing.status = Mailing.Status.SENDING
    mailing.sent_on = timezone.localdate()
    audited_save(mailing, actor=actor, reason="casework.mailing.sending")
    mailing_id = mailing.pk
    transaction.on_commit(lambda: send_mailing.delay(mailing_id))
    return len(recipients)


def _mail(delivery: MailingDelivery) -> EmailMessage:
    mailing, subscriber = delivery.mailing, delivery.subscriber
    unsubscribe = _link("unsubscribe", subscriber.token)
    with translation.override(subscriber.language or settings.LANGUAGE_CODE):
        footer = _(
            "You receive this because you subscribed to the family helpline's mailing list "
            "(%(category)s). To unsubscribe: %(url)s"
        ) % {"category": mailing.category.label, "url": unsubscribe}
    token = salted_hmac("casework.mailing.message-id", str(delivery.pk)).hexdigest()[:20]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return EmailMessage(
        mailing.subject,
        f"{mailing.body}\n\n-- \n{footer}\n",
        settings.DEFAULT_FROM_EMAIL,
        [subscriber.email],
        headers={
            "Message-ID": f"<mailing.{delivery.pk}.{token}@{domain}>",
            "List-Unsubscribe": f"<{unsubscribe}>",
        },
    )


def _claim_next(mailing_id: int, now) -> MailingDelivery | None:
    """Lease the next waiting row to this worker, committed before anything is sent."""
    with transaction.atomic():
        delivery = (
            MailingDelivery.objects.select_for_update(skip_locked=True)
            .filter(mailing_id=mailing_id, status=MailingDelivery.Status.PENDING)
            .order_by("pk")
            .first()
        )
        if delivery is None:
            return None
        delivery.status = MailingDelivery.Status.SENDING
        delivery.attempts += 1
        delivery.claimed_until = now + DELIVERY_LEASE
        delivery.save(update_fields=["status", "attempts", "claimed_until"])
    return (
        MailingDelivery.objects.select_related("mailing__category", "subscriber")
        .filter(pk=delivery.pk)
        .first()
    )


def mailing_deliver(mailing_id: int, *, limit: int | None = None) -> dict[str, int]:
    """Send the waiting deliveries of a mailing (at most `limit`), then close the mailing when
    none is left. Safe to run twice at once: each row is claimed by one worker only."""
    done = {"sent": 0, "failed": 0, "skipped": 0}
    while limit is None or sum(done.values()) < limit:
        delivery = _claim_next(mailing_id, timezone.now())
        if delivery is None:
            break
        rows = MailingDelivery.objects.filter(pk=delivery.pk, status=MailingDelivery.Status.SENDING)
        if not delivery.subscriber.is_active or not delivery.subscriber.email:
            rows.update(status=MailingDelivery.Status.SKIPPED, claimed_until=None)
            done["skipped"] += 1
            continue
        try:
            _mail(delivery).send()
        except Exception as exc:  # noqa: BLE001 - the server refused: try again, a few times
            status = (
                MailingDelivery.Status.FAILED
                if delivery.attempts >= DELIVERY_TRIES
                else MailingDelivery.Status.PENDING
            )
            rows.update(status=status, claimed_until=None)
            log.warning(
                "mailing %s, delivery %s: attempt %s failed (%s)",
                mailing_id,
                delivery.pk,
                delivery.attempts,
                type(exc).__name__,
            )
            if status == MailingDelivery.Status.FAILED:
                done["failed"] += 1
            continue
        rows.update(status=MailingDelivery.Status.SENT, sent_at=timezone.now(), claimed_until=None)
        done["sent"] += 1
    _finish_if_done(mailing_id)
    return done


def _finish_if_done(mailing_id: int) -> None:
    open_states = [MailingDelivery.Status.PENDING, MailingDelivery.Status.SENDING]
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().filter(pk=mailing_id).first()
        if mailing is None or mailing.status != Mailing.Status.SENDING:
            return
        if mailing.deliveries.filter(status__in=open_states).exists():
            return
        mailing.status = Mailing.Status.SENT
        mailing.finished_at = timezone.now()
        audited_save(mailing, actor=None, reason="casework.mailing.sent")


def mailings_resume(*, now=None) -> int:
    """The sweep: a delivery whose worker died after claiming it is marked `unknown` (it may
    have gone out: it is not sent again), and every mailing still sending is queued again.
    Returns the number of mailings queued."""
    now = now or timezone.now()
    MailingDelivery.objects.filter(
        status=MailingDelivery.Status.SENDING, claimed_until__lt=now
    ).update(status=MailingDelivery.Status.UNKNOWN, claimed_until=None)
    ids = list(Mailing.objects.filter(status=Mailing.Status.SENDING).values_list("pk", flat=True))
    for pk in ids:
        send_mailing.delay(pk)
    return len(ids)


@shared_task(
    name="casework.tasks.send_mailing",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    ignore_result=True,
)
def send_mailing(mailing_id: int) -> dict[str, int]:
    """Send a mailing's waiting deliveries in batches, queueing itself again between them so
    that one mailing does not hold a worker for an hour."""
    done = mailing_deliver(mailing_id, limit=BATCH)
    if sum(done.values()) >= BATCH:
        send_mailing.delay(mailing_id)
    return done
