"""The case: its team, plan and actions, periodic reviews and the approved closure."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions, selectors
from ..models import (
    Action,
    Agency,
    Case,
    CaseTeamMember,
    Membership,
    Note,
    Notification,
    Review,
    RiskLevel,
)
from ..outbox import notify
from .common import TransitionNotAllowed, audited_save, flow_owned
from .consent import sharing_check, sharing_record
from .referrals import members_of, review_interval

CaseStatus = Case.Status


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _require_open(case: Case) -> None:
    if case.status != CaseStatus.OPEN:
        raise TransitionNotAllowed(
            _("Not allowed while the case is “%(status)s”.") % {"status": case.get_status_display()}
        )


def _require(allowed: bool, message) -> None:
    if not allowed:
        raise PermissionDenied(message)


def require_team(user, case: Case) -> None:
    _require(permissions.can_work_case(user, case), _("Only the case team works on the case."))


def _months_later(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=last)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def team_access_limit(today: datetime.date | None = None, *, case=None) -> datetime.date:
    """The latest end date of a professional's access to a case (the case's protocol)."""
    today = today or timezone.localdate()
    return _months_later(today, selectors.protocol_for(case).team_access_months)


def _check_end_date(valid_until: datetime.date | None, errors: dict, case=None) -> datetime.date:
    today = timezone.localdate()
    limit = team_access_limit(today, case=case)
    if valid_until is None:
        return limit
    if valid_until < today:
        errors["valid_until"] = _("The end date is in the past.")
    elif valid_until > limit:
        errors["valid_until"] = _(
            "Access is given for %(months)s months at most (until %(date)s)."
        ) % {
            "months": selectors.protocol_for(case).team_access_months,
            "date": limit,
        }
    return valid_until


@transaction.atomic
def case_add_member(
    *,
    actor,
    case: Case,
    user,
    agency: Agency,
    role: str,
    reason: str,
    valid_until: datetime.date | None = None,
    legal_basis: str = "",
    basis_explanation: str = "",
) -> CaseTeamMember:
    """The lead worker (or the supervisor) brings a professional of an agency of the case's
    district on the case, for a purpose (the reason) and for a limited time (by default the
    protocol's team access period; renewable). A professional from another district joins
    only by the district supervisor's decision.

    A professional of an agency not yet on the team means sharing the file outside the team:
    it needs the family's consent in force for that agency (`legal_basis` "consent", the
    default) or another legal basis with its explanation; the sharing is recorded with its
    basis (services.consent)."""
    case = _lock(case)
    _require(
        permissions.can_lead_case(actor, case),
        _("Only the lead worker or the supervisor changes the team."),
    )
    _require_open(case)
    errors = {}
    if not Membership.objects.filter(user=user, agency=agency, active=True).exists():
        errors["agency"] = _("This person does not work for that agency.")
    elif agency.district_id != case.district_id and not permissions.is_supervisor(actor, case):
        errors["agency"] = _(
            "This agency works in another district: only the district supervisor brings in "
            "a professional from another district, with the reason."
        )
    if case.team.filter(user=user, removed_at__isnull=True).exists():
        errors["user"] = _("This person is already on the team.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why this professional needs access to the case.")
    valid_until = _check_end_date(valid_until, errors, case)
    basis = sharing_check(
        case=case,
        agency=agency,
        legal_basis=legal_basis,
        basis_explanation=basis_explanation,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    member = CaseTeamMember(
        case=case,
        user=user,
        agency=agency,
        role=role,
        reason=reason.strip(),
        valid_until=valid_until,
        added_by=actor,
    )
    audited_save(member, actor=actor, reason="casework.case_team.member_added")
    if basis is not None:
        sharing_record(
            actor=actor,
            case=case,
            agency=agency,
            member=member,
            basis=basis,
            explanation=basis_explanation,
        )
    permissions.case_grant_team(case=case, user=user)
    notify(recipients=[user], kind=Notification.Kind.CASE_ASSIGNED, case=case)
    return member


@transaction.atomic
def case_member_renew(
    *, actor, member: CaseTeamMember, reason: str, valid_until: datetime.date | None = None
) -> CaseTeamMember:
    """The lead worker (or the supervisor) extends a professional's access, saying why."""
    case = _lock(member.case)
    member = CaseTeamMember.objects.select_for_update().get(pk=member.pk)
    _require(
        permissions.can_lead_case(actor, case),
        _("Only the lead worker or the supervisor changes the team."),
    )
    _require_open(case)
    if member.removed_at is not None:
        raise TransitionNotAllowed(_("This person has already left the team."))
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = _("Say why the access is extended.")
    valid_until = _check_end_date(valid_until, errors, case)
    if errors:
        raise ValidationError(errors)
    member.valid_until = valid_until
    member.reason = reason.strip()
    audited_save(member, actor=actor, reason="casework.case_team.access_renewed")
    permissions.case_grant_team(case=case, user=member.user)
    return member


