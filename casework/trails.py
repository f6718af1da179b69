"""The audit trails as people read them, and the auditor's search for a trail.

`selectors.history_rows` reads the history tables; this module turns each row into what a
person understands: the actor's full name, the record and the field in their own words (the
models' verbose names), the values formatted (dates in the page's language, the label of a
choice, yes/no, the name of a linked record). The machine's shapes (the API's codes and raw
values) stay on each row beside them. Which values a reader may see is decided before this
module is called (permissions.reads_*_history_values): hidden values stay hidden here.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from . import permissions
from .indicators import INDICATORS
from .models import Case, CaseTeamMember, Child, ConcernCategory, Referral

# The labels of the codes kept in JSON lists (areas of concern, observed indicators).
_LIST_LABELS = {
    "concern_categories": dict(ConcernCategory.choices),
    "indicators": {code: label for items in INDICATORS.values() for code, label in items},
}


def list_labels(field_name: str) -> dict:
    """The labels of the codes a JSON list field keeps (areas of concern, indicators)."""
    return _LIST_LABELS.get(field_name, {})


def person_name(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def kind_of(model) -> str:
    """The kind of event a row is, for the chronology's filter: the record it was written on."""
    return model._meta.model_name


def kind_label(model) -> str:
    return capfirst(model._meta.verbose_name_plural)


def describe(rows: list[dict], *, values: bool = True) -> list[dict]:
    """Add the words for people to history rows (see selectors.history_rows): `actor_name`,
    `record`, `kind_label`, and for each change `label`, `old_text`, `new_text`. Linked
    records are read in one query per kind of record, whatever the number of rows; with
    `values=False` (the chronology, which shows no values) none is read."""
    related: dict = {}
    for row in rows if values else ():
        for change in row["changes"]:
            field = change["_field"]
            if field is not None and field.is_relation and change["shown"]:
                for value in (change["_old"], change["_new"]):
                    if value is not None:
                        related.setdefault(field.related_model, set()).add(value)
    loaded = {
        model: model._base_manager.select_related().in_bulk(ids) for model, ids in related.items()
    }
    for row in rows:
        model = row["_model"]
        row["actor_name"] = person_name(row["_actor"])
        row["record"] = f"{capfirst(model._meta.verbose_name)} {row['object_id']}"
        row["kind_label"] = kind_label(model)
        for change in row["changes"]:
            field = change["_field"]
            change["label"] = capfirst(field.verbose_name) if field is not None else change["field"]
            if change["shown"] and values:
                change["old_text"] = _display(field, change["_old"], loaded)
                change["new_text"] = _display(field, change["_new"], loaded)
            else:
                change["old_text"] = change["new_text"] = None
    return rows


def _display(field, value, loaded) -> str | None:
    if value is None:
        return None
    if field is None:
        return str(value)
    if field.is_relation:
        obj = loaded.get(field.related_model, {}).get(value)
        if obj is None:
            return _("%(record)s no longer kept") % {
                "record": capfirst(field.related_model._meta.verbose_name)
            }
        return person_name(obj) if isinstance(obj, get_user_model()) else str(obj)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list):
        labels = _LIST_LABELS.get(field.name, {})
        return ", ".join(str(labels.get(item, item)) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "—"
    if value == "":
        return "—"
    return str(value)


def kinds(rows: list[dict]) -> list[tuple[str, str]]:
    """(kind, label) of the kinds of event present in the rows, for the filter."""
    seen: dict[str, str] = {}
    for row in rows:
        seen.setdefault(row["kind"], row["kind_label"])
    return sorted(seen.items(), key=lambda item: item[1])


def of_kind(rows: list[dict], kind: str | None) -> list[dict]:
    return [row for row in rows if row["kind"] == kind] if kind else rows


# --- the auditor's search -----------------------------------------------------------------------

SEARCH_LIMIT = 50


def audit_search(
    user,
    *,
    child: str = "",
    case: str = "",
    referral: str = "",
    person: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> dict:
    """The trails matching every criterion given: the referrals and the cases (never their
    contents: number, district, status and dates only). Nothing without a criterion. For
    the auditor only; each record listed is a read, which the page logs."""
    if not permissions.is_auditor(user):
        raise PermissionDenied
    if not any((child.strip(), case.strip(), referral.strip(), person.strip(), date_from, date_to)):
        return {"searched": False, "referrals": [], "cases": []}
    referrals = Referral.objects.all()
    cases = Case.objects.all()
    if child.strip():
        children = _children_matching(child)
        referrals = referrals.filter(child__in=children)
        cases = cases.filter(child__in=children)
    if case.strip():
        wanted = case.strip()
        by_case = Q(reference__iexact=wanted) | (Q(pk=int(wanted)) if wanted.isdigit() else Q())
        matching = Case.objects.filter(by_case)
        cases = cases.filter(pk__in=matching)
        referrals = referrals.filter(case__in=matching)
    if referral.strip():
        wanted = referral.strip().lstrip("#")
        pk = int(wanted) if wanted.isdigit() else 0
        referrals = referrals.filter(pk=pk)
        cases = cases.filter(referrals__pk=pk)
    if person.strip():
        people = _people_matching(person)
        referrals = referrals.filter(
            pk__in=Referral.history.filter(history_user__in=people).values("id")
        )
        cases = cases.filter(
            Q(pk__in=Case.history.filter(history_user__in=people).values("id"))
            | Q(pk__in=CaseTeamMember.history.filter(history_user__in=people).values("case_id"))
        )
    if date_from or date_to:
        dated = Q()
        if date_from:
            dated &= Q(history_date__gte=_start_of(date_from))
        if date_to:
            dated &= Q(history_date__lt=_start_of(date_to + datetime.timedelta(days=1)))
        referrals = referrals.filter(pk__in=Referral.history.filter(dated).values("id"))
        cases = cases.filter(pk__in=Case.history.filter(dated).values("id"))
    return {
        "searched": True,
        "referrals": list(
            referrals.select_related("district", "case").order_by("-pk").distinct()[:SEARCH_LIMIT]
        ),
        "cases": list(cases.select_related("district").order_by("-pk").distinct()[:SEARCH_LIMIT]),
    }


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _children_matching(text: str):
    """By tax code (exactly), or by every word of the name."""
    text = text.strip()
    by_name = Q()
    for word in text.split():
        by_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return Child.objects.filter(Q(tax_code__iexact=text) | by_name).values("pk")


def _people_matching(text: str):
    text = text.strip()
    by_name = Q()
    for word in text.split():
        by_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return get_user_model().objects.filter(Q(username__iexact=text) | by_name).values("pk")
