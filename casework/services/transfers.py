"""A case moving: to another lead worker of its district, or to another district.

The grants follow the lead: the leaving lead (and, when the case leaves the district, the
sending district's team) loses the case's grants in the same transaction; the arriving lead
gets them. The two changes that move the lead (`case_change_lead`, accepting a transfer in
`case_transfer_decide`) are protocol steps: they run through protocols.steps, which also hands
the case's open Viewflow tasks to the new lead, so that the flow and the file never disagree
on who leads the case.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import (
    Action,
    Case,
    CaseTeamMember,
    CaseTransfer,
    District,
    Membership,
    Notification,
)
from ..outbox import notify
from .common import TransitionNotAllowed, audited_save, flow_owned
from .referrals import members_of

__all__ = [
    "case_change_lead",
    "case_transfer_decide",
    "case_transfer_request",
    "case_transfer_withdraw",
]

OPEN_ACTIONS = (Action.Status.PLANNED, Action.Status.IN_PROGRESS)


def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _lock_transfer(transfer: CaseTransfer) -> CaseTransfer:
    return CaseTransfer.objects.select_for_update().get(pk=transfer.pk)


def _check_reason(grounds: str, reason: str, errors: dict) -> None:
    if grounds not in CaseTransfer.Grounds.values:
        errors["grounds"] = _("Choose the grounds.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why the case moves.")


def _lead_membership(lead, district: District) -> Membership | None:
    """The membership through which `lead` may lead a case of `district`: an active role on
    the district's social team (as for opening a case at triage)."""
    if lead is None or not lead.is_active:
        return None
    if not permissions.triages_district(lead, district):
        return None
    return (
        Membership.objects.filter(
            user=lead,
            active=True,
            agency__district=district,
            role__in=permissions.TRIAGE_ROLES | {Membership.Role.SUPERVISOR},
        )
        .select_related("agency")
        .order_by("pk")
        .first()
    )


def _supervisors(district: District):
    return members_of(permissions.district_supervisors_group(district))


def _take_over(*, actor, case: Case, lead, membership: Membership, leaving, member_reason: str):
    """The team side of a hand-over: `leaving` (team rows) leave the case, the new lead joins
    it as lead (or becomes lead if already on the team), open actions of those who left go to
    the new lead, and the grants follow."""
    now = timezone.now()
    departed = []
    for member in leaving:
        if member.user_id == lead.pk:
            continue
        member.removed_at = now
        audited_save(member, actor=actor, reason=member_reason)
        departed.append(member.user)
    existing = case.team.filter(user=lead, removed_at__isnull=True).first()
    if existing is not None:
        existing.role = CaseTeamMember.CaseRole.LEAD
        existing.agency = membership.agency
        existing.valid_until = None
        existing.reason = _("Lead professional")
        audited_save(existing, actor=actor, reason="casework.case_team.lead_assigned")
    else:
        audited_save(
            CaseTeamMember(
                case=case,
                user=lead,
                agency=membership.agency,
                role=CaseTeamMember.CaseRole.LEAD,
                reason=_("Lead professional"),
                added_by=actor,
            ),
            actor=actor,
            reason="casework.case_team.lead_assigned",
        )
    # Open actions owned by someone who left carry over to the new lead, who re-plans them.
    gone = {user.pk for user in departed} | {case.lead_worker_id}
    gone.discard(lead.pk)
    for action in Action.objects.filter(
        plan__case=case, status__in=OPEN_ACTIONS, owner_id__in=gone
    ).select_for_update():
        action.owner = lead
        action.owning_agency = membership.agency
        audited_save(action, actor=actor, reason="casework.action.reassigned")
    permissions.case_hand_over(case=case, leaving=departed, arriving=lead)
    # The school's contact person is the lead worker (set when the case opened).
    for referral in case.referrals.filter(contact_person_id__in=gone):
        referral.contact_person = lead
        audited_save(referral, actor=actor, reason="casework.referral.contact_person_changed")
    notify(recipients=[lead], kind=Notification.Kind.CASE_ASSIGNED, case=case)


@flow_owned
@transaction.atomic
def case_change_lead(*, actor, case: Case, lead, grounds: str, reason: str) -> CaseTransfer:
    """The district supervisor hands the case to another worker of the district's social
    team: the previous lead leaves the team (and loses access at once), the new one gets the
    lead's grants, the open actions of the previous lead and the case's open tasks."""
    case = _lock_case(case)
    if not permissions.can_change_lead(actor, case):
        raise PermissionDenied(_("Only the district supervisor changes the lead worker."))
    if case.status == Case.Status.CLOSED:
        raise TransitionNotAllowed(_("The case is closed."))
    if case.transfers.filter(status=CaseTransfer.Status.REQUESTED).exists():
        raise TransitionNotAllowed(
            _("A transfer to another district awaits its answer: decide it or withdraw it first.")
        )
    errors: dict = {}
    _check_reason(grounds, reason, errors)
    membership = _lead_membership(lead, case.district)
    if lead is not None and lead.pk == case.lead_worker_id:
        errors["lead"] = _("This person already leads the case.")
    elif membership is None:
        errors["lead"] = _("The lead worker must belong to the district's social team.")
    if errors:
        raise ValidationError(errors)
    previous = case.lead_worker
    leaving = list(case.team.filter(user=previous, removed_at__isnull=True).select_for_update())
    _take_over(
        actor=actor,
        case=case,
        lead=lead,
        membership=membership,
        leaving=leaving,
        member_reason="casework.case_team.lead_handed_over",
    )
    case.lead_worker = lead
    audited_save(case, actor=actor, reason="casework.case.lead_changed")
    now = timezone.now()
    transfer = CaseTransfer(
        case=case,
        kind=CaseTransfer.Kind.LEAD,
        status=CaseTransfer.Status.ACCEPTED,
        grounds=grounds,
        reason=reason.strip(),
        from_district=case.district,
        to_district=case.district,
        from_lead=previous,
        to_lead=lead,
        requested_by=actor,
        requested_at=now,
        decided_by=actor,
        decided_at=now,
    )
    audited_save(transfer, actor=actor, reason="casework.case_transfer.lead_changed")
    return transfer


