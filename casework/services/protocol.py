"""The municipality's protocol, kept by its protocol administrators: a new version from the
current one, its content and its validity. A version in force is never changed — a change is
a new version — so that every referral and case keeps the rules it started under."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..indicators import INDICATORS
from ..models import ConcernCategory, ProtocolVersion
from ..models.protocol import SETTING_FIELDS
from .common import TransitionNotAllowed, audited_save

__all__ = [
    "EDITABLE_FIELDS",
    "protocol_version_create",
    "protocol_version_first",
    "protocol_version_update",
]

# What a protocol administrator sets on a version not yet in force.
EDITABLE_FIELDS = (
    "title",
    "valid_from",
    "valid_until",
    *SETTING_FIELDS,
    "school_validation",
    "concern_categories",
    "escalation_chain",
    "feedback_message",
)
# Deadlines and periods: at least 1 (a 0-day deadline is due before it is set).
AT_LEAST_ONE = tuple(name for name in SETTING_FIELDS if name != "closure_message")
# A pattern is at least two items about the same child.
AT_LEAST = {**dict.fromkeys(AT_LEAST_ONE, 1), "pattern_threshold": 2}


def _require_admin(actor, municipality) -> None:
    if not permissions.administers_protocol(actor, municipality):
        raise PermissionDenied(_("Only the municipality's protocol administrators do this."))


@transaction.atomic
def protocol_version_create(*, actor, from_version: ProtocolVersion) -> ProtocolVersion:
    """A new version, a copy of `from_version`, to start tomorrow (the administrator then
    changes what differs and sets the day it comes into force)."""
    _require_admin(actor, from_version.municipality)
    municipality = from_version.municipality
    last = municipality.protocol_versions.select_for_update().aggregate(n=Max("number"))["n"]
    copy = ProtocolVersion(
        municipality=municipality,
        number=(last or 0) + 1,
        valid_from=timezone.localdate() + datetime.timedelta(days=1),
        valid_until=None,
        created_by=actor,
        **{
            name: getattr(from_version, name)
            for name in EDITABLE_FIELDS
            if name not in ("valid_from", "valid_until")
        },
    )
    copy.title = from_version.title
    audited_save(copy, actor=actor, reason="casework.protocol_version.created")
    return copy


@transaction.atomic
def protocol_version_first(*, actor, municipality) -> ProtocolVersion:
    """A municipality's first version, a copy of the installation's default protocol (the
    fields' defaults, ProtocolVersion.fallback), to change and schedule like any new version."""
    _require_admin(actor, municipality)
    if municipality.protocol_versions.select_for_update().exists():
        raise TransitionNotAllowed(_("The municipality already has a protocol version."))
    default = ProtocolVersion.fallback()
    first = ProtocolVersion(
        municipality=municipality,
        number=1,
        valid_from=timezone.localdate() + datetime.timedelta(days=1),
        created_by=actor,
        **{name: getattr(default, name) for name in SETTING_FIELDS},
    )
    audited_save(first, actor=actor, reason="casework.protocol_version.created")
    return first


def _check_categories(categories, errors: dict) -> list:
    """[{"code": category, "signs": [sign codes]}], each a standard code."""
    known = set(ConcernCategory.values)
    signs_of = {
        str(category): {code for code, _l in items} for category, items in INDICATORS.items()
    }
    clean = []
    for entry in categories or []:
        code = entry.get("code") if isinstance(entry, dict) else None
        if code not in known:
            errors["concern_categories"] = _("Unknown concern category: %(code)s") % {"code": code}
            return []
        signs = [s for s in entry.get("signs", []) if s in signs_of.get(code, set())]
        clean.append({"code": code, "signs": signs})
    return clean


@transaction.atomic
def protocol_version_update(*, actor, version: ProtocolVersion, **fields) -> ProtocolVersion:
    """Change a version that is not in force yet, and its validity. The version it follows
    ends the day before it starts (its `valid_until`, recorded in its history)."""
    version = ProtocolVersion.objects.select_for_update().get(pk=version.pk)
    _require_admin(actor, version.municipality)
    today = timezone.localdate()
    if version.valid_from <= today:
        raise TransitionNotAllowed(
            _("This version is (or was) in force and stays as it was: create a new version.")
        )
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})
    errors: dict = {}
    for name, value in fields.items():
        setattr(version, name, value)
    for name, least in AT_LEAST.items():
        if name in fields and (getattr(version, name) or 0) < least:
            errors[name] = _("At least 1.") if least == 1 else _("At least 2.")
    if "concern_categories" in fields:
        version.concern_categories = _check_categories(fields["concern_categories"], errors)
    if version.valid_from is None or version.valid_from <= today:
        errors["valid_from"] = _("A new version comes into force from tomorrow at the earliest.")
    elif version.valid_until is not None and version.valid_until < version.valid_from:
        errors["valid_until"] = _("The end is before the start.")
    if errors:
        raise ValidationError(errors)
    audited_save(version, actor=actor, reason="casework.protocol_version.updated")
    # The version it follows (the latest to start before it) ends the day before: moved with
    # it, so that no day is left without a version.
    earlier = (
        ProtocolVersion.objects.select_for_update()
        .filter(municipality=version.municipality, valid_from__lt=version.valid_from)
        .exclude(pk=version.pk)
        .order_by("-valid_from", "-number")
        .first()
    )
    before = version.valid_from - datetime.timedelta(days=1)
    if earlier is not None and earlier.valid_until != before:
        earlier.valid_until = before
        audited_save(earlier, actor=actor, reason="casework.protocol_version.superseded")
    return version
