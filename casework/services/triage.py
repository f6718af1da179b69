"""Triage: the district's team claims a referral, decides on it (open or link a case, ask the
referrer, redirect, close, escalate), and the referrer is told the outcome."""

from __future__ import annotations

import datetime
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions, selectors
from ..models import (
    Case,
    CasePlan,
    CaseTeamMember,
    Child,
    District,
    InformationRequest,
    Membership,
    Notification,
    Referral,
    RiskLevel,
    Service,
)
from ..outbox import notify
from .common import TransitionNotAllowed, audited_save, flow_owned
from .referrals import (
    lock_referral,
    members_of,
    require_status,
    review_interval,
    triage_deadline,
    triage_team,
)

__all__ = [
    "DECISIONS",
    "DECISION_FIELDS",
    "DECISION_REQUIRED",
    "FINAL_STATUSES",
    "case_reference",
    "child_confirm_new",
    "child_link",
    "decision_arguments",
    "open_case_for",
    "referral_answer_information",
    "referral_claim",
    "referral_close_no_action",
    "referral_decide",
    "referral_escalate",
    "referral_open_case",
    "referral_redirect",
    "referral_release",
    "referral_request_information",
    "referral_send_feedback",
]

Status = Referral.Status
Decision = Referral.Decision


@flow_owned
@transaction.atomic
def referral_claim(*, actor, referral: Referral) -> Referral:
    """A member of the district's triage team takes the referral from the queue."""
    referral = lock_referral(referral)
    if not permissions.can_triage(actor, referral):
        raise PermissionDenied(_("Only the district's triage team claims its referrals."))
    if referral.status == Status.IN_TRIAGE and referral.claimed_by_id != actor.pk:
        raise TransitionNotAllowed(_("Another worker has already claimed this referral."))
    require_status(referral, Status.SUBMITTED)
    referral.status = Status.IN_TRIAGE
    referral.claimed_by = actor
    referral.claimed_at = timezone.now()
    referral.contact_person = actor
    audited_save(referral, actor=actor, reason="casework.referral.claimed")
    return referral


@flow_owned
@transaction.atomic
def referral_release(*, actor, referral: Referral) -> Referral:
    """Put a claimed referral back in the queue (the claimer, or a supervisor)."""
    referral = lock_referral(referral)
    require_status(referral, Status.IN_TRIAGE)
    is_supervisor = permissions.supervises_district(actor, referral.district)
    if referral.claimed_by_id != actor.pk and not is_supervisor:
        raise PermissionDenied(_("Only the worker who claimed it, or a supervisor, releases it."))
    referral.status = Status.SUBMITTED
    referral.claimed_by = None
    referral.claimed_at = None
    audited_save(referral, actor=actor, reason="casework.referral.released")
    return referral


def _require_claimer(referral: Referral, actor) -> None:
    if not permissions.can_triage(actor, referral):
        raise PermissionDenied(_("Only the district's triage team decides on its referrals."))
    require_status(referral, Status.IN_TRIAGE)
    if referral.claimed_by_id != actor.pk:
        raise TransitionNotAllowed(_("Claim the referral before deciding on it."))


def _decided(referral: Referral, *, actor, decision: str, reason: str, status: str) -> None:
    referral.decision = decision
    referral.decision_reason = reason
    referral.decided_by = actor
    referral.decided_at = timezone.now()
    referral.status = status


def case_reference(district: District) -> str:
    year = timezone.localdate().year
    return f"{district.code.upper()}-{year}-{secrets.token_hex(3).upper()}"


# --- who the child is ---------------------------------------------------------------------------


def _identity_to_check(referral: Referral, actor) -> Child:
    """The referral's child record, locked, while its identity may be settled: by the district's
    triage team, on a referral waiting in the queue or claimed by the actor."""
    referral = lock_referral(referral)
    if not permissions.can_triage(actor, referral):
        raise PermissionDenied(_("Only the district's triage team decides on its referrals."))
    require_status(referral, Status.SUBMITTED, Status.IN_TRIAGE)
    if referral.status == Status.IN_TRIAGE and referral.claimed_by_id != actor.pk:
        raise TransitionNotAllowed(_("Another worker has claimed this referral."))
    child = Child.objects.select_for_update().get(pk=referral.child_id)
    if child.identity != Child.Identity.AS_TYPED:
        raise TransitionNotAllowed(_("The child's identity has already been checked."))
    return child