@transaction.atomic
def case_transfer_request(
    *, actor, case: Case, to_district: District, grounds: str, reason: str
) -> CaseTransfer:
    """The lead worker (or the supervisor) asks another district to take the case over. The
    case stays where it is, with its team and grants, until the receiving supervisor
    accepts."""
    case = _lock_case(case)
    if not permissions.can_request_transfer(actor, case):
        raise PermissionDenied(_("Only the lead worker or the supervisor asks for a transfer."))
    if case.status != Case.Status.OPEN:
        raise TransitionNotAllowed(
            _("Not allowed while the case is “%(status)s”.") % {"status": case.get_status_display()}
        )
    if case.transfers.filter(status=CaseTransfer.Status.REQUESTED).exists():
        raise TransitionNotAllowed(_("A transfer of this case already awaits its answer."))
    errors: dict = {}
    _check_reason(grounds, reason, errors)
    if to_district is None:
        errors["to_district"] = _("Choose the district the family moved to.")
    elif to_district.pk == case.district_id:
        errors["to_district"] = _("The case is already in this district.")
    elif not _supervisors(to_district).exists():
        errors["to_district"] = _(
            "This district has no supervisor to accept the case: call its social services."
        )
    if errors:
        raise ValidationError(errors)
    transfer = CaseTransfer(
        case=case,
        kind=CaseTransfer.Kind.DISTRICT,
        grounds=grounds,
        reason=reason.strip(),
        from_district=case.district,
        to_district=to_district,
        from_lead=case.lead_worker,
        requested_by=actor,
    )
    audited_save(transfer, actor=actor, reason="casework.case_transfer.requested")
    # No case id on the notice: the receiving supervisor cannot open the file before accepting.
    notify(recipients=_supervisors(to_district), kind=Notification.Kind.TRANSFER_REQUESTED)
    return transfer


@transaction.atomic
def case_transfer_withdraw(*, actor, transfer: CaseTransfer) -> CaseTransfer:
    """The sending side withdraws a request the receiving district has not answered yet."""
    transfer = _lock_transfer(transfer)
    if not permissions.can_withdraw_transfer(actor, transfer):
        raise PermissionDenied(_("Only the lead worker or the supervisor withdraws the request."))
    if transfer.status != CaseTransfer.Status.REQUESTED:
        raise TransitionNotAllowed(_("This transfer has already been decided."))
    transfer.status = CaseTransfer.Status.WITHDRAWN
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    audited_save(transfer, actor=actor, reason="casework.case_transfer.withdrawn")
    return transfer


@flow_owned
@transaction.atomic
def case_transfer_decide(
    *, actor, transfer: CaseTransfer, accept: bool, lead=None, reason: str = ""
) -> CaseTransfer:
    """The receiving district's supervisor accepts the case (naming its new lead worker) or
    refuses it, saying why. On acceptance the case, its plan, open actions, reviews and their
    dates move to the receiving district; the sending district's professionals leave the team
    and lose access; the referring school keeps its view of its referral, with the new lead as
    its contact person."""
    transfer = _lock_transfer(transfer)
    if not permissions.can_decide_transfer(actor, transfer):
        raise PermissionDenied(_("Only the receiving district's supervisor decides a transfer."))
    if transfer.status != CaseTransfer.Status.REQUESTED:
        raise TransitionNotAllowed(_("This transfer has already been decided."))
    case = _lock_case(transfer.case)
    if case.status == Case.Status.CLOSED:
        raise TransitionNotAllowed(_("The case is closed."))
    now = timezone.now()
    sending_side = [transfer.requested_by, *_supervisors(transfer.from_district)]
    if not accept:
        if not (reason or "").strip():
            raise ValidationError({"reason": _("Say why the district does not take the case.")})
        transfer.status = CaseTransfer.Status.REFUSED
        transfer.refusal_reason = reason.strip()
        transfer.decided_by = actor
        transfer.decided_at = now
        audited_save(transfer, actor=actor, reason="casework.case_transfer.refused")
        notify(recipients=sending_side, kind=Notification.Kind.TRANSFER_DECIDED, case=case)
        return transfer
    membership = _lead_membership(lead, transfer.to_district)
    if membership is None:
        raise ValidationError(
            {"lead": _("The lead worker must belong to the receiving district's social team.")}
        )
    # The sending district's professionals leave with the case; those of other districts
    # (brought in by a supervisor for this case) stay on the team.
    leaving = list(
        case.team.filter(
            removed_at__isnull=True, agency__district=transfer.from_district
        ).select_for_update()
    )
    _take_over(
        actor=actor,
        case=case,
        lead=lead,
        membership=membership,
        leaving=leaving,
        member_reason="casework.case_team.left_with_transfer",
    )
    case.district = transfer.to_district
    case.lead_worker = lead
    audited_save(case, actor=actor, reason="casework.case.transferred")
    transfer.status = CaseTransfer.Status.ACCEPTED
    transfer.to_lead = lead
    transfer.decided_by = actor
    transfer.decided_at = now
    audited_save(transfer, actor=actor, reason="casework.case_transfer.accepted")
    # Told without the case: the sending side can no longer open it.
    notify(recipients=sending_side, kind=Notification.Kind.TRANSFER_DECIDED)
    return transfer
