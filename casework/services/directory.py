"""The directory the network keeps, the agencies' referents, the helpline's contacts."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import hsds, permissions, selectors
from ..models import Agency, Contact, District, Referent, Service
from .common import audit_as, audited_save

__all__ = [
    "contact_record",
    "directory_entry_save",
    "directory_import_hsds",
    "referent_save",
]


def _reason(obj, *, prefix: str, was_active: bool | None) -> str:
    if obj.pk is None:
        return f"{prefix}.created"
    if was_active and not obj.active:
        return f"{prefix}.withdrawn"
    return f"{prefix}.updated"


@transaction.atomic
def directory_entry_save(*, actor, service: Service) -> Service:
    """Add or change a service or initiative of the directory: the network coordinators of
    its district (of both districts when it moves from one to another)."""
    before = (
        Service.objects.select_for_update().filter(pk=service.pk).first() if service.pk else None
    )
    districts = {service.district_id} | ({before.district_id} if before else set())
    for district in District.objects.filter(pk__in=districts):
        if not permissions.keeps_directory(actor, district):
            raise PermissionDenied(
                _("Only the district's network coordinators keep its directory.")
            )
    if service.agency_id and service.agency.district_id != service.district_id:
        raise ValidationError({"agency": _("Choose an agency of the same district.")})
    reason = _reason(service, prefix="casework.service", was_active=before and before.active)
    audited_save(service, actor=actor, reason=reason)
    return service


@transaction.atomic
def referent_save(*, actor, referent: Referent) -> Referent:
    """Add or change one of an agency's referents: that agency's own coordinators and
    referents (permissions.REFERENT_KEEPER_ROLES), for their agency only."""
    before = (
        Referent.objects.select_for_update().filter(pk=referent.pk).first() if referent.pk else None
    )
    agencies = {referent.agency_id} | ({before.agency_id} if before else set())
    for agency in Agency.objects.filter(pk__in=agencies):
        if not permissions.keeps_referents(actor, agency):
            raise PermissionDenied(_("Each agency keeps its own referents."))
    if referent.school_id and referent.school.kind != Agency.Kind.SCHOOL:
        raise ValidationError({"school": _("Choose a school.")})
    reason = _reason(referent, prefix="casework.referent", was_active=before and before.active)
    audited_save(referent, actor=actor, reason=reason)
    return referent


@transaction.atomic
def contact_record(
    *,
    actor,
    channel: str,
    category: str,
    question: str,
    answer: str = "",
    caller: str = Contact.Caller.FAMILY,
    age_band: str = "",
    follow_up: str = "",
    district=None,
    family_reference: str = "",
    services=(),
    contacted_at=None,
) -> Contact:
    """Log a helpline contact (scheda registrazione contatto) and the services pointed to.
    A contact logged when the helpline is closed is flagged (seed 004's opening hours)."""
    if not permissions.can_log_contacts(actor):
        raise PermissionDenied(_("Only helpline operators log contacts."))
    contacted_at = contacted_at or timezone.now()
    contact = Contact(
        operator=actor,
        channel=channel,
        caller=caller,
        age_band=age_band,
        category=category,
        question=question,
        answer=answer,
        follow_up=follow_up,
        district=district,
        family_reference=family_reference,
        contacted_at=contacted_at,
        outside_hours=not selectors.helpline_is_open(contacted_at),
    )
    audited_save(contact, actor=actor, reason="casework.contact.recorded")
    if services:
        audit_as(contact, actor=actor, reason="casework.contact.services_pointed")
        contact.services.set(services)
    return contact


@transaction.atomic
def directory_import_hsds(
    *, actor, document, default_district: District | None = None
) -> dict[str, int]:
    """Bring an Open Referral (HSDS) directory in: entries are found by district and name;
    a new one is created, a changed one updated, an unchanged one left alone (no history
    row). One transaction: a bad entry raises ValidationError naming it, and nothing is
    written. `actor` None: an operator's command (the history shows no user)."""
    entries, organizations = hsds.document_in(document)
    districts = {d.code: d for d in District.objects.all()}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for number, entry in enumerate(entries, start=1):
        try:
            values = hsds.service_in(entry, organizations=organizations)
            code = values.pop("district")
            district = districts.get(code) if code else default_district
            if district is None:
                raise ValidationError(
                    {"district": _("Unknown district %(code)s.") % {"code": code or "-"}}
                )
            organization = values.pop("organization")
            agency = (
                Agency.objects.filter(district=district, name=organization).first()
                if organization
                else None
            )
            service = Service.objects.filter(district=district, name=values["name"]).first()
            created = service is None
            service = service or Service(district=district)
            changed = created or service.agency_id != (agency.pk if agency else None)
            for name, value in {**values, "agency": agency}.items():
                if getattr(service, name) != value:
                    setattr(service, name, value)
                    changed = True
            if not changed:
                counts["unchanged"] += 1
                continue
            audited_save(service, actor=actor, reason="casework.service.imported")
            counts["created" if created else "updated"] += 1
        except ValidationError as error:
            name = entry.get("name") if isinstance(entry, dict) else None
            raise ValidationError(
                _("Service %(number)s (%(name)s): %(errors)s")
                % {"number": number, "name": name or "-", "errors": "; ".join(_flat(error))}
            ) from error
    return counts


def _flat(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
    return list(error.messages)