@transaction.atomic
def child_link(*, actor, referral: Referral, known: Child | int) -> Child:
    """The child of this referral is a child the service already knows (one of the possible
    matches the triage team was shown): the referral's record points to it, so that cases and
    earlier referrals come together. The record the referrer typed is kept as it is, and so is
    everything the referrer sees."""
    child = _identity_to_check(referral, actor)
    known_id = known if isinstance(known, int) else known.pk
    target = selectors.child_may_be_linked(referral, known_id)
    if target is None:
        raise ValidationError({"child": _("Choose one of the possible matches shown.")})
    child.same_as = target
    child.identity = Child.Identity.LINKED
    audited_save(child, actor=actor, reason="casework.child.linked")
    return target


@transaction.atomic
def child_confirm_new(*, actor, referral: Referral) -> Child:
    """The child of this referral is not one the service knew: the record as typed becomes
    the child's record."""
    child = _identity_to_check(referral, actor)
    child.identity = Child.Identity.KNOWN
    audited_save(child, actor=actor, reason="casework.child.confirmed_new")
    return child


def _settle_identity_for_a_case(referral: Referral, actor) -> Child:
    """A case is opened for a child whose identity is settled. A record as typed with no
    possible match becomes a known child; with possible matches, the team decides first."""
    child = referral.child
    if child.identity != Child.Identity.AS_TYPED:
        return child.subject
    if selectors.child_matches(referral, limit=1):
        raise ValidationError(
            {
                "child": _(
                    "The service may already know this child: link the referral to one of the "
                    "possible matches, or confirm it is a child not known before."
                )
            }
        )
    child.identity = Child.Identity.KNOWN
    audited_save(child, actor=actor, reason="casework.child.confirmed_new")
    return child


def open_case_for(child: Child):
    return (
        Case.objects.filter(child=child.subject)
        .exclude(status=Case.Status.CLOSED)
        .order_by("opened_at")
        .first()
    )


@flow_owned
@transaction.atomic
def referral_open_case(
    *,
    actor,
    referral: Referral,
    lead_worker=None,
    risk_level: str = RiskLevel.MEDIUM,
    reason: str = "",
    feedback: str = "",
) -> Case:
    """Take up the referral: open a case led by `lead_worker` (default: the decider), or link
    the referral to the child's case when one is already open — never a second case."""
    referral = lock_referral(referral)
    _require_claimer(referral, actor)
    # What the school reads when its referral is taken up: the worker's words, or else the
    # wording of the referral's protocol.
    feedback = feedback or selectors.protocol_for(referral).feedback_message
    child = _settle_identity_for_a_case(referral, actor)
    existing = open_case_for(child)
    if existing is not None:
        # Lock the case too: two referrals for one child decided at once must find one case.
        existing = Case.objects.select_for_update().get(pk=existing.pk)
        referral.case = existing
        referral.feedback = feedback
        _decided(
            referral, actor=actor, decision=Decision.OPEN_CASE, reason=reason, status=Status.LINKED
        )
        audited_save(referral, actor=actor, reason="casework.referral.linked_to_case")
        notify(
            recipients=[existing.lead_worker], kind=Notification.Kind.CASE_ASSIGNED, case=existing
        )
        return existing
    lead_worker = lead_worker or actor
    lead_membership = (
        Membership.objects.filter(user=lead_worker, active=True, agency__district=referral.district)
        .select_related("agency")
        .order_by("pk")
        .first()
    )
    if lead_membership is None or not permissions.triages_district(lead_worker, referral.district):
        raise ValidationError(
            {"lead_worker": _("The lead worker must belong to the district's social team.")}
        )
    if risk_level not in RiskLevel.values:
        raise ValidationError({"risk_level": _("Choose a risk level.")})
    # The case starts under the protocol in force in the district today, and keeps it.
    protocol = selectors.protocol_for(referral.district)
    case = Case(
        reference=case_reference(referral.district),
        child=child,
        district=referral.district,
        lead_worker=lead_worker,
        protocol_version=protocol if protocol.pk else None,
        risk_level=risk_level,
        status=Case.Status.OPEN,
        next_review_at=timezone.now() + review_interval(risk_level, protocol=protocol),
    )
    audited_save(case, actor=actor, reason="casework.case.opened")
    audited_save(CasePlan(case=case), actor=actor, reason="casework.case_plan.created")
    lead_agency = lead_membership.agency
    member = CaseTeamMember(
        case=case,
        user=lead_worker,
        agency=lead_agency,
        role=CaseTeamMember.CaseRole.LEAD,
        reason=_("Lead professional"),
        added_by=actor,
    )
    audited_save(member, actor=actor, reason="casework.case_team.lead_assigned")
    permissions.case_grant_lead(case=case, user=lead_worker)
    referral.case = case
    referral.contact_person = lead_worker
    referral.feedback = feedback
    _decided(
        referral, actor=actor, decision=Decision.OPEN_CASE, reason=reason, status=Status.CASE_OPENED
    )
    audited_save(referral, actor=actor, reason="casework.referral.case_opened")
    if lead_worker.pk != actor.pk:
        notify(recipients=[lead_worker], kind=Notification.Kind.CASE_ASSIGNED, case=case)
    return case


