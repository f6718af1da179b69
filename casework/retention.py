"""Retention: which records are due for the purge, which are held, and the figures kept for
the yearly report after a purge. Reads only; the purge itself is casework.services.purge.

Each rule names a kind of record, the setting that says how long it is kept, and from when
that time runs (docs/operations.md, "Retention and purge"). The records of a municipality's
districts (referrals, cases, helpline contacts) follow their municipality's retention
(Municipality.retention_*_days: the data controller's records schedule); a record of no
municipality, the field's default. The installation's own records (the mailing list, the
access log, the organisation's history) follow the installation's row (ProtocolSettings). A
record under a legal hold — on itself, on its case or one of the case's referrals, on its
child — is never due.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import permissions
from .models import (
    AccessLog,
    Case,
    Child,
    Contact,
    LegalHold,
    Municipality,
    ProtocolSettings,
    PurgeRecord,
    Referral,
    RetainedFigure,
    Subscriber,
)

Rule = PurgeRecord.Rule
Status = Referral.Status


@dataclass(frozen=True)
class RetentionRule:
    code: str
    setting: str  # the field (days): on Municipality if per_municipality, else ProtocolSettings
    counts_from: object  # a translated phrase: from when the time runs
    per_municipality: bool = False

    @property
    def label(self):
        return Rule(self.code).label

    @property
    def model(self):
        return Municipality if self.per_municipality else ProtocolSettings

    @property
    def verbose_name(self):
        return self.model._meta.get_field(self.setting).verbose_name

    def default(self) -> int:
        return int(self.model._meta.get_field(self.setting).default)

    def days(self, municipality=None) -> int:
        """The installation's duration; for a rule per municipality, `municipality`'s (None:
        the records of no municipality, the field's default)."""
        if not self.per_municipality:
            return int(ProtocolSettings.value(self.setting))
        return self.default() if municipality is None else int(getattr(municipality, self.setting))

    def durations(self, using: str = "default") -> dict[int | None, int]:
        """{municipality id: days} in one query; None: the records of no municipality (or,
        for an installation-wide rule, every record)."""
        if not self.per_municipality:
            return {None: self.days()}
        found = dict(Municipality.objects.using(using).values_list("pk", self.setting))
        return {**found, None: self.default()}

    def kept(self) -> list[dict]:
        """What a person reads: [{"who": municipality name or "", "days": n}], one row per
        municipality when they differ, one row (no name) when they all agree."""
        if not self.per_municipality:
            return [{"who": "", "days": self.days()}]
        rows = [
            {"who": name, "days": days}
            for name, days in Municipality.objects.order_by("name").values_list(
                "name", self.setting
            )
        ]
        if not rows or len({row["days"] for row in rows}) == 1:
            return [{"who": "", "days": rows[0]["days"] if rows else self.default()}]
        return rows

    def summary(self, using: str = "default") -> str:
        """Short and unnamed, for a log line or the purge register: "180 days", or the
        range of the municipalities' durations ("90–180 days")."""
        values = set(self.durations(using).values())
        low, high = min(values), max(values)
        return f"{low} days" if low == high else f"{low}–{high} days"


RULES = (
    RetentionRule(Rule.DRAFT, "retention_draft_days", _("its last change"), True),
    RetentionRule(
        Rule.NO_FURTHER_ACTION, "retention_no_further_action_days", _("the decision"), True
    ),
    RetentionRule(Rule.REDIRECTED, "retention_redirected_days", _("the decision"), True),
    RetentionRule(Rule.CLOSED_CASE, "retention_closed_case_days", _("the closure"), True),
    RetentionRule(Rule.CONTACT, "retention_contact_days", _("the contact"), True),
    RetentionRule(Rule.SUBSCRIBER, "retention_subscriber_days", _("leaving the list")),
    RetentionRule(Rule.ACCESS_LOG, "retention_access_log_days", _("the read")),
    RetentionRule(Rule.HISTORY, "retention_history_days", _("the change")),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}

# The models whose history goes with their record (the case file, the helpline's log, the
# holds): the "history" rule leaves their history alone.
CASE_FILE_HISTORY = {
    "referral",
    "informationrequest",
    "case",
    "caseteammember",
    "caseplan",
    "action",
    "review",
    "note",
    "attachment",
    "child",
    "guardian",
    "contact",
    "legalhold",
}


def cutoff(rule: RetentionRule, now: datetime.datetime | None = None) -> datetime.datetime:
    """The one cutoff of an installation-wide rule (a rule per municipality: `past`)."""
    if rule.per_municipality:
        raise ValueError(f"rule {rule.code!r} has a cutoff per municipality: see past()")
    return (now or timezone.now()) - datetime.timedelta(days=rule.days())


def past(rule: RetentionRule, moment: str, *, now=None, using: str = "default") -> Q:
    """The records whose `moment` field is before their municipality's cutoff (through
    their district; no district or no municipality: the default). One condition per distinct
    duration, so one query however many records and municipalities."""
    now = now or timezone.now()
    by_days: dict[int, list] = {}
    for municipality_id, days in rule.durations(using).items():
        by_days.setdefault(days, []).append(municipality_id)
    where = Q(pk__in=[])
    for days, ids in sorted(by_days.items()):
        whose = Q(district__municipality__in=[pk for pk in ids if pk is not None])
        if None in ids:
            whose |= Q(district__municipality__isnull=True)
        limit = now - datetime.timedelta(days=days)
        where |= whose & Q(**{f"{moment}__lt": limit})
    return where


# --- holds -------------------------------------------------------------------------------------


def holds_in_place(kind: str, using: str = "default") -> QuerySet:
    return LegalHold.objects.using(using).filter(kind=kind, lifted_at__isnull=True)


def _held_ids(kind: str, using: str) -> set[int]:
    return set(holds_in_place(kind, using).values_list("object_id", flat=True))


def held_child_ids(using: str = "default") -> set[int]:
    """The children on hold, and every record of the same child (linked at triage)."""
    held = _held_ids(LegalHold.Kind.CHILD, using)
    if not held:
        return set()
    children = Child.objects.using(using)
    subjects = held | set(
        children.filter(pk__in=held, same_as__isnull=False).values_list("same_as_id", flat=True)
    )
    typed = set(children.filter(same_as__in=subjects).values_list("pk", flat=True))
    return subjects | typed


def held_case_ids(using: str = "default") -> set[int]:
    """Cases held themselves, through one of their referrals, or through their child."""
    held = _held_ids(LegalHold.Kind.CASE, using)
    held |= set(
        Referral.objects.using(using)
        .filter(pk__in=_held_ids(LegalHold.Kind.REFERRAL, using), case__isnull=False)
        .values_list("case_id", flat=True)
    )
    held |= set(
        Case.objects.using(using)
        .filter(child__in=held_child_ids(using))
        .values_list("pk", flat=True)
    )
    return held


def is_held(kind: str, object_id: int, using: str = "default") -> bool:
    if kind == LegalHold.Kind.CASE:
        return object_id in held_case_ids(using)
    if kind == LegalHold.Kind.CHILD:
        return object_id in held_child_ids(using)
    if kind == LegalHold.Kind.REFERRAL:
        referral = Referral.objects.using(using).filter(pk=object_id).first()
        if referral is None:
            return False
        return (
            object_id in _held_ids(LegalHold.Kind.REFERRAL, using)
            or referral.child_id in held_child_ids(using)
            or (referral.case_id is not None and referral.case_id in held_case_ids(using))
        )
    return object_id in _held_ids(kind, using)


# --- what the purge would take ------------------------------------------------------------------


def due(rule: RetentionRule, *, now=None, using: str = "default") -> QuerySet:
    """The records of one rule past their retention and not held, oldest first. For the
    access log and the history rule, the rows themselves (see casework.services.purge)."""
    if rule.code in (Rule.DRAFT, Rule.NO_FURTHER_ACTION, Rule.REDIRECTED):
        referrals = Referral.objects.using(using).filter(case__isnull=True)
        if rule.code == Rule.DRAFT:
            referrals = referrals.filter(
                past(rule, "updated_at", now=now, using=using),
                status__in=[Status.DRAFT, Status.AWAITING_VALIDATION],
            )
        else:
            status = (
                Status.NO_FURTHER_ACTION
                if rule.code == Rule.NO_FURTHER_ACTION
                else Status.REDIRECTED
            )
            referrals = referrals.filter(
                past(rule, "decided_at", now=now, using=using), status=status
            )
        return (
            referrals.exclude(pk__in=_held_ids(LegalHold.Kind.REFERRAL, using))
            .exclude(child__in=held_child_ids(using))
            .order_by("pk")
        )
    if rule.code == Rule.CLOSED_CASE:
        return (
            Case.objects.using(using)
            .filter(past(rule, "closed_at", now=now, using=using), status=Case.Status.CLOSED)
            .exclude(pk__in=held_case_ids(using))
            .order_by("pk")
        )
    if rule.code == Rule.CONTACT:
        return (
            Contact.objects.using(using)
            .filter(past(rule, "contacted_at", now=now, using=using))
            .exclude(pk__in=_held_ids(LegalHold.Kind.CONTACT, using))
            .order_by("pk")
        )
    limit = cutoff(rule, now)
    if rule.code == Rule.SUBSCRIBER:
        return (
            Subscriber.objects.using(using)
            .filter(
                Q(unsubscribed_on__lt=limit.date())
                | Q(erased_at__lt=limit)
                | Q(subscribed_on__isnull=True, created_at__lt=limit)
            )
            .order_by("pk")
        )
    if rule.code == Rule.ACCESS_LOG:
        return AccessLog.objects.using(using).filter(at__lt=limit).order_by("pk")
    raise ValueError(f"rule {rule.code!r} has no single queryset: see history_due")


def history_models():
    """The history models of the organisation's records (not the case file's)."""
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
        and hasattr(model, "instance_type")
        and any(field.name == "history_date" for field in model._meta.concrete_fields)
        and model.instance_type._meta.model_name not in CASE_FILE_HISTORY
    ]


