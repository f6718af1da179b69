"""Break-glass: an auditor reads the values of one trail for a stated purpose. The purpose is
recorded (append-only), the opening is in the read log, and the district's supervisors are told."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import AccessLog, Case, Notification, Referral, TrailUnlock
from ..outbox import notify
from .referrals import members_of

__all__ = ["trail_unlock"]

MIN_EXPLANATION = 20


@transaction.atomic
def trail_unlock(
    *,
    actor,
    purpose: str,
    explanation: str,
    referral: Referral | None = None,
    case: Case | None = None,
    address: str | None = None,
    path: str = "",
) -> TrailUnlock:
    """Open the values of the trail of `referral` or `case` to `actor` (an auditor) for a
    while, for `purpose`, explained in their own words."""
    if (referral is None) == (case is None):
        raise ValueError("a trail is a referral's or a case's")
    if not permissions.may_unlock_trail(actor):
        raise PermissionDenied(_("Only an auditor opens a trail with a purpose."))
    errors = {}
    if purpose not in TrailUnlock.Purpose.values:
        errors["purpose"] = _("Choose the purpose.")
    explanation = explanation.strip()
    if len(explanation) < MIN_EXPLANATION:
        errors["explanation"] = _(
            "Explain why, in at least %(count)d characters (for example the file number of "
            "the request)."
        ) % {"count": MIN_EXPLANATION}
    if errors:
        raise ValidationError(errors)
    kind = AccessLog.Kind.REFERRAL if referral is not None else AccessLog.Kind.CASE
    target = referral if referral is not None else case
    now = timezone.now()
    unlock = TrailUnlock.objects.create(
        user=actor,
        object_type=kind,
        object_id=target.pk,
        purpose=purpose,
        explanation=explanation,
        opened_at=now,
        # How long the trail stays open after the purpose is stated (settings.py).
        expires_at=now + datetime.timedelta(minutes=settings.CASEWORK_TRAIL_UNLOCK_MINUTES),
    )
    AccessLog.objects.create(
        user=actor,
        door=AccessLog.Door.API if path.startswith("/api/") else AccessLog.Door.WEB,
        action="trail.unlock",
        object_type=kind,
        object_id=target.pk,
        address=address,
        path=path[:200],
    )
    supervisors = members_of(permissions.district_supervisors_group(target.district))
    notify(
        recipients=supervisors,
        kind=Notification.Kind.TRAIL_UNLOCKED,
        referral=referral,
        case=case,
    )
    return unlock
