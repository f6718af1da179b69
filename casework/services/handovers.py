"""Hand-overs at school-grade transitions (seeds 000, 002): the case team writes a note for the
receiving school's referent, records the family's consent (or the legal basis for sharing
without it), and the school acknowledges it. The school reads the note, never the file."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import Agency, Case, HandOver, Notification
from ..outbox import notify
from .common import TransitionNotAllowed, audited_save
from .referrals import members_of

__all__ = ["handover_acknowledge", "handover_send"]


@transaction.atomic
def handover_send(
    *,
    actor,
    case: Case,
    to_school: Agency,
    transition: str,
    note: str,
    basis: str,
    consent_given_by: str = "",
    consent_given_on: datetime.date | None = None,
    legal_basis: str = "",
    from_school: Agency | None = None,
) -> HandOver:
    """Send a hand-over note to the receiving school's referents. Sharing needs the family's
    consent (who gave it, when) or a legal basis written out; nothing is sent without one."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not permissions.can_send_handover(actor, case):
        raise PermissionDenied(_("Only the case team sends a hand-over note."))
    if case.status != Case.Status.OPEN:
        raise TransitionNotAllowed(
            _("Not allowed while the case is “%(status)s”.") % {"status": case.get_status_display()}
        )
    errors: dict = {}
    if to_school is None or to_school.kind != Agency.Kind.SCHOOL:
        errors["to_school"] = _("Choose the school the child moves to.")
    elif not members_of(permissions.school_referents_group(to_school)).exists():
        errors["to_school"] = _("This school has no referent to receive the note yet.")
    if transition not in HandOver.Transition.values:
        errors["transition"] = _("Choose the transition.")
    if not (note or "").strip():
        errors["note"] = _("Write what helps the child at the new school.")
    if basis == HandOver.Basis.CONSENT:
        if not (consent_given_by or "").strip():
            errors["consent_given_by"] = _("Say who in the family consented.")
        if consent_given_on is None:
            errors["consent_given_on"] = _("Say when the family consented.")
        elif consent_given_on > timezone.localdate():
            errors["consent_given_on"] = _("The date is in the future.")
        legal_basis = ""
    elif basis == HandOver.Basis.LEGAL_BASIS:
        if len((legal_basis or "").strip()) < 20:
            errors["legal_basis"] = _(
                "Name the legal basis and explain why the family's consent is not asked."
            )
        consent_given_by, consent_given_on = "", None
    else:
        errors["basis"] = _("Record the family's consent or the legal basis.")
    if errors:
        raise ValidationError(errors)
    handover = HandOver(
        case=case,
        from_school=from_school,
        to_school=to_school,
        transition=transition,
        note=note.strip(),
        basis=basis,
        consent_given_by=consent_given_by.strip(),
        consent_given_on=consent_given_on,
        legal_basis=legal_basis.strip(),
        sent_by=actor,
    )
    audited_save(handover, actor=actor, reason="casework.handover.sent")
    # No case on the notice: the school opens the hand-over, never the case.
    notify(
        recipients=members_of(permissions.school_referents_group(to_school)),
        kind=Notification.Kind.HANDOVER_RECEIVED,
    )
    return handover


@transaction.atomic
def handover_acknowledge(*, actor, handover: HandOver) -> HandOver:
    """The receiving school's referent confirms the note reached the school."""
    handover = HandOver.objects.select_for_update().get(pk=handover.pk)
    if not permissions.receives_handover(actor, handover):
        raise PermissionDenied(_("Only a referent of the receiving school acknowledges it."))
    if handover.status != HandOver.Status.SENT:
        raise TransitionNotAllowed(_("This hand-over is already acknowledged."))
    handover.status = HandOver.Status.ACKNOWLEDGED
    handover.acknowledged_by = actor
    handover.acknowledged_at = timezone.now()
    audited_save(handover, actor=actor, reason="casework.handover.acknowledged")
    notify(
        recipients=[handover.sent_by, handover.case.lead_worker],
        kind=Notification.Kind.HANDOVER_ACKNOWLEDGED,
        case=handover.case,
    )
    return handover