def case_team_expire(*, now: datetime.datetime | None = None) -> int:
    """The sweep after access ends: remove the case-team grants of professionals whose end
    date has passed (the checks already refuse them; this leaves no grant behind)."""
    today = timezone.localdate(now) if now else timezone.localdate()
    expired = CaseTeamMember.objects.filter(removed_at__isnull=True, valid_until__lt=today)
    revoked = 0
    for member in expired.select_related("case", "user"):
        still_valid = (
            CaseTeamMember.objects.filter(
                case=member.case, user=member.user, removed_at__isnull=True
            )
            .exclude(valid_until__lt=today)
            .exists()
        )
        if (
            not still_valid
            and member.user.groups.filter(
                name=permissions.case_team_group(member.case).name
            ).exists()
        ):
            permissions.case_revoke_team(case=member.case, user=member.user)
            revoked += 1
    return revoked


@transaction.atomic
def case_remove_member(*, actor, member: CaseTeamMember) -> CaseTeamMember:
    case = _lock(member.case)
    _require(
        permissions.can_lead_case(actor, case),
        _("Only the lead worker or the supervisor changes the team."),
    )
    if member.role == CaseTeamMember.CaseRole.LEAD:
        raise TransitionNotAllowed(_("The lead worker cannot be removed from the team."))
    if member.removed_at is not None:
        raise TransitionNotAllowed(_("This person has already left the team."))
    member.removed_at = timezone.now()
    audited_save(member, actor=actor, reason="casework.case_team.member_removed")
    permissions.case_revoke_team(case=case, user=member.user)
    return member


@flow_owned
@transaction.atomic
def case_update_plan(*, actor, case: Case, objectives: str) -> Case:
    """The lead worker writes (or rewrites) the objectives of the plan."""
    case = _lock(case)
    _require(
        permissions.can_lead_case(actor, case),
        _("Only the lead worker or the supervisor writes the plan."),
    )
    _require_open(case)
    if not objectives.strip():
        raise ValidationError({"objectives": _("Write the objectives of the plan.")})
    plan = case.plan
    plan.objectives = objectives
    audited_save(plan, actor=actor, reason="casework.case_plan.updated")
    return case


@transaction.atomic
def case_add_action(
    *,
    actor,
    case: Case,
    objective: str,
    owning_agency: Agency,
    owner=None,
    due_date: datetime.date | None = None,
) -> Action:
    """Add an action of the plan, owned by an agency (and a person of it, where known)."""
    case = _lock(case)
    require_team(actor, case)
    _require_open(case)
    if (
        owner is not None
        and not Membership.objects.filter(user=owner, agency=owning_agency, active=True).exists()
    ):
        raise ValidationError({"owner": _("The owner must work for the owning agency.")})
    action = Action(
        plan=case.plan,
        objective=objective,
        owning_agency=owning_agency,
        owner=owner,
        due_date=due_date,
    )
    audited_save(action, actor=actor, reason="casework.action.added")
    return action


@transaction.atomic
def action_update(
    *, actor, action: Action, status: str | None = None, progress_note: str = ""
) -> Action:
    case = _lock(action.plan.case)
    require_team(actor, case)
    _require_open(case)
    if status is not None:
        if status not in Action.Status.values:
            raise ValidationError({"status": _("Unknown status.")})
        action.status = status
    if progress_note.strip():
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        action.progress_notes = (action.progress_notes + f"\n{stamp}: {progress_note}").strip()
    audited_save(action, actor=actor, reason="casework.action.updated")
    return action


