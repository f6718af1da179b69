"""Every state change of the domain. Views, API, flows and tasks call these functions only.

Each service is keyword-only with an explicit actor, runs in one transaction, validates with
full_clean(), and saves with a dotted reason code that django-simple-history records beside
the actor.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import permissions
from .models import (
    Agency,
    Child,
    District,
    Guardian,
    Membership,
    Referral,
    Service,
)

User = AbstractBaseUser


class TransitionNotAllowed(Exception):
    """The change is not allowed in the object's current state (HTTP 409)."""


def audited_save(obj, *, actor: User | None, reason: str, validate: bool = True) -> None:
    """Validate and save `obj`, writing one history row with the actor and the reason code."""
    if validate:
        obj.full_clean()
    obj._history_user = actor
    obj._change_reason = reason
    obj.save()


# --- directory and organisation ----------------------------------------------------------


@transaction.atomic
def membership_create(*, actor: User | None, user, agency: Agency, role: str) -> Membership:
    """Give a user a role in an agency and open the scopes that role works in."""
    membership = Membership.objects.filter(user=user, agency=agency, role=role).first()
    if membership is None:
        membership = Membership(user=user, agency=agency, role=role)
        audited_save(membership, actor=actor, reason="casework.membership.created")
    elif not membership.active:
        membership.active = True
        audited_save(membership, actor=actor, reason="casework.membership.reactivated")
    permissions.membership_grant(membership)
    return membership


@transaction.atomic
def membership_deactivate(*, actor: User | None, membership: Membership) -> Membership:
    if not membership.active:
        raise TransitionNotAllowed(_("This membership is already inactive."))
    membership.active = False
    audited_save(membership, actor=actor, reason="casework.membership.deactivated")
    permissions.membership_revoke(membership)
    return membership


@transaction.atomic
def service_save(*, actor: User | None, service: Service) -> Service:
    reason = "casework.service.updated" if service.pk else "casework.service.created"
    audited_save(service, actor=actor, reason=reason)
    return service


# --- children and referrals --------------------------------------------------------------


@transaction.atomic
def child_create(
    *,
    actor: User,
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
        first_name=first_name,
        last_name=last_name,
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


def _teacher_school(user) -> Agency:
    membership = (
        Membership.objects.filter(
            user=user,
            active=True,
            role__in=[Membership.Role.TEACHER, Membership.Role.SCHOOL_REFERENT],
            agency__kind=Agency.Kind.SCHOOL,
        )
        .select_related("agency")
        .first()
    )
    if membership is None:
        raise PermissionDenied(_("Only teachers and school referents write referrals."))
    return membership.agency


@transaction.atomic
def referral_create_draft(*, actor: User, child: Child, **fields: Any) -> Referral:
    """Start a referral form as a draft; only its author sees it until it is submitted."""
    unknown = set(fields) - set(REFERRAL_FORM_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    school = _teacher_school(actor)
    referral = Referral(
        child=child, referrer=actor, school=school, district=child.district, **fields
    )
    audited_save(referral, actor=actor, reason="casework.referral.drafted")
    return referral


@transaction.atomic
def referral_update_draft(*, actor: User, referral: Referral, **fields: Any) -> Referral:
    """Change the form while it is still a draft of its author."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.referrer_id != actor.pk:
        raise PermissionDenied(_("Only the author changes a draft."))
    if referral.status != Referral.Status.DRAFT:
        raise TransitionNotAllowed(_("Only a draft can be changed."))
    unknown = set(fields) - set(REFERRAL_FORM_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    for name, value in fields.items():
        setattr(referral, name, value)
    referral.updated_at = timezone.now()
    audited_save(referral, actor=actor, reason="casework.referral.draft_updated")
    return referral