def history_due(model, rule: RetentionRule, *, now=None, using: str = "default") -> QuerySet:
    """Older versions past retention: every row before the cutoff but each record's latest —
    unless that latest says the record was deleted (then the whole trail goes)."""
    rows = model.objects.using(using)
    latest = rows.values("id").annotate(last=Max("history_id")).values("last")
    return (
        rows.filter(history_date__lt=cutoff(rule, now))
        .exclude(Q(history_id__in=latest) & ~Q(history_type="-"))
        .order_by("history_id")
    )


# --- the holds a person may see and place --------------------------------------------------------


def hold_target(kind: str, object_id: int):
    """The record a hold is to be placed on, or None."""
    model = {
        LegalHold.Kind.CASE: Case,
        LegalHold.Kind.REFERRAL: Referral,
        LegalHold.Kind.CHILD: Child,
        LegalHold.Kind.CONTACT: Contact,
    }.get(kind)
    if model is None or object_id is None:
        return None
    return model.objects.filter(pk=object_id).first()


def holds_visible(user) -> QuerySet:
    """The holds `user` reads: every hold for the data protection officer (auditor), the
    holds on their districts' records for a supervisor, none for anyone else."""
    holds = LegalHold.objects.select_related("placed_by", "lifted_by", "district")
    if permissions.is_auditor(user):
        return holds
    districts = permissions.district_ids(user, permissions.SUPERVISE)
    if not districts:
        return holds.none()
    return holds.filter(district__in=districts)


