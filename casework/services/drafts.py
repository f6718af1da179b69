"""The child and the teacher's referral form, while it is a draft only its author sees."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Agency, Child, District, Guardian, Membership, Referral
from .common import audit_as, audited_save
from .referrals import lock_referral, require_status

__all__ = [
    "REFERRAL_FORM_FIELDS",
    "CHILD_FIELDS",
    "child_create",
    "child_update_draft",
    "referral_create_draft",
    "referral_update_draft",
    "referrer_school",
]

Status = Referral.Status

REFERRAL_FORM_FIELDS = (
    "concern_categories",
    "indicators",
    "observations",
    "urgency",
    "school_actions",
    "family_informed",
    "family_response",
    "interpreter_needed",
    "interpreter_language",
)


# --- children -----------------------------------------------------------------------------


@transaction.atomic
def child_create(
    *,
    actor,
    first_name: str,
    last_name: str,
    date_of_birth,
    district: District,
    school: Agency | None = None,
    school_class: str = "",
    tax_code: str = "",
    home_languages: str = "",
    guardians: list[dict[str, str]] | None = None,
) -> Child:
    """Record a child; guardians come as dicts of name, relationship, phone, email."""
    child = Child(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        district=district,
        school=school,
        school_class=school_class,
        tax_code=tax_code.strip().upper(),
        home_languages=home_languages,
    )
    audited_save(child, actor=actor, reason="casework.child.created")
    for data in guardians or []:
        guardian = Guardian(child=child, **data)
        audited_save(guardian, actor=actor, reason="casework.guardian.created")
    return child


CHILD_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "tax_code",
    "school_class",
    "home_languages",
)


@transaction.atomic
def child_update_draft(
    *, actor, referral: Referral, guardians: list[dict[str, str]] | None = None, **fields: Any
) -> Child:
    """Correct the child as typed while the referral is its author's draft. The record is the
    referral's own (a referrer never reaches a child recorded by others); `guardians`, when
    given, replaces the list."""
    referral = lock_referral(referral)
    if referral.referrer_id != actor.pk:
        raise PermissionDenied(_("Only the author changes a draft."))
    require_status(referral, Status.DRAFT)
    unknown = set(fields) - set(CHILD_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    child = Child.objects.select_for_update().get(pk=referral.child_id)
    shared = child.referrals.exclude(pk=referral.pk).exists()
    if child.identity != Child.Identity.AS_TYPED or shared:
        # Only the draft's own record is corrected here; never a child known to the service.
        raise PermissionDenied(_("Only the author changes a draft."))
    for name, value in fields.items():
        if name in ("first_name", "last_name", "tax_code"):
            value = value.strip()
        setattr(child, name, value.upper() if name == "tax_code" else value)
    audited_save(child, actor=actor, reason="casework.child.corrected")
    if guardians is not None:
        for old in child.guardians.all():
            audit_as(old, actor=actor, reason="casework.guardian.removed")
            old.delete()
        for data in guardians:
            audited_save(
                Guardian(child=child, **data), actor=actor, reason="casework.guardian.created"
            )
    return child


# --- the teacher's draft ------------------------------------------------------------------


def referrer_school(user) -> Agency:
    membership = (
        Membership.objects.filter(
            user=user,
            active=True,
            role__in=[Membership.Role.TEACHER, Membership.Role.SCHOOL_REFERENT],
            agency__kind=Agency.Kind.SCHOOL,
        )
        .select_related("agency__district")
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise PermissionDenied(_("Only teachers and school referents write referrals."))
    return membership.agency


def _check_form_fields(fields: dict) -> None:
    unknown = set(fields) - set(REFERRAL_FORM_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})


@transaction.atomic
def referral_create_draft(*, actor, child: Child, **fields: Any) -> Referral:
    """Start a referral form as a draft; only its author sees it until it is submitted."""
    _check_form_fields(fields)
    school = referrer_school(actor)
    referral = Referral(
        child=child, referrer=actor, school=school, district=child.district, **fields
    )
    audited_save(referral, actor=actor, reason="casework.referral.drafted")
    return referral


@transaction.atomic
def referral_update_draft(*, actor, referral: Referral, **fields: Any) -> Referral:
    """Change the form while it is still a draft of its author."""
    referral = lock_referral(referral)
    if referral.referrer_id != actor.pk:
        raise PermissionDenied(_("Only the author changes a draft."))
    require_status(referral, Status.DRAFT)
    _check_form_fields(fields)
    for name, value in fields.items():
        setattr(referral, name, value)
    audited_save(referral, actor=actor, reason="casework.referral.draft_updated")
    return referral