@transaction.atomic
def case_add_note(*, actor, case: Case, body: str) -> Note:
    """A chronology entry on the case, written by its team (or the district's supervisor)
    while the case is open; kept as written, with its history row."""
    case = _lock(case)
    require_team(actor, case)
    _require_open(case)
    if not body.strip():
        raise ValidationError({"body": _("Write the note.")})
    note = Note(case=case, author=actor, body=body)
    audited_save(note, actor=actor, reason="casework.note.added")
    return note


@flow_owned
@transaction.atomic
def case_record_review(
    *,
    actor,
    case: Case,
    held_on: datetime.datetime | None = None,
    attendees: str = "",
    progress: dict | None = None,
    risk_level: str,
    decision: str,
    notes: str = "",
    next_review_at: datetime.datetime | None = None,
    kind: str = Review.Kind.PERIODIC,
    reason: str = "",
) -> Review:
    """Record a review meeting: progress per action, the risk re-assessed, and the decision —
    continue, update the plan, or propose closure (which the supervisor approves).

    A periodic review sets the next one by the risk (the default rhythm) unless the team
    names a date. An extraordinary review (`kind="extraordinary"`, with the `reason` the team
    met for) keeps the periodic date that was set, unless it had already come (then it
    counts as the periodic review too) or the team names another."""
    case = _lock(case)
    require_team(actor, case)
    _require_open(case)
    errors = {}
    extraordinary = kind == Review.Kind.EXTRAORDINARY
    if kind not in Review.Kind.values:
        errors["kind"] = _("Unknown kind of review.")
    if extraordinary and not (reason or "").strip():
        errors["reason"] = _("Say what happened that the team meets before the periodic review.")
    if risk_level not in RiskLevel.values:
        errors["risk_level"] = _("Choose a risk level.")
    if decision not in Review.Decision.values:
        errors["decision"] = _("Choose a decision.")
    progress = progress or {}
    action_ids = {str(pk) for pk in case.plan.actions.values_list("pk", flat=True)}
    unknown = {str(k) for k in progress} - action_ids
    if unknown:
        errors["progress"] = _("These actions are not in the plan: %(ids)s") % {
            "ids": ", ".join(sorted(unknown))
        }
    now = timezone.now()
    if next_review_at is not None and next_review_at <= now:
        errors["next_review_at"] = _("The next review must be in the future.")
    if errors:
        raise ValidationError(errors)
    if decision == Review.Decision.CLOSE:
        next_review_at = None
    elif next_review_at is None:
        still_ahead = case.next_review_at is not None and case.next_review_at > now
        if extraordinary and still_ahead:
            next_review_at = case.next_review_at
        else:
            next_review_at = now + review_interval(
                risk_level, protocol=selectors.protocol_for(case)
            )
    review = Review(
        case=case,
        kind=kind,
        reason=(reason or "").strip() if extraordinary else "",
        scheduled_for=now if extraordinary else (case.next_review_at or now),
        held_on=held_on or now,
        attendees=attendees,
        progress={str(k): v for k, v in progress.items()},
        risk_level=risk_level,
        decision=decision,
        notes=notes,
        next_review_at=next_review_at,
        recorded_by=actor,
    )
    review_reason = "extraordinary_recorded" if extraordinary else "recorded"
    audited_save(review, actor=actor, reason=f"casework.review.{review_reason}")
    case.risk_level = risk_level
    case.next_review_at = next_review_at
    if decision == Review.Decision.CLOSE:
        case.status = CaseStatus.CLOSURE_REQUESTED
        case.closure_reason = notes
        case.closure_requested_by = actor
        audited_save(case, actor=actor, reason="casework.case.closure_requested")
        notify(
            recipients=members_of(permissions.district_supervisors_group(case.district)),
            kind=Notification.Kind.CLOSURE_REQUESTED,
            case=case,
        )
    else:
        case_reason = "extraordinary_review" if extraordinary else "reviewed"
        audited_save(case, actor=actor, reason=f"casework.case.{case_reason}")
    return review