# --- the figures a purge keeps -----------------------------------------------------------------


def retained_figures(year: int, districts=None, *, unassigned: bool = True) -> dict:
    """{key: {code: count}} of the figures kept for `year` by the purges, scoped like the
    yearly report (districts None: the whole network; `unassigned`: with no district too)."""
    rows = RetainedFigure.objects.filter(year=year)
    if districts is not None:
        where = Q(district__in=districts)
        if unassigned:
            where |= Q(district__isnull=True)
        rows = rows.filter(where)
    figures: dict[str, dict[str, int]] = {}
    for key, code, n in rows.order_by().values_list("key", "code").annotate(n=Sum("count")):
        figures.setdefault(key, {})[code] = n
    return figures


def purge_register(limit: int = 200) -> list[PurgeRecord]:
    return list(PurgeRecord.objects.all()[:limit])


# --- the data protection officer's outlook ------------------------------------------------------


def outlook(*, now=None, ahead_days: int = 30) -> list[dict]:
    """For each rule: its retention, how many records the next purge would take now, and how
    many more come due within `ahead_days` (held records are in neither). Counts only."""
    now = now or timezone.now()
    later = now + datetime.timedelta(days=ahead_days)
    rows = []
    for rule in RULES:
        if rule.code == Rule.HISTORY:
            due_now = sum(history_due(m, rule, now=now).count() for m in history_models())
            due_later = sum(history_due(m, rule, now=later).count() for m in history_models())
        else:
            due_now = due(rule, now=now).count()
            due_later = due(rule, now=later).count()
        rows.append(
            {
                "rule": rule,
                "kept": rule.kept(),
                "due_now": due_now,
                "due_soon": max(due_later - due_now, 0),
            }
        )
    return rows
