"""The child and the teacher's referral form, while it is a draft only its author sees."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import selectors
from ..models import Agency, Child, District, Guardian, Membership, Referral
from .common import TransitionNotAllowed, audit_as, audited_save
from .referrals import lock_referral, require_status

__all__ = [
    "REFERRAL_FORM_FIELDS",
    "CHILD_FIELDS",
    "child_create",
    "child_update_draft",
    "referral_create_draft",
    "referral_create_with_child",
    "referral_delete_draft",
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
    if referral.deleted_at is not None:
        raise TransitionNotAllowed(_("This draft is already deleted."))
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


def _check_form_fields(fields: dict, protocol) -> None:
    unknown = set(fields) - set(REFERRAL_FORM_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    # The municipality's protocol may offer fewer areas of concern than the standard list: the
    # form offers only those, and whatever else sends the form (the API) is held to the same.
    chosen = selectors.protocol_categories(protocol)
    if chosen is not None and fields.get("concern_categories"):
        offered = {code for code, _label in chosen[0]}
        other = [code for code in fields["concern_categories"] if code not in offered]
        if other:
            raise ValidationError(
                {
                    "concern_categories": _(
                        "Not an area of concern of this municipality's protocol: %(codes)s. "
                        "Choose among: %(offered)s."
                    )
                    % {"codes": ", ".join(other), "offered": ", ".join(sorted(offered))}
                }
            )


@transaction.atomic
def referral_create_draft(
    *, actor, child: Child, idempotency_key: str = "", **fields: Any
) -> Referral:
    """Start a referral form as a draft; only its author sees it until it is submitted."""
    # The referral starts under the protocol in force in the child's district, and keeps it.
    protocol = selectors.protocol_for(child.district)
    _check_form_fields(fields, protocol)
    school = referrer_school(actor)
    referral = Referral(
        child=child,
        referrer=actor,
        school=school,
        district=child.district,
        protocol_version=protocol if protocol.pk else None,
        idempotency_key=idempotency_key,
        **fields,
    )
    audited_save(referral, actor=actor, reason="casework.referral.drafted")
    return referral


def _by_key(actor, key: str) -> Referral | None:
    if not key:
        return None
    return Referral.objects.filter(referrer=actor, idempotency_key=key).first()


def referral_create_with_child(
    *, actor, child: dict[str, Any], idempotency_key: str = "", **fields: Any
) -> tuple[Referral, bool]:
    """A new referral with its child, from the web form or the API: (referral, created).

    The same key from the same author gives back the referral the first request made, even if
    the two requests race (the unique constraint decides; the loser reads the winner's row):
    Back and "Send" again, or a retried POST, never make a second referral. A key is the
    author's own: someone else's key is just another key."""
    if len(idempotency_key) > 64:
        raise ValidationError({"idempotency_key": _("The key is longer than 64 characters.")})
    existing = _by_key(actor, idempotency_key)
    if existing is not None:
        return existing, False
    school = referrer_school(actor)
    try:
        with transaction.atomic():
            # The child as typed, always a new record (matching is the triage team's work).
            found = child_create(
                actor=actor, school=school, **{"district": school.district, **child}
            )
            referral = referral_create_draft(
                actor=actor, child=found, idempotency_key=idempotency_key, **fields
            )
    except (IntegrityError, ValidationError):
        # A request with the same key won the race (the unique constraint, or full_clean's
        # check of it, refused this one); any other refusal goes up as it is.
        existing = _by_key(actor, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return referral, True


@transaction.atomic
def referral_delete_draft(*, actor, referral: Referral) -> Referral:
    """The author throws a draft away. It is kept, with its history and the reason, but it
    leaves every list, page and API answer; a referral already sent is never deleted."""
    referral = lock_referral(referral)
    if referral.referrer_id != actor.pk:
        raise PermissionDenied(_("Only the author deletes a draft."))
    require_status(referral, Status.DRAFT)
    if referral.deleted_at is not None:
        raise TransitionNotAllowed(_("This draft is already deleted."))
    referral.deleted_at = timezone.now()
    audited_save(referral, actor=actor, reason="casework.referral.draft_deleted")
    return referral


@transaction.atomic
def referral_update_draft(*, actor, referral: Referral, **fields: Any) -> Referral:
    """Change the form while it is still a draft of its author."""
    referral = lock_referral(referral)
    if referral.referrer_id != actor.pk:
        raise PermissionDenied(_("Only the author changes a draft."))
    require_status(referral, Status.DRAFT)
    if referral.deleted_at is not None:
        raise TransitionNotAllowed(_("This draft is already deleted."))
    _check_form_fields(fields, selectors.protocol_for(referral))
    for name, value in fields.items():
        setattr(referral, name, value)
    audited_save(referral, actor=actor, reason="casework.referral.draft_updated")
    return referral
