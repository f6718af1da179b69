"""The referral: what its services share, and its way in — from the author's submission,
through the school referent where the school asks for one, into the district's triage queue.

The child and the teacher's form are in drafts.py; triage, the decisions and the feedback in
triage.py.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions, selectors
from ..models import District, Notification, Referral, Urgency
from ..outbox import notify
from .common import TransitionNotAllowed, audited_save, flow_owned

__all__ = [
    "emergency_guidance",
    "members_of",
    "needs_validation",
    "referral_send_errors",
    "referral_submit",
    "referral_validate",
    "review_interval",
    "triage_deadline",
]

Status = Referral.Status


def lock_referral(referral: Referral) -> Referral:
    """Re-read the referral under a row lock (real on PostgreSQL): one transition at a time."""
    return Referral.objects.select_for_update().get(pk=referral.pk)


def require_status(referral: Referral, *allowed: str) -> None:
    """Refuse (HTTP 409) unless the referral is in one of the `allowed` states."""
    if referral.status not in allowed:
        raise TransitionNotAllowed(
            _("Not allowed while the referral is “%(status)s”.")
            % {"status": referral.get_status_display()}
        )


def triage_deadline(urgency: str, start: datetime.datetime, *, protocol=None) -> datetime.datetime:
    """When triage is due for a referral of this urgency that reached the district at `start`,
    by the referral's protocol (selectors.protocol_for)."""
    protocol = protocol or selectors.protocol_for(None)
    return start + datetime.timedelta(**protocol.triage_period(urgency))


def members_of(*groups):
    """The active people in any of these groups (a district's team, a school's referents)."""
    return get_user_model().objects.filter(is_active=True, groups__in=groups).distinct()


def triage_team(district: District):
    """Who is told of a referral in the district's queue: its triage team and supervisors."""
    return members_of(
        permissions.district_triage_group(district),
        permissions.district_supervisors_group(district),
    )


def review_interval(risk_level: str, *, protocol=None) -> datetime.timedelta:
    """How long until the next review of a case at this risk level, by the case's protocol
    (selectors.protocol_for)."""
    protocol = protocol or selectors.protocol_for(None)
    return datetime.timedelta(weeks=protocol.review_weeks(risk_level))


# --- the way in ---------------------------------------------------------------------------


def referral_send_errors(
    *, concern_categories, observations: str, family_informed: bool | None, **_other
) -> dict[str, str]:
    """What the protocol needs before a referral leaves the school, field by field. The form
    asks it too, so that a send shows every missing answer at once, before anything is saved."""
    errors = {}
    if not concern_categories:
        errors["concern_categories"] = _("Choose at least one area of concern.")
    if not (observations or "").strip():
        errors["observations"] = _("Describe what you observed.")
    if family_informed is None:
        errors["family_informed"] = _("Say whether the family was informed.")
    return errors


def _check_complete(referral: Referral) -> None:
    errors = referral_send_errors(
        concern_categories=referral.concern_categories,
        observations=referral.observations,
        family_informed=referral.family_informed,
    )
    if errors:
        raise ValidationError(errors)


def needs_validation(referral: Referral) -> bool:
    """The referral goes to the school referent first: where the protocol (or, where the
    protocol leaves it to each school, the school) asks for it — not when its author is a
    referent of the school."""
    protocol = selectors.protocol_for(referral)
    return protocol.needs_referent_validation(referral.school) and not permissions.can_validate(
        referral.referrer, referral.school
    )


@flow_owned
@transaction.atomic
def referral_submit(*, actor, referral: Referral) -> Referral:
    """The author sends the form: to the school referent where the school asks for it,
    otherwise straight into the triage queue of the child's district."""
    referral = lock_referral(referral)
    if referral.referrer_id != actor.pk:
        raise PermissionDenied(_("Only the author submits a referral."))
    require_status(referral, Status.DRAFT)
    if referral.deleted_at is not None:
        raise TransitionNotAllowed(_("This draft is already deleted."))
    _check_complete(referral)
    referral.submitted_at = timezone.now()
    if needs_validation(referral):
        referral.status = Status.AWAITING_VALIDATION
        audited_save(referral, actor=actor, reason="casework.referral.sent_for_validation")
        referents = members_of(permissions.school_referents_group(referral.school))
        notify(recipients=referents, kind=Notification.Kind.REFERRAL_TO_VALIDATE, referral=referral)
        return referral
    return _enter_triage(
        referral, actor=actor, reason="casework.referral.submitted", start=referral.submitted_at
    )


@flow_owned
@transaction.atomic
def referral_validate(*, actor, referral: Referral) -> Referral:
    """The school referent confirms the referral and sends it to triage."""
    referral = lock_referral(referral)
    if not permissions.can_validate(actor, referral.school):
        raise PermissionDenied(_("Only the school referent validates the school's referrals."))
    require_status(referral, Status.AWAITING_VALIDATION)
    return _enter_triage(
        referral, actor=actor, reason="casework.referral.validated", start=timezone.now()
    )


def _enter_triage(referral: Referral, *, actor, reason: str, start) -> Referral:
    """The triage clock starts when the referral reaches the district."""
    referral.status = Status.SUBMITTED
    referral.triage_due_at = triage_deadline(
        referral.urgency, start, protocol=selectors.protocol_for(referral)
    )
    audited_save(referral, actor=actor, reason=reason)
    district = referral.district
    if referral.urgency == Urgency.IMMEDIATE_DANGER:
        on_duty = [district.on_duty_user] if district.on_duty_user else []
        supervisors = list(members_of(permissions.district_supervisors_group(district)))
        notify(
            recipients=on_duty + supervisors,
            kind=Notification.Kind.IMMEDIATE_DANGER,
            referral=referral,
        )
    else:
        notify(
            recipients=triage_team(district),
            kind=Notification.Kind.REFERRAL_SUBMITTED,
            referral=referral,
        )
    return referral


def emergency_guidance(referral: Referral) -> dict | None:
    """What the referrer is shown at once for immediate danger: software never replaces the call."""
    if referral.urgency != Urgency.IMMEDIATE_DANGER:
        return None
    return {
        "emergency_number": settings.EMERGENCY_NUMBER,
        "message": _(
            "If the child is in immediate danger, call %(number)s now. This referral has "
            "alerted the district's on-duty social worker, but it does not replace the call."
        )
        % {"number": settings.EMERGENCY_NUMBER},
        "on_duty_phone": referral.district.on_duty_phone,
    }
