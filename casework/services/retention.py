"""Legal holds: placed and lifted with a reason by a supervisor of the record's district or by
the data protection officer (auditor role). While a hold is in place the purge leaves the
record — and everything that goes with it — alone (casework.retention, services.purge)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import permissions, retention
from ..models import LegalHold
from .common import TransitionNotAllowed, audited_save

__all__ = ["hold_district", "legal_hold_lift", "legal_hold_place"]


def hold_district(kind: str, target):
    """The district whose supervisors answer for the record (None for a contact with none)."""
    return getattr(target, "district", None)


@transaction.atomic
def legal_hold_place(*, actor, kind: str, object_id: int, reason: str) -> LegalHold:
    """Put a case, a referral, a child or a helpline contact on hold. A record that does not
    exist and one the actor may not hold get the same answer (nothing is confirmed)."""
    if not permissions.may_place_any_hold(actor):
        raise PermissionDenied(_("Only a supervisor or the data protection officer places holds."))
    errors = {}
    if kind not in LegalHold.Kind.values:
        errors["kind"] = _("Choose a kind of record.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why the record must be kept.")
    target = retention.hold_target(kind, object_id) if "kind" not in errors else None
    if "kind" not in errors and (
        target is None
        or not permissions.may_place_hold(actor, district=hold_district(kind, target))
    ):
        errors["object_id"] = _("There is no such record that you may put on hold.")
    if errors:
        raise ValidationError(errors)
    if retention.holds_in_place(kind).filter(object_id=target.pk).exists():
        raise TransitionNotAllowed(_("This record is already on hold."))
    hold = LegalHold(
        kind=kind,
        object_id=target.pk,
        district=hold_district(kind, target),
        reason=reason,
        placed_by=actor,
        placed_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            audited_save(hold, actor=actor, reason="casework.legal_hold.placed")
    except IntegrityError:  # placed meanwhile by someone else
        raise TransitionNotAllowed(_("This record is already on hold.")) from None
    return hold


@transaction.atomic
def legal_hold_lift(*, actor, hold: LegalHold, reason: str) -> LegalHold:
    """Lift a hold: from now on the record follows its retention again."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if not permissions.may_lift_hold(actor, hold):
        raise PermissionDenied(
            _("Only a supervisor of the district or the data protection officer lifts this hold.")
        )
    if not hold.in_place:
        raise TransitionNotAllowed(_("This hold was already lifted."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the hold is no longer needed.")})
    hold.lifted_by = actor
    hold.lifted_at = timezone.now()
    hold.lift_reason = reason
    audited_save(hold, actor=actor, reason="casework.legal_hold.lifted")
    return hold