@flow_owned
@transaction.atomic
def referral_request_information(*, actor, referral: Referral, question: str) -> InformationRequest:
    """Ask the referrer for more; the referral waits for the answer, then returns to triage."""
    referral = lock_referral(referral)
    _require_claimer(referral, actor)
    if not question.strip():
        raise ValidationError({"question": _("Write the question for the referrer.")})
    now = timezone.now()
    request = InformationRequest(
        referral=referral,
        question=question,
        requested_by=actor,
        requested_at=now,
        due_at=now
        + datetime.timedelta(days=selectors.protocol_for(referral).information_request_days),
    )
    audited_save(request, actor=actor, reason="casework.information_request.created")
    referral.status = Status.INFORMATION_REQUESTED
    audited_save(referral, actor=actor, reason="casework.referral.information_requested")
    notify(
        recipients=[referral.referrer],
        kind=Notification.Kind.INFORMATION_REQUESTED,
        referral=referral,
    )
    return request


@flow_owned
@transaction.atomic
def referral_answer_information(*, actor, referral: Referral, answer: str) -> Referral:
    """The referrer answers; the referral goes back to the worker who asked."""
    referral = lock_referral(referral)
    if referral.referrer_id != actor.pk:
        raise PermissionDenied(_("Only the referrer answers the request."))
    require_status(referral, Status.INFORMATION_REQUESTED)
    if not answer.strip():
        raise ValidationError({"answer": _("Write your answer.")})
    request = referral.information_requests.filter(answered_at__isnull=True).latest("requested_at")
    request.answer = answer
    request.answered_by = actor
    request.answered_at = timezone.now()
    audited_save(request, actor=actor, reason="casework.information_request.answered")
    referral.triage_due_at = triage_deadline(
        referral.urgency, request.answered_at, protocol=selectors.protocol_for(referral)
    )
    asker = referral.claimed_by
    if asker is not None and permissions.can_triage(asker, referral):
        # Back to the worker who asked (the flow assigns the triage task to the claimer).
        referral.status = Status.IN_TRIAGE
        recipients = [asker]
    else:
        # The worker who asked has left the district's team: the district's queue takes it.
        referral.status = Status.SUBMITTED
        referral.claimed_by = None
        referral.claimed_at = None
        recipients = list(triage_team(referral.district))
    audited_save(referral, actor=actor, reason="casework.referral.information_received")
    notify(recipients=recipients, kind=Notification.Kind.INFORMATION_ANSWERED, referral=referral)
    return referral


@flow_owned
@transaction.atomic
def referral_redirect(
    *, actor, referral: Referral, service: Service, reason: str = "", feedback: str = ""
) -> Referral:
    """Close the referral by pointing the family to a service of the directory."""
    referral = lock_referral(referral)
    _require_claimer(referral, actor)
    if service is None or not service.active:
        raise ValidationError({"service": _("Choose an active service from the directory.")})
    referral.redirected_to = service
    referral.feedback = feedback
    _decided(
        referral, actor=actor, decision=Decision.REDIRECT, reason=reason, status=Status.REDIRECTED
    )
    audited_save(referral, actor=actor, reason="casework.referral.redirected")
    return referral


