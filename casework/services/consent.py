"""Family information and consent on a case; the data subject's requests (access,
rectification) that the data protection officer answers.

Each service is keyword-only with an explicit actor, runs in one transaction, validates
everything before writing anything, and saves with a reason code (casework.audit).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions, selectors
from ..models import (
    RECTIFIABLE,
    Agency,
    Case,
    CaseTeamMember,
    Child,
    Consent,
    ConsentPurpose,
    FamilyInformation,
    Guardian,
    HowObtained,
    LegalBasis,
    Objection,
    RectificationRequest,
    Sharing,
    SubjectAccessRequest,
)
from .common import TransitionNotAllowed, audited_save

__all__ = [
    "case_record_family_information",
    "consent_record",
    "consent_withdraw",
    "objection_record",
    "objection_handle",
    "sharing_check",
    "sharing_record",
    "subject_access_record",
    "rectification_request_record",
    "rectification_decide",
]


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _require(allowed: bool, message) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _require_not_closed(case: Case) -> None:
    # A closed case's file is kept as it was; what the family says after is a new referral.
    if case.status == Case.Status.CLOSED:
        raise TransitionNotAllowed(_("The case is closed: its file is kept as it was."))


def _text(value) -> str:
    return (value or "").strip()


def _not_future(day, field: str, errors: dict) -> None:
    if day is None:
        errors[field] = _("Give the date.")
    elif day > timezone.localdate():
        errors[field] = _("The date is in the future.")


def _require_family_writer(actor, case: Case) -> None:
    _require(
        permissions.records_family_records(actor, case),
        _("Only the case team records what the family was told and agreed to."),
    )


@transaction.atomic
def case_record_family_information(
    *,
    actor,
    case: Case,
    informed_on: datetime.date,
    informed_whom: str,
    what: str,
    channel: str,
    language: str,
    interpreter: bool = False,
    informed_by=None,
) -> FamilyInformation:
    """Record one time the family was informed: what they were told, by whom (the actor by
    default; else a member of the team), how, in which language, with an interpreter or not."""
    case = _lock(case)
    _require_family_writer(actor, case)
    _require_not_closed(case)
    informed_by = informed_by or actor
    errors: dict = {}
    _not_future(informed_on, "informed_on", errors)
    if informed_by != actor and not permissions.can_work_case(informed_by, case):
        errors["informed_by"] = _("Name a professional who works on the case.")
    if not _text(informed_whom):
        errors["informed_whom"] = _("Say who in the family was informed.")
    if not _text(what):
        errors["what"] = _("Say what the family was told.")
    if channel not in FamilyInformation.Channel.values:
        errors["channel"] = _("Choose how the family was informed.")
    if not _text(language):
        errors["language"] = _("Say in which language.")
    if errors:
        raise ValidationError(errors)
    record = FamilyInformation(
        case=case,
        informed_on=informed_on,
        informed_by=informed_by,
        informed_whom=_text(informed_whom),
        what=_text(what),
        channel=channel,
        language=_text(language),
        interpreter=bool(interpreter),
        recorded_by=actor,
    )
    audited_save(record, actor=actor, reason="casework.family_information.recorded")
    return record


def _check_consent_agency(purpose: str, agency: Agency | None, errors: dict) -> None:
    if purpose == ConsentPurpose.SHARE_AGENCY and agency is None:
        errors["agency"] = _("Name the agency the family agrees to share the file with.")
    elif purpose == ConsentPurpose.SCHOOL_HANDOVER and (
        agency is None or agency.kind != Agency.Kind.SCHOOL
    ):
        errors["agency"] = _("Name the school of the hand-over.")
    elif purpose == ConsentPurpose.MAILING and agency is not None:
        errors["agency"] = _("A consent to mailings names no agency.")


@transaction.atomic
def consent_record(
    *,
    actor,
    case: Case,
    purpose: str,
    given_by: str,
    given_on: datetime.date,
    how_obtained: str,
    agency: Agency | None = None,
) -> Consent:
    """Record a consent the family gave: for what (sharing with a named agency, a hand-over
    to a school, mailings), who gave it, when and how it was obtained."""
    case = _lock(case)
    _require_family_writer(actor, case)
    _require_not_closed(case)
    errors: dict = {}
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = _("Choose what the consent is for.")
    else:
        _check_consent_agency(purpose, agency, errors)
    if not _text(given_by):
        errors["given_by"] = _("Say who in the family gave the consent.")
    _not_future(given_on, "given_on", errors)
    if how_obtained not in HowObtained.values:
        errors["how_obtained"] = _("Choose how the consent was obtained.")
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        case=case,
        purpose=purpose,
        agency=agency,
        given_by=_text(given_by),
        given_on=given_on,
        how_obtained=how_obtained,
        recorded_by=actor,
    )
    audited_save(consent, actor=actor, reason="casework.consent.given")
    return consent


@transaction.atomic
def consent_withdraw(
    *,
    actor,
    consent: Consent,
    withdrawn_on: datetime.date,
    withdrawn_how: str,
    note: str = "",
) -> Consent:
    """The family withdraws a consent: from that day the purpose no longer rests on it (what
    was shared before stays lawful; the team decides what follows, e.g. ending a member's
    access). A consent is withdrawn once."""
    case = _lock(consent.case)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    _require_family_writer(actor, case)
    if consent.withdrawn_on is not None:
        raise TransitionNotAllowed(_("This consent has already been withdrawn."))
    errors: dict = {}
    _not_future(withdrawn_on, "withdrawn_on", errors)
    if withdrawn_on is not None and withdrawn_on < consent.given_on:
        errors["withdrawn_on"] = _("The consent was given after that day.")
    if withdrawn_how not in HowObtained.values:
        errors["withdrawn_how"] = _("Choose how the family withdrew the consent.")
    if errors:
        raise ValidationError(errors)
    consent.withdrawn_on = withdrawn_on
    consent.withdrawn_how = withdrawn_how
    consent.withdrawal_note = _text(note)
    consent.withdrawal_recorded_by = actor
    audited_save(consent, actor=actor, reason="casework.consent.withdrawn")
    return consent


@transaction.atomic
def objection_record(
    *, actor, case: Case, raised_on: datetime.date, raised_by: str, about: str
) -> Objection:
    """The family objects to something the service does with their data (GDPR art. 21)."""
    case = _lock(case)
    _require_family_writer(actor, case)
    _require_not_closed(case)
    errors: dict = {}
    _not_future(raised_on, "raised_on", errors)
    if not _text(raised_by):
        errors["raised_by"] = _("Say who in the family objects.")
    if not _text(about):
        errors["about"] = _("Say what the family objects to.")
    if errors:
        raise ValidationError(errors)
    objection = Objection(
        case=case,
        raised_on=raised_on,
        raised_by=_text(raised_by),
        about=_text(about),
        recorded_by=actor,
    )
    audited_save(objection, actor=actor, reason="casework.objection.raised")
    return objection


@transaction.atomic
def objection_handle(*, actor, objection: Objection, outcome: str, reason: str) -> Objection:
    """The lead worker or the supervisor decides an objection, always with the reason (the
    family is told it; the DPO reads it). Decided once."""
    case = _lock(objection.case)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    _require(
        permissions.handles_objection(actor, case),
        _("Only the lead worker or the supervisor decides an objection."),
    )
    if objection.outcome != Objection.Outcome.PENDING:
        raise TransitionNotAllowed(_("This objection has already been decided."))
    errors: dict = {}
    if outcome not in Objection.Outcome.values or outcome == Objection.Outcome.PENDING:
        errors["outcome"] = _("Choose the outcome.")
    if not _text(reason):
        errors["reason"] = _("Give the reason for the outcome.")
    if errors:
        raise ValidationError(errors)
    objection.outcome = outcome
    objection.outcome_reason = _text(reason)
    objection.handled_by = actor
    objection.handled_at = timezone.now()
    audited_save(objection, actor=actor, reason="casework.objection.handled")
    return objection


# --- sharing outside the team -------------------------------------------------------------------


def sharing_check(
    *, case: Case, agency: Agency, legal_basis: str, basis_explanation: str, errors: dict
) -> tuple[str, Consent | None] | None:
    """Before a professional of `agency` joins the case: None when the agency is already on
    the team (nothing new is shared); else the basis of the sharing — the family's consent in
    force for this agency (the default), or another legal basis with its explanation. A
    missing basis is a field error in `errors` (nothing is written)."""
    on_team = CaseTeamMember.objects.filter(
        case=case, agency=agency, removed_at__isnull=True
    ).exists()
    if on_team:
        return None
    legal_basis = legal_basis or LegalBasis.CONSENT
    if legal_basis not in LegalBasis.values:
        errors["legal_basis"] = _("Choose the legal basis of the sharing.")
        return None
    if legal_basis == LegalBasis.CONSENT:
        consent = selectors.consent_in_force(case, ConsentPurpose.SHARE_AGENCY, agency)
        if consent is None:
            errors["legal_basis"] = _(
                "The family has not consented to sharing the file with %(agency)s: record "
                "their consent first, or choose the legal basis that allows it and explain it."
            ) % {"agency": agency}
        return legal_basis, consent
    if not _text(basis_explanation):
        errors["basis_explanation"] = _(
            "Explain why the file is shared without the family's consent (the law, the "
            "decision, the danger)."
        )
    return legal_basis, None


def sharing_record(
    *, actor, case: Case, agency: Agency, member: CaseTeamMember, basis: tuple, explanation: str
) -> Sharing:
    """Called by case_add_member, in its transaction, after sharing_check said yes."""
    legal_basis, consent = basis
    sharing = Sharing(
        case=case,
        agency=agency,
        member=member,
        basis=legal_basis,
        consent=consent,
        explanation="" if consent is not None else _text(explanation),
        recorded_by=actor,
    )
    audited_save(sharing, actor=actor, reason="casework.sharing.recorded")
    return sharing


# --- the data subject's requests (the DPO) ------------------------------------------------------


def _require_dpo(actor) -> None:
    _require(
        permissions.is_data_protection_officer(actor),
        _("Only the data protection officer answers the requests of data subjects."),
    )


def _check_subject(child: Child, guardian: Guardian | None, errors: dict) -> None:
    if guardian is not None and guardian.child_id != child.pk:
        errors["guardian"] = _("This parent or guardian is not recorded for the child.")


@transaction.atomic
def subject_access_record(
    *,
    actor,
    child: Child,
    requested_by: str,
    received_on: datetime.date,
    guardian: Guardian | None = None,
    note: str = "",
) -> SubjectAccessRequest:
    """The DPO records a subject access request about a child (or one of their guardians);
    the export itself is produced from it (casework.privacy), each time logged as a read."""
    _require_dpo(actor)
    errors: dict = {}
    _check_subject(child, guardian, errors)
    if not _text(requested_by):
        errors["requested_by"] = _("Say who made the request.")
    _not_future(received_on, "received_on", errors)
    if errors:
        raise ValidationError(errors)
    request = SubjectAccessRequest(
        child=child,
        guardian=guardian,
        requested_by=_text(requested_by),
        received_on=received_on,
        note=_text(note),
        recorded_by=actor,
    )
    audited_save(request, actor=actor, reason="casework.subject_access.recorded")
    return request


def _rectifiable_target(child: Child, guardian: Guardian | None):
    return ("guardian", guardian) if guardian is not None else ("child", child)


@transaction.atomic
def rectification_request_record(
    *,
    actor,
    child: Child,
    field: str,
    requested_value: str,
    requested_by: str,
    received_on: datetime.date,
    guardian: Guardian | None = None,
    explanation: str = "",
) -> RectificationRequest:
    """The DPO records that a person asks for a correction of their data."""
    _require_dpo(actor)
    errors: dict = {}
    _check_subject(child, guardian, errors)
    kind, _target = _rectifiable_target(child, guardian)
    if field not in RECTIFIABLE[kind]:
        errors["field"] = _("This cannot be corrected by a rectification request.")
    if not _text(requested_value):
        errors["requested_value"] = _("Give the correct value.")
    if not _text(requested_by):
        errors["requested_by"] = _("Say who made the request.")
    _not_future(received_on, "received_on", errors)
    if errors:
        raise ValidationError(errors)
    request = RectificationRequest(
        child=child,
        guardian=guardian,
        field=field,
        requested_value=_text(requested_value),
        requested_by=_text(requested_by),
        received_on=received_on,
        explanation=_text(explanation),
        recorded_by=actor,
    )
    audited_save(request, actor=actor, reason="casework.rectification.requested")
    return request


@transaction.atomic
def rectification_decide(
    *, actor, request: RectificationRequest, accept: bool, reason: str = ""
) -> RectificationRequest:
    """Accepted: the record is corrected (its history row says "corrected on the person's
    request", by whom) and the request closed. Refused: the reason is required (the person is
    told it, and may complain to the supervisory authority). Decided once."""
    _require_dpo(actor)
    request = RectificationRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RectificationRequest.Status.PENDING:
        raise TransitionNotAllowed(_("This request has already been decided."))
    if not accept and not _text(reason):
        raise ValidationError({"reason": _("Give the reason for refusing.")})
    if accept:
        kind, target = _rectifiable_target(request.child, request.guardian)
        model = type(target)
        target = model.objects.select_for_update().get(pk=target.pk)
        field = model._meta.get_field(request.field)
        try:
            value = field.to_python(request.requested_value)
        except ValidationError as error:
            raise ValidationError({"requested_value": error.messages}) from error
        setattr(target, request.field, value)
        try:
            audited_save(target, actor=actor, reason=f"casework.{kind}.rectified")
        except ValidationError as error:
            messages = [m for ms in error.message_dict.values() for m in ms]
            raise ValidationError({"requested_value": messages}) from error
    request.status = (
        RectificationRequest.Status.ACCEPTED if accept else RectificationRequest.Status.REFUSED
    )
    request.decision_reason = _text(reason)
    request.decided_by = actor
    request.decided_at = timezone.now()
    audited_save(
        request,
        actor=actor,
        reason="casework.rectification.accepted" if accept else "casework.rectification.refused",
    )
    return request
