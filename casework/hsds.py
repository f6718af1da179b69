"""The directory in the Open Referral Human Services Data Specification (HSDS 3.0), JSON.

One document: `{"hsds_version", "organizations": [...], "services": [...]}`, each service with
its HSDS fields (name, description, email, url, status, application_process,
fees_description, minimum_age, maximum_age) and nested objects (phones, languages,
schedules, service_areas, service_at_locations). What HSDS has no field for (the district
that keeps the entry, its kind, type, recurrence, neighbourhood) travels as `attributes`
whose taxonomy is this project's ("casework:<field>"): a file exported here re-imports
unchanged, and a municipality's own HSDS file only needs those attributes (or a default
district) to come in.

Ids are stable UUIDs derived from the natural keys (district code and name), so that two
exports of the same directory are identical and an import finds the entries it already has.
Conversion only: the writes are casework.services.directory_import_hsds's.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Agency, Service

HSDS_VERSION = "3.0"
NAMESPACE = uuid.UUID("6f1c1f5e-0d55-4c2e-9f0c-5b8f6c7e2a41")
TAXONOMY = "casework"
# Fields with no HSDS equivalent, carried as attributes.
ATTRIBUTE_FIELDS = ("district", "kind", "entry_type", "recurrence", "neighbourhood")


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _languages(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def organization_id(agency: Agency) -> str:
    return _id("organization", agency.district.code, agency.name)


def service_id(service: Service) -> str:
    return _id("service", service.district.code, service.name)


def organization_out(agency: Agency) -> dict:
    oid = organization_id(agency)
    return {
        "id": oid,
        "name": agency.name,
        "description": "",
        "email": agency.email or None,
        "phones": [{"id": _id(oid, "phone"), "number": agency.phone}] if agency.phone else [],
    }


def service_out(service: Service) -> dict:
    sid = service_id(service)
    attributes = {
        "district": service.district.code,
        "kind": service.kind,
        "entry_type": service.entry_type,
        "recurrence": service.recurrence,
        "neighbourhood": service.neighbourhood,
    }
    return {
        "id": sid,
        "organization_id": organization_id(service.agency) if service.agency_id else None,
        "name": service.name,
        "description": service.description,
        "url": service.website or None,
        "email": service.email or None,
        "status": "active" if service.active else "inactive",
        "application_process": service.how_to_access,
        "fees_description": service.cost,
        "minimum_age": service.min_age,
        "maximum_age": service.max_age,
        "phones": [{"id": _id(sid, "phone"), "number": service.phone}] if service.phone else [],
        "languages": [
            {"id": _id(sid, "language", name), "name": name}
            for name in _languages(service.languages)
        ],
        "schedules": [
            {
                "id": _id(sid, "schedule"),
                "description": service.hours,
                "valid_from": service.starts_on.isoformat() if service.starts_on else None,
                "valid_to": service.ends_on.isoformat() if service.ends_on else None,
            }
        ],
        "service_areas": [
            {"id": _id(sid, "area"), "name": service.district.name, "description": ""}
        ],
        "service_at_locations": (
            [
                {
                    "id": _id(sid, "at_location"),
                    "location": {
                        "id": _id(sid, "location"),
                        "name": service.name,
                        "addresses": [
                            {
                                "id": _id(sid, "address"),
                                "address_1": service.address,
                                "address_type": "physical",
                            }
                        ],
                    },
                }
            ]
            if service.address
            else []
        ),
        "attributes": [
            {
                "id": _id(sid, "attribute", name),
                "taxonomy_term": {
                    "id": _id("term", name, value),
                    "taxonomy": f"{TAXONOMY}:{name}",
                    "code": value,
                    "name": value,
                },
            }
            for name, value in attributes.items()
            if value
        ],
    }


def document_out(services) -> dict:
    """The HSDS document of `services` (with their agencies), in a stable order."""
    services = sorted(services, key=lambda s: (s.district.code, s.name))
    agencies = {s.agency_id: s.agency for s in services if s.agency_id}
    organizations = sorted(
        (organization_out(agency) for agency in agencies.values()), key=lambda o: o["id"]
    )
    return {
        "hsds_version": HSDS_VERSION,
        "organizations": organizations,
        "services": [service_out(service) for service in services],
    }


# --- reading -------------------------------------------------------------------------------


def _text(entry: dict, key: str, limit: int | None = None) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({key: _("Expected text.")})
    return value.strip()


def _age(entry: dict, key: str, default: int) -> int:
    value = entry.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValidationError({key: _("Expected a whole number of years.")})
    return int(value)


def _date(value, key: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError as error:
        raise ValidationError({key: _("Expected a date (YYYY-MM-DD).")}) from error


def _first(entry: dict, key: str) -> dict:
    items = entry.get(key) or []
    if not isinstance(items, list):
        raise ValidationError({key: _("Expected a list.")})
    return items[0] if items and isinstance(items[0], dict) else {}


def service_in(entry: dict, *, organizations: dict[str, str]) -> dict:
    """The directory fields of one HSDS service: a dict of Service field values, plus
    "district" (a code) and "organization" (a name or ""). Raises ValidationError naming the
    field on bad input."""
    if not isinstance(entry, dict):
        raise ValidationError(_("Each service must be an object."))
    attributes = {}
    for attribute in entry.get("attributes") or []:
        term = (attribute or {}).get("taxonomy_term") or {}
        taxonomy = str(term.get("taxonomy") or "")
        if taxonomy.startswith(f"{TAXONOMY}:"):
            attributes[taxonomy.split(":", 1)[1]] = str(term.get("code") or "")
    schedule = _first(entry, "schedules")
    location = _first(entry, "service_at_locations").get("location") or {}
    address = (location.get("addresses") or [{}])[0] if isinstance(location, dict) else {}
    status = _text(entry, "status") or "active"
    if status not in ("active", "inactive", "defunct", "temporarily closed"):
        raise ValidationError({"status": _("Unknown status.")})
    return {
        "district": attributes.get("district", ""),
        "organization": organizations.get(entry.get("organization_id") or "", ""),
        "name": _text(entry, "name"),
        "description": _text(entry, "description"),
        "website": _text(entry, "url"),
        "email": _text(entry, "email"),
        "active": status == "active",
        "how_to_access": _text(entry, "application_process"),
        "cost": _text(entry, "fees_description"),
        "min_age": _age(entry, "minimum_age", 0),
        "max_age": _age(entry, "maximum_age", 18),
        "phone": _text(_first(entry, "phones"), "number"),
        "languages": ", ".join(
            _text(language, "name")
            for language in entry.get("languages") or []
            if isinstance(language, dict) and _text(language, "name")
        ),
        "hours": _text(schedule, "description"),
        "starts_on": _date(schedule.get("valid_from"), "valid_from"),
        "ends_on": _date(schedule.get("valid_to"), "valid_to"),
        "address": _text(address, "address_1") if isinstance(address, dict) else "",
        "kind": attributes.get("kind") or Service.Kind.OTHER,
        "entry_type": attributes.get("entry_type") or Service.EntryType.SERVICE,
        "recurrence": attributes.get("recurrence") or Service.Recurrence.ONGOING,
        "neighbourhood": attributes.get("neighbourhood", ""),
    }


def document_in(document) -> tuple[list[dict], dict[str, str]]:
    """(the services' raw entries, organisation id → name) of an HSDS document: this
    project's single document, or a bare list of services."""
    if isinstance(document, list):
        return document, {}
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        raise ValidationError(_("Not an HSDS document: expected a list of services."))
    organizations = {
        str(org.get("id")): str(org.get("name") or "")
        for org in document.get("organizations") or []
        if isinstance(org, dict)
    }
    return document["services"], organizations