@flow_owned
@transaction.atomic
def case_bring_review_forward(*, actor, case: Case, review_on: datetime.date) -> Case:
    """The lead worker moves the next periodic review to an earlier day (today makes it due
    at once). The rhythm set by the risk level is only the default: the team meets sooner
    when the case needs it. Moving it later is a review's decision, not this."""
    case = _lock(case)
    _require(
        permissions.can_bring_review_forward(actor, case),
        _("Only the lead worker or the supervisor brings the review forward."),
    )
    _require_open(case)
    today = timezone.localdate()
    current = timezone.localdate(case.next_review_at) if case.next_review_at else None
    if review_on < today:
        raise ValidationError({"review_on": _("The day is in the past.")})
    if current is not None and review_on >= current:
        raise ValidationError(
            {
                "review_on": _("Choose a day before the review already set (%(date)s).")
                % {"date": current.isoformat()}
            }
        )
    if review_on == today:
        case.next_review_at = timezone.now()
    else:
        zone = timezone.get_current_timezone()
        case.next_review_at = datetime.datetime.combine(review_on, datetime.time(9), zone)
    audited_save(case, actor=actor, reason="casework.case.review_brought_forward")
    return case


@flow_owned
@transaction.atomic
def case_decide_closure(*, actor, case: Case, approve: bool, reason: str = "") -> Case:
    """The district supervisor approves the proposed closure, or sends the case back."""
    case = _lock(case)
    _require(
        permissions.can_decide_closure(actor, case),
        _("Only the district supervisor approves a closure."),
    )
    if case.status != CaseStatus.CLOSURE_REQUESTED:
        raise TransitionNotAllowed(_("No closure has been proposed for this case."))
    if approve:
        case.status = CaseStatus.CLOSED
        case.closed_at = timezone.now()
        case.closure_approved_by = actor
        audited_save(case, actor=actor, reason="casework.case.closed")
        # The school learns that the social service has concluded its involvement — in the
        # protocol's wording, and nothing of the file (no reason, no outcome of the work).
        wording = selectors.protocol_for(case).closure_message
        for referral in case.referrals.select_related("referrer"):
            referral.concluded_at = case.closed_at
            referral.closing_feedback = wording
            audited_save(referral, actor=actor, reason="casework.referral.involvement_concluded")
            notify(
                recipients=[referral.referrer],
                kind=Notification.Kind.CASE_CLOSED,
                referral=referral,
                dedup=f"case-closed:{case.pk}:{referral.pk}",
            )
        return case
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case stays open.")})
    case.status = CaseStatus.OPEN
    case.closure_reason = ""
    case.next_review_at = timezone.now() + review_interval(
        case.risk_level, protocol=selectors.protocol_for(case)
    )
    audited_save(case, actor=actor, reason="casework.case.closure_rejected")
    notify(recipients=[case.lead_worker], kind=Notification.Kind.REVIEW_DUE, case=case)
    return case


ALLOWED_ATTACHMENT_TYPES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "text/plain": ".txt",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


@transaction.atomic
def attachment_add(*, actor, upload, title: str, case: Case | None = None, referral=None):
    """Attach a document to a case (its team) or to a draft referral (its author). The stored
    file name is a random token: the uploaded name may carry the child's name."""
    import secrets

    from django.conf import settings

    from .. import uploads
    from ..models import Attachment, Referral

    if (case is None) == (referral is None):
        raise ValueError("attach to a case or to a referral")
    if case is not None:
        case = _lock(case)
        require_team(actor, case)
        _require_open(case)
    else:
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.referrer_id != actor.pk:
            raise PermissionDenied(_("Only the author adds documents to a referral."))
        if referral.status != referral.Status.DRAFT:
            raise TransitionNotAllowed(_("Documents are added while the referral is a draft."))
    errors = {}
    content_type = None
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        errors["file"] = _("The file is larger than %(mb)s MB.") % {
            "mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        }
    else:
        # The type is read from the file's bytes; what the browser declares is not trusted.
        content_type = uploads.content_type(upload)
        if content_type not in ALLOWED_ATTACHMENT_TYPES:
            errors["file"] = _(
                "Attach a PDF, an image (JPEG, PNG), a text or a word-processor file."
            )
    if not title.strip():
        errors["title"] = _("Give the document a title.")
    if errors:
        raise ValidationError(errors)
    attachment = Attachment(
        case=case,
        referral=referral,
        token=secrets.token_urlsafe(32),
        title=title.strip(),
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )
    attachment.file.save(attachment.token, upload, save=False)
    audited_save(attachment, actor=actor, reason="casework.attachment.added")
    return attachment
