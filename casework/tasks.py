"""Celery tasks: thin wrappers that take ids, load the rows and do one thing."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Notification

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def deliver_notification(self, notification_id: int) -> str:
    """E-mail one notification. Idempotent: a redelivered task finds it already e-mailed."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "missing"
        if notification.emailed_at is not None:
            return "already-sent"
        recipient = notification.recipient
        notification.attempts += 1
        if not recipient.email:
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["emailed_at", "attempts"])
            return "no-address"
        with translation.override(settings.LANGUAGE_CODE):
            # No personal data of the child: the kind of news and a link, nothing else.
            subject = _("[Casework] %(kind)s") % {"kind": notification.get_kind_display()}
            body = _(
                "There is news for you in Casework.\n\nOpen %(url)s to read it "
                "(you will be asked to log in)."
            ) % {"url": f"{settings.SITE_URL}/casework/notifications/"}
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at", "attempts"])
    log.info("notification %s e-mailed", notification_id)
    return "sent"
