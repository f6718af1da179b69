"""Organisation and directory: memberships (and the scopes they open), services."""

from django.db import transaction
from django.utils.translation import gettext as _

from .. import permissions
from ..models import Agency, Membership, Service
from .common import TransitionNotAllowed, audited_save


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
    if not membership.active:
        raise TransitionNotAllowed(_("This membership is already inactive."))
    membership.active = False
    audited_save(membership, actor=actor, reason="casework.membership.deactivated")
    permissions.membership_revoke(membership)
    return membership


@transaction.atomic
def service_save(*, actor: object | None, service: Service) -> Service:
    reason = "casework.service.updated" if service.pk else "casework.service.created"
    audited_save(service, actor=actor, reason=reason)
    return service


@transaction.atomic
def contact_record(
    *,
    actor,
    channel: str,
    category: str,
    question: str,
    answer: str = "",
    district=None,
    family_reference: str = "",
    services=(),
):
    """Log a helpline contact (scheda registrazione contatto) and the services pointed to."""
    from django.core.exceptions import PermissionDenied

    from ..models import Contact

    if not permissions.can_log_contacts(actor):
        raise PermissionDenied(_("Only helpline operators log contacts."))
    contact = Contact(
        operator=actor,
        channel=channel,
        category=category,
        question=question,
        answer=answer,
        district=district,
        family_reference=family_reference,
    )
    audited_save(contact, actor=actor, reason="casework.contact.recorded")
    if services:
        contact._history_user = actor
        contact._change_reason = "casework.contact.services_pointed"
        contact.services.set(services)
    return contact
