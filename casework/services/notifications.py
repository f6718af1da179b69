"""The outbox. A notification row is written in the transaction of the change it reports;
its delivery is queued only after that transaction commits, so a rolled-back change sends
nothing and a broker that is down delays delivery (the beat sweep retries) but loses nothing."""

from django.db import IntegrityError, transaction

from ..models import Notification


def notify(*, recipients, kind: str, referral=None, case=None, dedup: str | None = None) -> list:
    """Queue `kind` for each recipient. `dedup` makes it once-only per recipient (reminders)."""
    created = []
    for user in {u.pk: u for u in recipients if u is not None and u.is_active}.values():
        key = f"{dedup}:{user.pk}" if dedup else None
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=user, kind=kind, referral=referral, case=case, dedup_key=key
                    )
                )
        except IntegrityError:
            if key is None:
                raise
            # Already queued by an earlier (or a concurrent) run: once is enough.
    if created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: _enqueue(ids))
    return created


def _enqueue(ids: list[int]) -> None:
    """Queue delivery after commit. If the broker (or, in the embedded mode, the mail server)
    fails, the rows stay in the outbox and the sweep delivers them later: stop at the first
    failure rather than wait on a broken connection once per notification."""
    import logging

    from ..tasks import deliver_notification

    for position, pk in enumerate(ids):
        try:
            deliver_notification.delay(pk)
        except Exception:  # noqa: BLE001 - an outage must not break the user's request
            logging.getLogger(__name__).warning(
                "could not queue notifications %s now; the outbox sweep will retry them",
                ids[position:],
            )
            return


@transaction.atomic
def notification_mark_read(*, actor, notification: Notification) -> Notification:
    from django.utils import timezone

    if notification.recipient_id != actor.pk:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
