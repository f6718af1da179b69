"""Organisation and directory: memberships (and the scopes they open), services."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import Agency, Case, CaseTeamMember, Membership, Notification, Service
from ..outbox import notify
from .common import TransitionNotAllowed, audited_save
from .referrals import members_of


@transaction.atomic
def membership_create(*, actor: object | None, user, agency: Agency, role: str) -> Membership:
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
def membership_deactivate(*, actor: object | None, membership: Membership) -> Membership:
    """End a role. Its scopes close, and so does every case team the person sits on for that
    agency: a case whose lead leaves shows on the district supervisor's "needs a new lead" list
    (selectors.cases_needing_a_lead)."""
    if not membership.active:
        raise TransitionNotAllowed(_("This membership is already inactive."))
    membership.active = False
    audited_save(membership, actor=actor, reason="casework.membership.deactivated")
    permissions.membership_revoke(membership)
    if not Membership.objects.filter(
        user=membership.user, agency=membership.agency, active=True
    ).exists():
        _leave_case_teams(actor=actor, user=membership.user, agency=membership.agency)
    return membership


def _leave_case_teams(*, actor, user, agency: Agency) -> None:
    now = timezone.now()
    seats = CaseTeamMember.objects.select_for_update().filter(
        user=user, agency=agency, removed_at__isnull=True
    )
    for seat in seats.select_related("case"):
        seat.removed_at = now
        audited_save(seat, actor=actor, reason="casework.case_team.membership_ended")
        still_on_team = CaseTeamMember.objects.filter(
            case=seat.case, user=user, removed_at__isnull=True
        ).exists()
        if not still_on_team:
            permissions.case_revoke_team(case=seat.case, user=user)
            permissions.case_revoke_lead(case=seat.case, user=user)
            if seat.case.lead_worker_id == user.pk and seat.case.status != Case.Status.CLOSED:
                # The supervisors name a new lead (selectors.cases_needing_a_lead); tell them.
                notify(
                    recipients=members_of(
                        permissions.district_supervisors_group(seat.case.district)
                    ),
                    kind=Notification.Kind.LEAD_LEFT,
                    case=seat.case,
                )


def user_sessions_end(user) -> int:
    """End every stored session of `user` (database sessions) and every API token; returns
    how many sessions ended. Reactivating the account later brings none of them back."""
    from knox.models import AuthToken

    from casework.models import UserSession

    AuthToken.objects.filter(user=user).delete()
    # One indexed DELETE, however many people are signed in (casework.models.sessions keeps
    # the user's id beside each session); expired sessions go too.
    ended, _by_model = UserSession.objects.filter(user_id=user.pk).delete()
    return ended


@transaction.atomic
def service_save(*, actor: object | None, service: Service) -> Service:
    reason = "casework.service.updated" if service.pk else "casework.service.created"
    audited_save(service, actor=actor, reason=reason)
    return service