@flow_owned
@transaction.atomic
def referral_close_no_action(
    *, actor, referral: Referral, reason: str, feedback: str = ""
) -> Referral:
    """Close the referral with no further action; the reason is required."""
    referral = lock_referral(referral)
    _require_claimer(referral, actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why no further action is needed.")})
    referral.feedback = feedback
    _decided(
        referral,
        actor=actor,
        decision=Decision.NO_FURTHER_ACTION,
        reason=reason,
        status=Status.NO_FURTHER_ACTION,
    )
    audited_save(referral, actor=actor, reason="casework.referral.closed_no_action")
    return referral


@flow_owned
@transaction.atomic
def referral_escalate(
    *, actor, referral: Referral, target: str, reason: str, feedback: str = ""
) -> Referral:
    """Escalate to child protection, the juvenile court or the police: who, when and why."""
    referral = lock_referral(referral)
    _require_claimer(referral, actor)
    errors = {}
    if target not in Referral.EscalationTarget.values:
        errors["target"] = _("Choose where the referral is escalated.")
    if not reason.strip():
        errors["reason"] = _("Say why the referral is escalated.")
    if errors:
        raise ValidationError(errors)
    referral.escalated_to = target
    referral.feedback = feedback
    _decided(
        referral, actor=actor, decision=Decision.ESCALATE, reason=reason, status=Status.ESCALATED
    )
    audited_save(referral, actor=actor, reason="casework.referral.escalated")
    notify(
        recipients=members_of(permissions.district_supervisors_group(referral.district)),
        kind=Notification.Kind.ESCALATION,
        referral=referral,
    )
    return referral


FINAL_STATUSES = (
    Status.CASE_OPENED,
    Status.LINKED,
    Status.REDIRECTED,
    Status.NO_FURTHER_ACTION,
    Status.ESCALATED,
)


@flow_owned
@transaction.atomic
def referral_send_feedback(*, actor, referral: Referral) -> Referral:
    """Tell the referrer (and the school referent) the outcome — never the social file."""
    referral = lock_referral(referral)
    require_status(referral, *FINAL_STATUSES)
    if referral.feedback_sent_at is not None:
        return referral
    referral.feedback_sent_at = timezone.now()
    audited_save(referral, actor=actor, reason="casework.referral.feedback_sent")
    referents = list(members_of(permissions.school_referents_group(referral.school)))
    notify(
        recipients=[referral.referrer, *referents],
        kind=Notification.Kind.FEEDBACK,
        referral=referral,
    )
    return referral


@flow_owned
@transaction.atomic
def referral_decide(*, actor, referral: Referral, decision: str, **fields):
    """Decide on a referral. An unclaimed one is claimed by the decider in the same step, so
    that of two workers deciding at once exactly one wins and the other gets a conflict."""
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose a decision.")})
    referral = lock_referral(referral)
    if referral.status == Status.SUBMITTED:
        referral = referral_claim(actor=actor, referral=referral)
    return DECISIONS[decision](actor=actor, referral=referral, **fields)


DECISIONS = {
    Decision.OPEN_CASE: referral_open_case,
    Decision.REQUEST_INFORMATION: referral_request_information,
    Decision.REDIRECT: referral_redirect,
    Decision.NO_FURTHER_ACTION: referral_close_no_action,
    Decision.ESCALATE: referral_escalate,
}

# What each triage decision takes, and what it cannot do without (forms and API share these).
DECISION_FIELDS = {
    Decision.OPEN_CASE: ("lead_worker", "risk_level", "reason", "feedback"),
    Decision.REQUEST_INFORMATION: ("question",),
    Decision.REDIRECT: ("service", "reason", "feedback"),
    Decision.NO_FURTHER_ACTION: ("reason", "feedback"),
    Decision.ESCALATE: ("target", "reason", "feedback"),
}
DECISION_REQUIRED = {
    Decision.REQUEST_INFORMATION: ("question",),
    Decision.REDIRECT: ("service",),
    Decision.NO_FURTHER_ACTION: ("reason",),
    Decision.ESCALATE: ("target", "reason"),
}


def decision_arguments(decision: str, data: dict) -> dict:
    """The keyword arguments of the decision's service, from a form's or a request's data."""
    return {
        name: data[name] for name in DECISION_FIELDS[decision] if data.get(name) not in (None, "")
    }
