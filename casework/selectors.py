"""Reads: who sees which referrals and cases. One indexed query per list, filtered by the
scopes the user holds (district triage team, school referents, case team, supervisors) —
never a scan of per-record permission rows, never a model-wide permission."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from . import permissions, retention, trails
from .audit import reason_label
from .models import (
    Action,
    Agency,
    Attachment,
    Case,
    CaseTeamMember,
    CaseTransfer,
    Child,
    ConcernCategory,
    Contact,
    District,
    HelplineHours,
    Membership,
    Note,
    Notification,
    ProtocolVersion,
    Referent,
    Referral,
    Service,
)

Status = Referral.Status


def protocol_for(obj=None, *, day: datetime.date | None = None) -> ProtocolVersion:
    """The protocol that governs `obj` — every deadline, review interval, category list and
    wording is read through here. A referral or a case: the version it started under (kept
    when the municipality adopts a new one). A district (or a child, or anything with a
    district): its municipality's version in force on `day` (today). Nothing, or a district
    with no municipality or no version in force: the installation's default (every field at
    its default, ProtocolVersion.fallback)."""
    return ProtocolVersion.objects.for_(obj, day=day)


def districts_by_protocol(
    fields: tuple[str, ...], *, day: datetime.date | None = None
) -> dict[tuple, list[int]]:
    """The districts grouped by the values of `fields` in the protocol each follows on `day`
    (today), as protocol_for(district) reads them: {(value, ...): [district ids]}. One query
    (the version in force a subquery per field), for the sweeps that run over many items:
    they search each group in SQL rather than read the protocol item by item."""
    day = day or timezone.localdate()
    in_force = (
        ProtocolVersion.objects.filter(municipality=OuterRef("municipality"))
        .in_force(day)
        .order_by("-valid_from", "-number")
    )
    annotations = {f"p_{name}": Subquery(in_force.values(name)[:1]) for name in fields}
    default = ProtocolVersion.fallback()
    groups: dict[tuple, list[int]] = {}
    rows = District.objects.order_by("pk").annotate(**annotations)
    for pk, *values in rows.values_list("pk", *annotations):
        key = tuple(
            getattr(default, name) if value is None else value
            for name, value in zip(fields, values, strict=True)
        )
        groups.setdefault(key, []).append(pk)
    return groups


def protocol_categories(protocol) -> tuple[list, list] | None:
    """The concern categories and observed signs a protocol offers on the referral form, as
    (category choices, sign choices); None: the standard lists, all of them."""
    from .indicators import INDICATORS

    chosen = protocol.concern_categories or []
    if not chosen:
        return None
    labels = dict(ConcernCategory.choices)
    sign_labels = {code: label for items in INDICATORS.values() for code, label in items}
    categories = [(c["code"], labels[c["code"]]) for c in chosen if c.get("code") in labels]
    signs = [
        (code, sign_labels[code])
        for c in chosen
        for code in c.get("signs", [])
        if code in sign_labels
    ]
    return categories, signs


def protocol_in_force(municipality, *, day: datetime.date | None = None):
    """The municipality's version in force on `day` (today), or None."""
    return ProtocolVersion.objects.current(municipality.pk, day)


def protocol_versions(municipality) -> QuerySet[ProtocolVersion]:
    return municipality.protocol_versions.select_related("created_by").order_by("-number")


def municipalities_administered(user) -> QuerySet:
    from .models import Municipality

    return Municipality.objects.filter(
        pk__in=permissions.administered_municipality_ids(user)
    ).order_by("name")


def protocol_version_for_admin(user, pk) -> ProtocolVersion | None:
    if not str(pk).isdigit():
        return None
    return (
        ProtocolVersion.objects.filter(
            pk=pk, municipality__in=permissions.administered_municipality_ids(user)
        )
        .select_related("municipality", "created_by")
        .first()
    )


NOT_YET_SENT = [Status.DRAFT, Status.AWAITING_VALIDATION]
QUEUE_STATUSES = [Status.SUBMITTED, Status.IN_TRIAGE, Status.INFORMATION_REQUESTED]


def active_case_ids(user) -> QuerySet:
    """Cases where the user is on the team today (see permissions.team_case_ids)."""
    return permissions.team_case_ids(user)


def cases_needing_a_lead(user) -> QuerySet[Case]:
    """Open cases of the districts the user supervises whose lead worker is no longer on the
    team (their membership ended): the supervisor names a new lead."""
    supervised = permissions.districts_for(user, permissions.SUPERVISE)
    leads_on_team = CaseTeamMember.objects.filter(
        case=OuterRef("pk"),
        user=OuterRef("lead_worker"),
        removed_at__isnull=True,
    )
    return (
        Case.objects.filter(district__in=supervised)
        .exclude(status=Case.Status.CLOSED)
        .exclude(Exists(leads_on_team))
        .select_related("child", "lead_worker")
        .order_by("next_review_at", "pk")
    )


def _visible_arms(user) -> list[QuerySet[Referral]]:
    """One query per scope a referral can be visible through: written by the user, of their
    school once sent on, of their district once submitted, of a case they are on today."""
    triage = permissions.district_ids(user, permissions.TRIAGE)
    schools = permissions.school_ids(user, permissions.SCHOOL_VIEW)
    # A draft its author deleted is in no list and on no page (services.referral_delete_draft).
    kept = Referral.objects.filter(deleted_at__isnull=True)
    arms = [kept.filter(referrer=user)]
    if schools:
        arms.append(kept.filter(school__in=schools).exclude(status=Status.DRAFT))
    if triage:
        arms.append(kept.filter(district__in=triage).exclude(status__in=NOT_YET_SENT))
    arms.append(kept.filter(case__in=active_case_ids(user)))
    return arms


def referrals_visible_to(user) -> QuerySet[Referral]:
    """The referrals the user may see: their own, their school's once sent on, their
    district's once submitted, those of the cases they are on today.

    One indexed query per scope, joined with UNION: an OR of the four over the whole table
    makes PostgreSQL scan every referral (measured at 100 000: docs/performance.md), while
    each arm alone reads its own index (referrer, school, district, case)."""
    if not user.is_authenticated or not user.is_active:
        return Referral.objects.none()
    ids = [arm.order_by().values("pk") for arm in _visible_arms(user)]
    return Referral.objects.filter(pk__in=ids[0].union(*ids[1:]))


def referral_next_steps(referral: Referral) -> dict:
    """What the referrer is told happens after sending: who reads the referral first, by when
    the social team decides (the protocol's deadline for its urgency), how the school hears
    back. For a draft (the confirmation page) it says what will happen."""
    config = protocol_for(referral)
    via_referent = referral.status == Status.AWAITING_VALIDATION or (
        referral.status == Status.DRAFT
        and config.needs_referent_validation(referral.school)
        and not permissions.can_validate(referral.referrer, referral.school)
    )
    period = config.triage_period(referral.urgency)
    return {
        "via_referent": via_referent,
        "district": referral.district,
        "due_at": referral.triage_due_at,
        "information_days": config.information_request_days,
        **period,
    }


NEWEST_FIRST = ("-created_at", "-pk")


def referrals_visible_page(
    user,
    *,
    after=None,
    size: int = 50,
    filters: Callable[[QuerySet[Referral]], QuerySet[Referral]] | None = None,
) -> list[Referral]:
    """The newest `size + 1` visible referrals older than `after` (created_at, pk), for a
    list read page by page: each scope's query reads only its own newest `size + 1` from its
    (scope, created_at) index, so a page costs what it shows whatever the table holds.
    `filters` (a FilterSet's filter_queryset) narrows each scope's query before its limit."""
    if not user.is_authenticated or not user.is_active:
        return []
    arms = _visible_arms(user)
    if filters is not None:
        arms = [filters(arm) for arm in arms]
    if after is not None:
        at, pk = after
        older = Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk)
        arms = [arm.filter(older) for arm in arms]
    if connection.features.supports_slicing_ordering_in_compound:
        ids = [arm.order_by(*NEWEST_FIRST).values("pk")[: size + 1] for arm in arms]
    else:  # SQLite: no LIMIT inside a UNION; the embedded mode's tables are small
        ids = [arm.order_by().values("pk") for arm in arms]
    return list(
        Referral.objects.filter(pk__in=ids[0].union(*ids[1:]))
        .select_related("child", "school")
        .order_by(*NEWEST_FIRST)[: size + 1]
    )


def triage_queue(user) -> QuerySet[Referral]:
    """The district queue: most urgent first, then the nearest deadline."""
    districts = permissions.district_ids(user, permissions.TRIAGE)
    return (
        Referral.objects.filter(district__in=districts, status__in=QUEUE_STATUSES)
        .select_related("school", "child", "claimed_by", "district")
        .order_by("urgency_rank", "triage_due_at", "pk")
    )


def counted_page(queryset: QuerySet, number, per_page: int):
    """`Paginator(queryset, per_page).get_page(number)` in one query instead of two: the
    rows of the page with the count of the whole list beside each of them (`COUNT(*) OVER
    ()`, computed before the LIMIT). A page past the end, or a number that is not one, falls
    back to the paginator's own answer (the last page, the first)."""
    from django.core.paginator import Page, Paginator
    from django.db.models import Window

    paginator = Paginator(queryset, per_page)
    try:
        wanted = int(number) if number not in (None, "") else 1
    except (TypeError, ValueError):
        wanted = 1
    if wanted < 1:
        return paginator.get_page(number)
    start = (wanted - 1) * per_page
    rows = list(queryset.annotate(_list_count=Window(Count("pk")))[start : start + per_page])
    if not rows and wanted > 1:
        return paginator.get_page(number)
    paginator.count = rows[0]._list_count if rows else 0  # a cached_property: set, not asked
    return Page(rows, wanted, paginator)


@dataclass(frozen=True)
class QueueRow:
    """One line of the triage queue, everything the template prints worked out here (the
    template loops once, with no include per row)."""

    pk: int
    url: str
    child: str
    named: bool
    age: int
    school: str
    concerns: list[str]
    urgency: str
    urgency_label: str
    due: datetime.datetime | None
    time_left: str
    overdue: bool
    status: str
    claimed_by: str


def child_initials(first_name: str, last_name: str) -> str:
    """“L. B.” for Luca Bruno: enough to tell two rows apart, not to identify the child."""
    parts = [*first_name.split(), *last_name.split()]
    return " ".join(f"{part[0].upper()}." for part in parts if part)


def time_left(due: datetime.datetime | None, now: datetime.datetime) -> str:
    """“3 days left”, “5 hours left”, “overdue by 2 days”: the deadline as a triage worker
    reads it at a glance."""
    if due is None:
        return ""
    delta = due - now
    seconds = abs(delta.total_seconds())
    days, hours = int(seconds // 86400), int(seconds // 3600)
    if days >= 1:
        amount = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    elif hours >= 1:
        amount = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    else:
        minutes = max(int(seconds // 60), 1)
        amount = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    if delta.total_seconds() < 0:
        return gettext("overdue by %(time)s") % {"time": amount}
    return gettext("%(time)s left") % {"time": amount}


def queue_rows(referrals, *, user, now: datetime.datetime) -> list[QueueRow]:
    """The queue's rows for `user`: the child's full name where their role allows
    (permissions.queue_name_checker), initials otherwise. Reads nothing per row: the queue's
    queryset brings the child, the school and the claimer along (two queries for the rule)."""
    shows_name = permissions.queue_name_checker(user)
    waiting = {Status.SUBMITTED, Status.IN_TRIAGE}
    # The labels in the request's language, once for the whole list (what get_FOO_display
    # and concern_labels give: asking them per row hashed every choice for every line).
    urgency_labels = _labels(Referral._meta.get_field("urgency").flatchoices)
    status_labels = _labels(Referral._meta.get_field("status").flatchoices)
    concern_labels = _labels(ConcernCategory.choices)
    rows = []
    for r in referrals:
        named = shows_name(r)
        child = r.child
        claimer = r.claimed_by
        overdue = r.triage_due_at is not None and r.status in waiting and r.triage_due_at < now
        rows.append(
            QueueRow(
                pk=r.pk,
                url=r.get_absolute_url(),
                child=str(r.child)
                if named
                else child_initials(r.child.first_name, r.child.last_name),
                named=named,
                age=child.age,
                school=r.school.name,
                concerns=[concern_labels.get(code, code) for code in r.concern_categories],
                urgency=r.urgency,
                urgency_label=urgency_labels.get(r.urgency, r.urgency),
                due=r.triage_due_at,
                time_left=time_left(r.triage_due_at, now) if r.status in waiting else "",
                overdue=overdue,
                status=status_labels.get(r.status, r.status),
                claimed_by=(claimer.get_full_name() or claimer.username) if claimer else "",
            )
        )
    return rows


def _labels(choices) -> dict:
    return {value: str(label) for value, label in choices}


def referral_dossier(referral: Referral) -> dict:
    """What the decision page shows beside the form: the whole referral as the referrer wrote
    it (the indicators by their labels, the child's guardians, the documents) and the
    child's earlier referrals, newest first. The referral itself is read by the caller."""
    from .indicators import label

    # The same child: the record it was typed as, or, once linked, every record of the known
    # child (matching at triage).
    subject = referral.child.same_as_id or referral.child_id
    earlier = (
        Referral.objects.filter(Q(child_id=subject) | Q(child__same_as_id=subject))
        .exclude(pk=referral.pk)
        .exclude(status__in=NOT_YET_SENT)
        .select_related("school", "case")
        .order_by("-submitted_at", "-pk")
    )
    return {
        "indicator_labels": [label(code) for code in referral.indicators],
        "guardians": list(referral.child.guardians.order_by("pk")),
        "attachments": list(referral.attachments.order_by("uploaded_at", "pk")),
        "earlier_referrals": list(earlier),
    }


def cases_visible_to(user) -> QuerySet[Case]:
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    supervised = permissions.district_ids(user, permissions.SUPERVISE)
    return Case.objects.filter(Q(pk__in=active_case_ids(user)) | Q(district__in=supervised))


# --- transfers -----------------------------------------------------------------------------


def transfers_visible_to(user) -> QuerySet[CaseTransfer]:
    """The transfer records the user may read (permissions.reads_transfer), as one indexed
    query: those coming to or leaving a district they supervise, those they asked for, and
    those of the cases they lead."""
    if not permissions.is_active(user):
        return CaseTransfer.objects.none()
    supervised = permissions.district_ids(user, permissions.SUPERVISE)
    led = Case.objects.filter(lead_worker=user, pk__in=active_case_ids(user)).values("pk")
    return CaseTransfer.objects.filter(
        Q(to_district__in=supervised)
        | Q(from_district__in=supervised)
        | Q(requested_by=user)
        | Q(case__in=led)
    ).select_related(
        "case", "from_district", "to_district", "from_lead", "to_lead", "requested_by", "decided_by"
    )


def transfers_awaiting(user) -> QuerySet[CaseTransfer]:
    """Transfers waiting for this supervisor's answer (coming to a district they supervise)."""
    supervised = permissions.district_ids(user, permissions.SUPERVISE)
    return transfers_visible_to(user).filter(
        status=CaseTransfer.Status.REQUESTED, to_district__in=supervised
    )


def transfer_for(user, pk) -> CaseTransfer | None:
    if not str(pk).isdigit():
        return None
    return transfers_visible_to(user).filter(pk=pk).first()


def case_transfers(case: Case) -> QuerySet[CaseTransfer]:
    return case.transfers.select_related(
        "from_district", "to_district", "from_lead", "to_lead", "requested_by", "decided_by"
    )


def transfer_summary(transfer: CaseTransfer) -> dict:
    """What the receiving supervisor reads before deciding: enough to know whom they take
    over and what is under way — no notes, documents or review minutes."""
    case = transfer.case
    return {
        "child": case.child,
        "risk_level": case.get_risk_level_display(),
        "opened_at": case.opened_at,
        "next_review_at": case.next_review_at,
        "open_actions": case.plan.actions.filter(
            status__in=[Action.Status.PLANNED, Action.Status.IN_PROGRESS]
        ).count(),
        "team_size": case.team.filter(removed_at__isnull=True).count(),
    }


def case_handovers(case: Case):
    return case.handovers.select_related("to_school", "from_school", "sent_by", "acknowledged_by")


def handovers_received(user):
    """The hand-overs sent to the schools whose referent the user is."""
    from .models import HandOver

    return HandOver.objects.filter(
        to_school__in=permissions.school_ids(user, permissions.SCHOOL_VALIDATE)
    ).select_related("case__child", "case__lead_worker", "to_school", "from_school", "sent_by")


def handover_for_school(user, pk):
    if not str(pk).isdigit():
        return None
    return handovers_received(user).filter(pk=pk).first()


def receiving_schools():
    """The schools a hand-over may go to (any school of the network)."""
    return (
        Agency.objects.filter(kind=Agency.Kind.SCHOOL).select_related("district").order_by("name")
    )


def transfer_districts(case: Case) -> QuerySet[District]:
    """The districts a case may be moved to: every other one."""
    return District.objects.exclude(pk=case.district_id).order_by("name")


def district_lead_candidates(district: District) -> QuerySet:
    """Who may lead a case of `district`: the active members of its triage team (social
    workers, triage coordinators, supervisors)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__active=True,
            memberships__agency__district=district,
            memberships__role__in=[
                *permissions.TRIAGE_ROLES,
                Membership.Role.SUPERVISOR,
            ],
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def services_directory(
    *,
    district=None,
    kind=None,
    age=None,
    q=None,
    entry_type=None,
    neighbourhood=None,
    today: datetime.date | None = None,
) -> QuerySet[Service]:
    """The directory as families and workers read it: active entries, initiatives not yet
    over (an initiative whose end date has passed drops out by itself)."""
    today = today or timezone.localdate()
    over = Q(ends_on__lt=today) | Q(
        recurrence=Service.Recurrence.ONE_OFF, ends_on__isnull=True, starts_on__lt=today
    )
    services = (
        Service.objects.filter(active=True).exclude(over).select_related("district", "agency")
    )
    if district:
        services = services.filter(
            Q(district__code=district)
            | Q(district__pk__in=[int(district)] if str(district).isdigit() else [])
        )
    if kind:
        services = services.filter(kind=kind)
    if entry_type:
        services = services.filter(entry_type=entry_type)
    if neighbourhood:
        services = services.filter(neighbourhood=neighbourhood)
    if age is not None:
        services = services.filter(min_age__lte=age, max_age__gte=age)
    if q:
        services = services.filter(
            Q(name__icontains=q) | Q(description__icontains=q) | Q(neighbourhood__icontains=q)
        )
    return services.order_by("name")


def neighbourhoods() -> list[str]:
    return list(
        Service.objects.filter(active=True)
        .exclude(neighbourhood="")
        .order_by("neighbourhood")
        .values_list("neighbourhood", flat=True)
        .distinct()
    )


def directory_kept_by(user) -> QuerySet[Service]:
    """Every entry (past and withdrawn ones too) of the districts whose directory `user`
    keeps: the coordinators' working list."""
    districts = permissions.district_ids(user, permissions.KEEP_DIRECTORY)
    return (
        Service.objects.filter(district__in=districts)
        .select_related("district", "agency")
        .order_by("district__name", "name")
    )


def directory_entry_for_keeper(user, pk: int) -> Service | None:
    return directory_kept_by(user).filter(pk=pk).first()


def directory_export(*, district: str | None = None) -> QuerySet[Service]:
    """What the HSDS export holds: every entry, withdrawn ones marked inactive."""
    services = Service.objects.select_related("district", "agency__district")
    if district:
        services = services.filter(district__code=district)
    return services.order_by("district__code", "name")


def directory_agencies(user) -> QuerySet[Agency]:
    """The agencies a coordinator may name as running an entry: those of their districts."""
    districts = permissions.district_ids(user, permissions.KEEP_DIRECTORY)
    return Agency.objects.filter(district__in=districts).order_by("name")


# --- who to call ------------------------------------------------------------------------------


def referents(*, district=None, agency=None, school=None, topic=None, q=None) -> QuerySet[Referent]:
    """The network's map of referents (active ones). With `school`: that school's own
    referents and the other agencies' referents for that school or for every school of its
    district."""
    rows = Referent.objects.filter(active=True).select_related(
        "agency", "agency__district", "school"
    )
    if school is not None:
        rows = rows.filter(
            Q(agency=school)
            | Q(school=school)
            | Q(school__isnull=True, agency__district_id=school.district_id)
        )
    if district:
        rows = rows.filter(
            Q(agency__district__code=district)
            | Q(agency__district__pk__in=[int(district)] if str(district).isdigit() else [])
        )
    if agency is not None:
        rows = rows.filter(agency=agency)
    if topic:
        rows = rows.filter(topic=topic)
    if q:
        rows = rows.filter(
            Q(name__icontains=q) | Q(agency__name__icontains=q) | Q(school__name__icontains=q)
        )
    return rows.order_by("agency__name", "topic", "name")


def referents_kept_by(user) -> QuerySet[Referent]:
    """Every referent (withdrawn ones too) of the agencies whose referents `user` keeps."""
    return (
        Referent.objects.filter(agency__in=permissions.referent_agency_ids(user))
        .select_related("agency", "school")
        .order_by("agency__name", "topic", "name")
    )


def referent_agencies(user) -> QuerySet[Agency]:
    return Agency.objects.filter(pk__in=permissions.referent_agency_ids(user)).order_by("name")


def schools(district_ids=None) -> QuerySet[Agency]:
    rows = Agency.objects.filter(kind=Agency.Kind.SCHOOL)
    if district_ids is not None:
        rows = rows.filter(district__in=district_ids)
    return rows.order_by("name")


# --- the helpline desk ------------------------------------------------------------------------


def helpline_hours() -> list[HelplineHours]:
    return list(HelplineHours.objects.order_by("weekday", "opens_at"))


def helpline_is_open(at: datetime.datetime, hours: list[HelplineHours] | None = None) -> bool:
    """Whether `at` (an aware time, read in the installation's time zone) falls within one
    of the helpline's openings."""
    local = timezone.localtime(at)
    moment = local.time()
    return any(
        opening.weekday == local.weekday() and opening.opens_at <= moment < opening.closes_at
        for opening in (helpline_hours() if hours is None else hours)
    )


def contacts_for(user, limit: int | None = 50) -> QuerySet[Contact]:
    """The contact log `user` reads: the helpline operators every contact; a district's
    supervisors their districts' contacts and those with no district (a family that did not
    say where it lives is nobody's district but still the network's)."""
    rows = Contact.objects.select_related("district").prefetch_related("services")
    if permissions.can_log_contacts(user):
        return rows[:limit]
    supervised = permissions.district_ids(user, permissions.SUPERVISE)
    if not supervised:
        return rows.none()
    return rows.filter(Q(district__in=supervised) | Q(district__isnull=True))[:limit]


# --- who the child is: matching at triage ------------------------------------------------------


def child_identity(referral: Referral) -> dict:
    """Who the referral's child is, for the triage team (the decision page and the API's
    matches alike): the record as typed, whether it is still unchecked, and while it is the
    possible matches among the children the district's team knows (child_matches)."""
    child = referral.child
    unchecked = child.identity == Child.Identity.AS_TYPED
    return {
        "child": child,
        "unchecked": unchecked,
        "matches": child_matches(referral) if unchecked else [],
    }


def child_matches(referral: Referral, *, limit: int = 10) -> list[dict]:
    """The children the district's social team already knows who may be the child of this
    referral, with what matched and their cases and recent referrals. Read by the triage team
    only (never on the referrer's side): records of the referral's district that are not
    themselves linked to another, matched by tax code, or by surname and date of birth, or by
    full name. Strongest match first."""
    typed = referral.child
    first, last = typed.first_name.strip(), typed.last_name.strip()
    by = Q(last_name__iexact=last, date_of_birth=typed.date_of_birth) | Q(
        first_name__iexact=first, last_name__iexact=last
    )
    if typed.tax_code:
        by |= Q(tax_code=typed.tax_code)
    found = list(
        Child.objects.filter(by, district=referral.district, same_as__isnull=True)
        .exclude(pk=typed.pk)
        .order_by("-created_at", "-pk")[: limit * 3]
    )
    matches = []
    for child in found:
        matched = []
        if typed.tax_code and child.tax_code == typed.tax_code:
            matched.append("tax_code")
        if child.first_name.casefold() == first.casefold():
            matched.append("first_name")
        if child.last_name.casefold() == last.casefold():
            matched.append("last_name")
        if child.date_of_birth == typed.date_of_birth:
            matched.append("date_of_birth")
        matches.append({"child": child, "matched": matched})
    matches.sort(key=lambda m: ("tax_code" not in m["matched"], -len(m["matched"])))
    matches = matches[:limit]
    _attach_child_records([m["child"] for m in matches], referral)
    return matches


def _attach_child_records(children: list, referral: Referral) -> None:
    """Each child's cases and recent referrals in the referral's district (two queries)."""
    ids = [c.pk for c in children]
    cases, referrals = {}, {}
    for case in Case.objects.filter(child__in=ids, district=referral.district).order_by(
        "-opened_at"
    ):
        cases.setdefault(case.child_id, []).append(case)
    since = timezone.now() - datetime.timedelta(days=730)
    recent = (
        Referral.objects.filter(
            Q(child__in=ids) | Q(child__same_as__in=ids),
            district=referral.district,
            submitted_at__gte=since,
        )
        .exclude(pk=referral.pk)
        .exclude(status__in=NOT_YET_SENT)
        .select_related("child", "school")
        .order_by("-submitted_at")
    )
    for other in recent:
        referrals.setdefault(other.child.same_as_id or other.child_id, []).append(other)
    for child in children:
        child.match_cases = cases.get(child.pk, [])
        child.match_referrals = referrals.get(child.pk, [])


def child_may_be_linked(referral: Referral, child_id: int) -> Child | None:
    """The known child `child_id` if it is one of the referral's possible matches."""
    return next((m["child"] for m in child_matches(referral) if m["child"].pk == child_id), None)


def queue_schools(user) -> QuerySet[Agency]:
    """The schools of the districts the user triages: the choices of the queue's school filter."""
    return Agency.objects.filter(
        kind=Agency.Kind.SCHOOL, district__in=permissions.district_ids(user, permissions.TRIAGE)
    ).order_by("name")


@dataclass(frozen=True)
class SchoolChoice:
    pk: int
    name: str


def queue_school_choices(user) -> list[SchoolChoice]:
    """`queue_schools(user)` as the filter's choices (pk and name, the same order), read with
    one plain statement: the ORM would compile the same SQL again at every request."""
    ids = permissions.district_ids(user, permissions.TRIAGE)
    if not ids:
        return []
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT {quote('id')}, {quote('name')} FROM {quote(Agency._meta.db_table)} "  # noqa: S608 - names from _meta, values bound
        f"WHERE {quote('kind')} = %s AND {quote('district_id')} IN ({marks}) "
        f"ORDER BY {quote('name')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [Agency.Kind.SCHOOL, *ids])
        return [SchoolChoice(pk, name) for pk, name in cursor.fetchall()]


def unread_count(user) -> int:
    """How many of the user's notifications are unread (the menu's badge): the count
    `Notification.objects.filter(recipient=user, read_at__isnull=True).count()` gives, in
    one plain statement written once."""
    quote = connection.ops.quote_name
    sql = _UNREAD.get(connection.vendor)
    if sql is None:
        sql = _UNREAD[connection.vendor] = (
            f"SELECT COUNT(*) FROM {quote(Notification._meta.db_table)} "  # noqa: S608 - names from _meta, values bound
            f"WHERE {quote('recipient_id')} = %s AND {quote('read_at')} IS NULL"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])
        return cursor.fetchone()[0]


_UNREAD: dict = {}


def districts() -> QuerySet[District]:
    return District.objects.order_by("name")


def contacts_of_the_day(*, now) -> QuerySet[Contact]:
    """The helpline's contacts since midnight (every operator's: they share the line)."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        Contact.objects.filter(contacted_at__gte=midnight, contacted_at__lte=now)
        .select_related("district", "operator")
        .prefetch_related("services")
        .order_by("-contacted_at", "-pk")
    )


def notifications_for(user, limit: int = 100) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("referral", "case")[:limit]


def user_notifications(user, *, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notifications, newest first (the API pages through them)."""
    rows = Notification.objects.filter(recipient=user)
    if unread is not None:
        rows = rows.filter(read_at__isnull=unread)
    return rows.order_by("-created_at", "-pk")


def user_notification(user, pk) -> Notification | None:
    return Notification.objects.filter(recipient=user, pk=pk).first()


def case_notes(case: Case) -> QuerySet[Note]:
    return case.notes.select_related("author").order_by("created_at", "pk")


def attachments_of(*, case: Case | None = None, referral: Referral | None = None):
    """The documents attached to a case or to a referral, oldest first."""
    owner = {"case": case} if case is not None else {"referral": referral}
    return (
        Attachment.objects.filter(**owner)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "pk")
    )


def attachment_for(user, pk) -> Attachment | None:
    """A document the user may read: one of a case they see, or of a referral they see."""
    attachment = Attachment.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if attachment is None:
        return None
    if attachment.case_id:
        visible = cases_visible_to(user).filter(pk=attachment.case_id)
    else:
        visible = referrals_visible_to(user).filter(pk=attachment.referral_id)
    return attachment if visible.exists() else None


# --- who may be chosen: the candidates of the forms and of the API's inputs -------------------
# One queryset per choice, used by casework/forms.py and casework/api/serializers.py alike, so
# that the page and the API accept and refuse the same people. The services check again.


def lead_worker_candidates(referral: Referral) -> QuerySet:
    """Who may lead the case a referral opens: the active members of its district's triage
    team (social workers and triage coordinators)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups=permissions.district_triage_group(referral.district))
        .filter(api_client__isnull=True)  # an agency system's service user is nobody to name
        .order_by("last_name", "pk")
    )


def team_candidates(case: Case | None = None, *, any_district: bool = False) -> QuerySet:
    """Who may join a case team: the active members of the agencies of the case's district,
    by full name (the service then checks that they work for the agency they are added for).
    Professionals of other districts only where `any_district` (the district supervisor)."""
    working = {"memberships__active": True}
    if case is not None and not any_district:
        working["memberships__agency__district"] = case.district_id
    return (
        get_user_model()
        .objects.filter(is_active=True, api_client__isnull=True, **working)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def action_owner_candidates(case: Case | None = None) -> QuerySet:
    """Who may be responsible for an action of the case: the active members of the agencies
    of the case's district and the case's team, by full name."""
    people = get_user_model().objects.filter(is_active=True, api_client__isnull=True)
    if case is None:
        return people.order_by("last_name", "first_name", "pk")
    in_district = Membership.objects.filter(
        user=OuterRef("pk"), active=True, agency__district=case.district_id
    )
    on_team = CaseTeamMember.objects.filter(user=OuterRef("pk"), case=case, removed_at__isnull=True)
    return people.filter(Exists(in_district) | Exists(on_team)).order_by(
        "last_name", "first_name", "pk"
    )


def agencies(district=None) -> QuerySet[Agency]:
    """The agencies, or those of one district."""
    found = Agency.objects.all() if district is None else Agency.objects.filter(district=district)
    return found.order_by("name", "pk")


# --- the home page ----------------------------------------------------------------------------


def roles_of(user) -> set[str]:
    return permissions.roles_of(user)


def home_board(user, *, now) -> dict:
    """Everything the home page lists for the user, by the hats they wear: their referrals
    (referrers), the queue's counts (triage), their cases, the district's board (supervisors).
    A section the user has no part in is absent from the result; the lists are read here."""
    board: dict = {"roles": roles_of(user)}
    if board["roles"] & {Membership.Role.TEACHER, Membership.Role.SCHOOL_REFERENT}:
        own = (
            Referral.objects.filter(referrer=user, deleted_at__isnull=True)
            .select_related("child")
            .order_by("-updated_at")
        )
        board["drafts"] = list(own.filter(status=Status.DRAFT))
        board["waiting_for_me"] = list(own.filter(status=Status.INFORMATION_REQUESTED))
        board["sent"] = list(
            own.exclude(status__in=[Status.DRAFT, Status.INFORMATION_REQUESTED])[:20]
        )
        if permissions.school_ids(user):
            board["to_validate"] = list(
                referrals_visible_to(user)
                .filter(status=Status.AWAITING_VALIDATION)
                .select_related("child", "referrer")
            )
    if permissions.district_ids(user):
        queue = triage_queue(user)
        board["queue_counts"] = {
            row["urgency"]: row["n"]
            for row in queue.order_by().values("urgency").annotate(n=Count("pk"))
        }
        board["queue_total"] = sum(board["queue_counts"].values())
        board["queue_overdue"] = queue.filter(triage_due_at__lt=now).count()
        board["my_claimed"] = list(queue.filter(claimed_by=user))
    my_cases = (
        cases_visible_to(user)
        .filter(pk__in=active_case_ids(user))
        .exclude(status=Case.Status.CLOSED)
        .select_related("child")
        .order_by("next_review_at")
    )
    if my_cases.exists():
        board["my_cases"] = list(my_cases)
        board["actions_due"] = list(
            Action.objects.filter(owner=user, status__in=["planned", "in_progress"])
            .filter(due_date__lte=timezone.localdate() + datetime.timedelta(days=14))
            .select_related("plan__case")
            .order_by("due_date")
        )
        board["reviews_soon"] = list(
            my_cases.filter(next_review_at__lte=now + datetime.timedelta(days=14))
        )
    if permissions.can_log_contacts(user):
        board["helpline_today"] = list(contacts_of_the_day(now=now))
    if permissions.is_auditor(user):
        board["auditor"] = True
    supervised = permissions.district_ids(user, permissions.SUPERVISE)
    if supervised:
        district_referrals = Referral.objects.filter(district__in=supervised)
        board["supervisor"] = {
            "overdue": list(
                district_referrals.filter(status__in=QUEUE_STATUSES[:2], triage_due_at__lt=now)
                .select_related("school")
                .order_by("triage_due_at")
            ),
            "escalations": list(escalations_for(user, now=now)),
            "closures": list(
                Case.objects.filter(
                    district__in=supervised, status=Case.Status.CLOSURE_REQUESTED
                ).select_related("lead_worker", "child")
            ),
            "needs_lead": list(cases_needing_a_lead(user)),
        }
    return board


def escalations_for(user, *, now, days: int = 30) -> QuerySet[Referral]:
    """The referrals escalated (to the court, the police) in the last `days` days in the
    districts `user` supervises, the latest first; none for anyone else."""
    supervised = permissions.district_ids(user, permissions.SUPERVISE)
    return (
        Referral.objects.filter(
            district__in=supervised,
            status=Referral.Status.ESCALATED,
            decided_at__gte=now - datetime.timedelta(days=days),
        )
        .select_related("child", "school")
        .order_by("-decided_at", "-pk")
    )


def home_board_reads(board: dict) -> tuple[set[int], set[int]]:
    """(referral ids, case ids) the home page shows: each one shown is a read, to be logged."""
    referrals = [
        r
        for key in ("drafts", "waiting_for_me", "sent", "to_validate", "my_claimed")
        for r in board.get(key, ())
    ]
    cases = [*board.get("my_cases", ()), *board.get("reviews_soon", ())]
    cases += [action.plan.case for action in board.get("actions_due", ())]
    if board.get("supervisor"):
        referrals += board["supervisor"]["overdue"] + board["supervisor"]["escalations"]
        cases += board["supervisor"]["closures"] + board["supervisor"]["needs_lead"]
    return {r.pk for r in referrals}, {c.pk for c in cases}


# --- several lists in one query ------------------------------------------------------------


def read_together(querysets: dict[str, QuerySet]) -> dict[str, list]:
    """Each queryset's records, as evaluating it gives them (Django's own SQL for it, its
    `select_related` records, its order, built by Django's own `ModelIterable`), all read in
    ONE query: each queryset's SQL as a common table expression, ranked by a `ROW_NUMBER()`
    over its ordering, then one `UNION ALL` arm per queryset. The arms' columns share slots
    by database type (NULL in the arms that do not use a slot), so a row stays narrow. For
    pages that show many short lists (issue 17: the case page).

    Supported: filters, exclusions, subqueries, `select_related`, ordering (the queryset's or
    the model's), `distinct()` (read as `pk__in`). Not: `values`, slicing, `distinct(fields)`,
    annotations (refused)."""
    results: dict[str, list] = {name: [] for name in querysets}
    arms = []
    for name, queryset in querysets.items():
        if queryset.query.is_empty():
            continue
        arm = _ranked(queryset)
        compiler = arm.query.get_compiler(using=arm.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            continue
        arms.append((name, arm, compiler, sql, params))
    if not arms:
        return results
    db = arms[0][1].db
    conn = connections[db]
    # Slots: per database type, as many as the arm with the most columns of that type.
    kinds = [
        [_slot_kind(expression.output_field, conn) for expression, _sql, _alias in compiler.select]
        for _name, _arm, compiler, _sql, _params in arms
    ]
    width: dict[str, int] = {}
    for arm_kinds in kinds:
        for kind in set(arm_kinds):
            width[kind] = max(width.get(kind, 0), arm_kinds.count(kind))
    offsets, size = {}, 0
    for kind, count in width.items():
        offsets[kind] = size
        size += count
    ctes, selects, all_params, layouts = [], [], [], []
    for number, ((_name, _arm, _compiler, sql, params), arm_kinds) in enumerate(
        zip(arms, kinds, strict=True)
    ):
        used: dict[str, int] = {}
        layout = []
        for kind in arm_kinds:
            layout.append(offsets[kind] + used.get(kind, 0))
            used[kind] = used.get(kind, 0) + 1
        layouts.append(layout)
        columns = ", ".join(f"c{i}" for i in range(len(layout)))
        ctes.append(f"cw{number}({columns}) AS ({sql})")
        all_params.extend(params)
        by_slot = {slot: f"c{i}" for i, slot in enumerate(layout)}
        slot_kinds = [kind for kind, count in width.items() for _i in range(count)]
        cells = [by_slot.get(slot) or _null(slot_kinds[slot], conn) for slot in range(size)]
        selects.append(f"SELECT {number}, {', '.join(cells)} FROM cw{number}")  # noqa: S608
    if conn.vendor == "sqlite":
        # SQLite's driver converts a compound's values by the declared types of its first
        # arm's columns (a date read as a yes/no): a first arm of bare NULLs declares none,
        # and Django's converters then take every value as it is stored.
        selects.insert(0, f"SELECT -1{', NULL' * size} WHERE 0")
    sql = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects)  # noqa: S608
    rows: dict[int, list] = {}
    with conn.cursor() as cursor:
        cursor.execute(sql, all_params)
        for row in cursor.fetchall():
            rows.setdefault(row[0], []).append(row)
    for number, ((name, arm, compiler, _sql, _params), layout) in enumerate(
        zip(arms, layouts, strict=True)
    ):
        mine = [tuple(row[1 + slot] for slot in layout) for row in rows.get(number, ())]
        # Django builds the records from these rows as from its own query's.
        compiler.execute_sql = lambda *args, _rows=mine, **kwargs: [_rows]
        arm.query.get_compiler = lambda *args, _compiler=compiler, **kwargs: _compiler
        records = sorted(ModelIterable(arm), key=lambda record: record.cw_rank)
        for record in records:
            del record.cw_rank
        results[name] = records
    return results


def _ranked(queryset: QuerySet) -> QuerySet:
    """The queryset without its ORDER BY, its order kept as a rank (`cw_rank`)."""
    query = queryset.query
    if (
        query.annotations
        or query.values_select
        or query.low_mark
        or query.high_mark is not None
        or query.distinct_fields
        or queryset._iterable_class is not ModelIterable
    ):
        raise ValueError("read_together: a plain queryset of records, please")
    if query.order_by:
        ordering = list(query.order_by)
    elif query.default_ordering:
        ordering = list(queryset.model._meta.ordering)
    else:
        ordering = []
    base = queryset
    if query.distinct:
        base = queryset.model._base_manager.filter(
            pk__in=queryset.order_by().values("pk")
        ).select_related(*_related_paths(query.select_related))
        base._known_related_objects = queryset._known_related_objects
    return base.order_by().annotate(cw_rank=Window(RowNumber(), order_by=[*ordering, "pk"]))


def _related_paths(tree, prefix="") -> list[str]:
    if tree is True:
        raise ValueError("read_together: select_related() without names")
    paths = []
    for name, subtree in (tree or {}).items():
        paths.append(prefix + name)
        paths.extend(_related_paths(subtree, prefix + name + "__"))
    return paths


def _slot_kind(field, conn) -> str:
    """The column's type in the database, without its length (a slot holds one type)."""
    return re.sub(r"\(.*\)", "", field.cast_db_type(conn) or field.get_internal_type())


def _null(kind: str, conn) -> str:
    return "NULL" if conn.vendor == "sqlite" else f"CAST(NULL AS {kind})"


# --- one case's page --------------------------------------------------------------------------


def case_team(case: Case) -> QuerySet[CaseTeamMember]:
    """The team today: the members not removed."""
    return case.team.filter(removed_at__isnull=True).select_related("user", "agency")


def closure_proposal(case: Case):
    """The review at which the closure now awaiting the supervisor was proposed (or None)."""
    from .models import Review

    return (
        Review.objects.filter(case=case, decision=Review.Decision.CLOSE)
        .select_related("recorded_by")
        .order_by("-held_on", "-pk")
        .first()
    )


def case_actions(case: Case) -> list[Action]:
    return list(case.plan.actions.select_related("owning_agency", "owner"))


def history_rows(*historical_querysets, values: bool = True) -> list[dict]:
    """The audit trail of one or more records as rows, oldest first: who, when, what changed,
    and why (the reason code and its translated label). A creation lists the values it set; a
    change lists each field's before and after. With `values=False` (the auditor's view) the
    rows name the fields that changed and carry none of their values. The keys starting with
    an underscore keep the raw values for trails.describe (the words for people)."""
    return _history_rows_of(
        [
            list(queryset.select_related("history_user").order_by("history_id"))
            for queryset in historical_querysets
        ],
        values=values,
    )


def _history_rows_of(record_lists, *, values: bool = True) -> list[dict]:
    """history_rows of records already read: one list per history table, each in the order
    of its `history_id`."""
    rows = []
    for records in record_lists:
        previous = {}
        for record in records:
            model = record.instance_type
            fields = {f.name: f for f in model._meta.concrete_fields}
            before = previous.get(record.id)
            if before is None:
                raw = [
                    (f.name, None, getattr(record, f.attname))
                    for f in model._meta.concrete_fields
                    if getattr(record, f.attname) not in (None, "", [], {}) and f.name != "id"
                ]
            else:
                raw = _field_changes(record, before)
            previous[record.id] = record
            changes = [
                {
                    "field": name,
                    "old": _text(old) if values else None,
                    "new": _text(new) if values else None,
                    "shown": values,
                    "_field": fields.get(name),
                    "_old": old if values else None,
                    "_new": new if values else None,
                }
                for name, old, new in raw
            ]
            rows.append(
                {
                    "object": model._meta.model_name,
                    "object_id": record.id,
                    "at": record.history_date,
                    "actor": record.history_user.username if record.history_user else None,
                    "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
                    "reason": record.history_change_reason,
                    "label": reason_label(record.history_change_reason),
                    "changes": changes,
                    "kind": trails.kind_of(model),
                    "_model": model,
                    "_actor": record.history_user,
                }
            )
    rows.sort(key=lambda row: (row["at"], row["object"], row["object_id"]))
    return rows


@functools.cache
def _history(model):
    """`model.history`, kept: simple-history builds a new manager class at every access of
    the attribute (a tenth of the case page's chronology)."""
    return model.history


@functools.cache
def _diffed_fields(historical_model) -> list[tuple[str, str]]:
    """(name, attname) of the fields simple-history's `diff_against` compares, by name."""
    m2m = {f.name for f in historical_model._history_m2m_fields}
    names = {f.name for f in historical_model.tracked_fields if f.editable} - m2m
    return [(name, historical_model._meta.get_field(name).attname) for name in sorted(names)]


def _field_changes(record, before) -> list[tuple]:
    """`record.diff_against(before)` as (field, old, new), compared attribute by attribute
    (the same fields, values and order, without its two `model_to_dict` per record)."""
    if record._history_m2m_fields:
        return [(c.field, c.old, c.new) for c in record.diff_against(before).changes]
    return [
        (name, old, new)
        for name, attname in _diffed_fields(type(record))
        if (old := getattr(before, attname)) != (new := getattr(record, attname))
    ]


def _text(value):
    return None if value is None else str(value)


def referral_history(referral: Referral, *, values: bool = True) -> list[dict]:
    return referrals_history([referral.pk], values=values)


def referrals_history(referral_ids, *, values: bool = True) -> list[dict]:
    """The trail of several referrals (and their questions) read together: two queries
    however many referrals a case was opened from."""
    return history_rows(*_referrals_history_sets(list(referral_ids)), values=values)


def _referrals_history_sets(referral_ids) -> list[QuerySet]:
    from .models import InformationRequest

    return [
        _history(Referral).filter(id__in=referral_ids),
        _history(InformationRequest).filter(referral_id__in=referral_ids),
    ]


def case_history(case: Case, *, values: bool = True) -> list[dict]:
    return history_rows(*_case_history_sets(case), values=values)


def _case_history_sets(case: Case) -> list[QuerySet]:
    """The history tables of a case and of the records kept with it."""
    from .models import (
        Action,
        CasePlan,
        Consent,
        FamilyInformation,
        Note,
        Objection,
        Review,
        Sharing,
    )

    plans = _history(CasePlan).filter(case_id=case.pk)
    return [
        _history(Case).filter(id=case.pk),
        _history(CaseTeamMember).filter(case_id=case.pk),
        plans,
        _history(Action).filter(plan_id__in=plans.values("id")),
        _history(Review).filter(case_id=case.pk),
        _history(Note).filter(case_id=case.pk),
        _history(FamilyInformation).filter(case_id=case.pk),
        _history(Consent).filter(case_id=case.pk),
        _history(Objection).filter(case_id=case.pk),
        _history(Sharing).filter(case_id=case.pk),
    ]


# --- family information and consent (issue 16) -------------------------------------------------


def consent_in_force(case: Case, purpose: str, agency=None):
    """The family's consent for `purpose` (with `agency`, for that agency) given by today and
    not withdrawn: the most recent one, or None."""
    from .models import Consent

    consents = Consent.objects.filter(
        case=case,
        purpose=purpose,
        withdrawn_on__isnull=True,
        given_on__lte=timezone.localdate(),
    )
    if agency is not None:
        consents = consents.filter(agency=agency)
    return consents.order_by("-given_on", "-pk").first()


FAMILY_PARTS = ("information", "consents", "objections", "sharings")


def family_records(case: Case) -> dict:
    """What the case page and the API show of the family: information given, consents,
    objections, sharings with agencies (one query)."""
    return read_together(family_record_reads(case))


def family_record_reads(case: Case) -> dict[str, QuerySet]:
    """The family's records (family_records), for read_together."""
    from .models import Consent, FamilyInformation, Objection, Sharing

    return {
        "information": FamilyInformation.objects.filter(case=case).select_related("informed_by"),
        "consents": Consent.objects.filter(case=case).select_related("agency", "recorded_by"),
        "objections": Objection.objects.filter(case=case).select_related("handled_by"),
        "sharings": Sharing.objects.filter(case=case).select_related(
            "agency", "consent", "recorded_by"
        ),
    }


def case_page_reads(case: Case) -> dict[str, QuerySet]:
    """What the case page lists, whoever reads it, for read_together (one query): the team,
    the actions, the referrals, the reviews, the attachments, the transfers, the hand-overs
    and the chronology (case_timeline_reads; timeline_of builds it)."""
    return {
        "team": case_team(case),
        "actions": case.plan.actions.select_related("owning_agency", "owner"),
        "referrals": case.referrals.select_related("school", "referrer"),
        "reviews": case.reviews.select_related("recorded_by").order_by("-scheduled_for"),
        "attachments": case.attachments.all(),
        "transfers": case_transfers(case),
        "handovers": case_handovers(case),
        **case_timeline_reads(case, Referral.objects.filter(case=case).values("pk")),
    }


def case_timeline(case: Case, referral_ids=None) -> list[dict]:
    """Every event of the case and of its referrals, in one chronology, oldest first, in the
    words of people (trails.describe)."""
    if referral_ids is None:
        referral_ids = case.referrals.values_list("pk", flat=True)
    return timeline_of(case, read_together(case_timeline_reads(case, referral_ids)))


def case_timeline_reads(case: Case, referral_ids) -> dict[str, QuerySet]:
    """What the chronology reads (see case_timeline): every history table of the case and of
    its referrals, for read_together (so that a page may add its own lists to the one query)."""
    sets = _case_history_sets(case) + _referrals_history_sets(referral_ids)
    return {
        f"history{i}": queryset.select_related("history_user").order_by("history_id")
        for i, queryset in enumerate(sets)
    }


def timeline_of(case: Case, read: dict[str, list]) -> list[dict]:
    """The chronology from what read_together read of case_timeline_reads: the case's events
    that carry a reason and every event of its referrals, oldest first, in the words of
    people, with no values (trails.describe)."""
    lists = []
    while f"history{len(lists)}" in read:
        lists.append(read[f"history{len(lists)}"])
    case_tables = len(lists) - 2
    rows = [row for row in _history_rows_of(lists[:case_tables]) if row["reason"]]
    rows += _history_rows_of(lists[case_tables:])
    rows.sort(key=lambda row: row["at"])
    return trails.describe(rows, values=False)


REPORT_PARTS = (
    "referrals",
    "triage",
    "cases",
    "contacts",
    "mailing_list",
    "mailings",
    "consultations",
    "pattern_alerts",
    "network",
)
HELPLINE_PARTS = ("contacts", "mailing_list", "mailings")


def _percentile(values: list[float], share: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default), in hours to 0.1."""
    if not values:
        return None
    values = sorted(values)
    position = (len(values) - 1) * share
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (position - low), 1)


def yearly_indicators(
    year: int,
    districts=None,
    *,
    unassigned: bool = True,
    parts=REPORT_PARTS,
    district_code: str | None = None,
) -> dict:
    """What the network did in a year, as the yearly report (seed 004) files it: referrals,
    time to triage, cases, helpline contacts, the mailing list at 31 December and mailings.
    Aggregate counts only, no personal data.

    `districts`: None for the whole network, or the districts to count; with `unassigned`,
    the contacts, subscribers and mailings that have no district count too (the helpline
    serves the whole network). `parts`: which sections to compute (the helpline operator
    reads the helpline's only)."""
    from django.db.models import F

    from .models import Mailing, Review, Subscriber

    zone = timezone.get_current_timezone()
    start = datetime.datetime(year, 1, 1, tzinfo=zone)
    end = datetime.datetime(year + 1, 1, 1, tzinfo=zone)
    last_day = datetime.date(year, 12, 31)

    def scoped(queryset, field="district"):
        if districts is None:
            return queryset
        where = Q(**{f"{field}__in": districts})
        if unassigned:
            where |= Q(**{f"{field}__isnull": True})
        return queryset.filter(where)

    def by(queryset, field):
        rows = queryset.order_by().values_list(field).annotate(n=Count("pk"))
        return {("" if key is None else key): n for key, n in rows}

    report: dict = {"year": year, "district": district_code}
    # What records purged since (casework.services.purge) counted for: added to what is
    # counted from the records still there, so that a past year's report does not change.
    kept = retention.retained_figures(year, districts, unassigned=unassigned)

    def plus(counts: dict, key: str) -> dict:
        for code, n in kept.get(key, {}).items():
            counts[code] = counts.get(code, 0) + n
        return counts

    def total(key: str) -> int:
        return sum(kept.get(key, {}).values())

    referrals = Referral.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
    if districts is not None:
        referrals = referrals.filter(district__in=districts)
    if "referrals" in parts:
        concern_counts: dict[str, int] = {}
        for categories in referrals.values_list("concern_categories", flat=True):
            for code in categories or []:
                concern_counts[code] = concern_counts.get(code, 0) + 1
        report["referrals"] = {
            "total": referrals.count() + total("referrals.total"),
            "by_category": plus(concern_counts, "referrals.by_category"),
            "by_source_agency": plus(by(referrals, "school__name"), "referrals.by_source_agency"),
            "by_urgency": plus(by(referrals, "urgency"), "referrals.by_urgency"),
            "by_outcome": plus(by(referrals, "status"), "referrals.by_outcome"),
            "by_district": plus(by(referrals, "district__code"), "referrals.by_district"),
        }
    if "triage" in parts:
        decided = list(
            referrals.filter(decided_at__isnull=False).values_list(
                "submitted_at", "decided_at", "triage_due_at"
            )
        )
        hours = [(done - sent).total_seconds() / 3600 for sent, done, _due in decided]
        in_time = sum(1 for _sent, done, due in decided if due is not None and done <= due)
        for value, n in kept.get("triage.hours", {}).items():
            hours += [float(value)] * n
        in_time += total("triage.in_time")
        count = len(decided) + total("triage.decided")
        report["triage"] = {
            "decided": count,
            "median_hours": _percentile(hours, 0.5),
            "p90_hours": _percentile(hours, 0.9),
            "within_deadline_share": round(in_time / count, 3) if count else None,
        }
    if "cases" in parts:
        cases = Case.objects.all()
        reviews = Review.objects.filter(held_on__gte=start, held_on__lt=end)
        if districts is not None:
            cases = cases.filter(district__in=districts)
            reviews = reviews.filter(case__district__in=districts)
        report["cases"] = {
            "opened": cases.filter(opened_at__gte=start, opened_at__lt=end).count()
            + total("cases.opened"),
            "closed": cases.filter(closed_at__gte=start, closed_at__lt=end).count()
            + total("cases.closed"),
            "reviews_held": reviews.count() + total("cases.reviews_held"),
            # Held by the end of the day after the one it was due.
            "reviews_on_time": reviews.filter(
                held_on__lte=F("scheduled_for") + datetime.timedelta(days=1)
            ).count()
            + total("cases.reviews_on_time"),
        }
    if "contacts" in parts:
        contacts = scoped(Contact.objects.filter(contacted_at__gte=start, contacted_at__lt=end))
        report["contacts"] = {
            "total": contacts.count() + total("contacts.total"),
            "by_channel": plus(by(contacts, "channel"), "contacts.by_channel"),
            "by_category": plus(by(contacts, "category"), "contacts.by_category"),
        }
        if any(f.name == "caller" for f in Contact._meta.get_fields()):
            report["contacts"]["by_caller"] = plus(by(contacts, "caller"), "contacts.by_caller")
    if "mailing_list" in parts:
        # On the list at 31 December: confirmed by then, not unsubscribed by then.
        listed = scoped(
            Subscriber.objects.filter(subscribed_on__lte=last_day).filter(
                Q(unsubscribed_on__isnull=True) | Q(unsubscribed_on__gt=last_day)
            )
        )
        kinds = by(listed, "kind")
        report["mailing_list"] = {
            "families": kinds.get(Subscriber.Kind.FAMILY, 0) + total("mailing_list.families"),
            "institutions": kinds.get(Subscriber.Kind.INSTITUTION, 0)
            + total("mailing_list.institutions"),
            "institutions_by_type": plus(
                by(listed.filter(kind=Subscriber.Kind.INSTITUTION), "institution_type"),
                "mailing_list.institutions_by_type",
            ),
        }
    if "mailings" in parts:
        mailings = scoped(
            Mailing.objects.exclude(status=Mailing.Status.DRAFT).filter(
                sent_on__gte=start.date(), sent_on__lte=last_day
            )
        )
        report["mailings"] = {
            "total": mailings.count(),
            "by_category": by(mailings, "category__code"),
        }
    if {"consultations", "pattern_alerts", "network"} & set(parts):
        from .prevention import yearly_figures

        around = yearly_figures(start, end, districts)
        report.update({part: around[part] for part in around if part in parts})
    return report


class UnknownDistrict(ValueError):
    """The report was asked for a district code that names none."""


def indicators_for(user, *, year: int, district_code: str | None = None) -> dict:
    """The yearly report `user` may read (permissions.indicators_scope), for one of their
    districts when a code is given. The page, its files and the API all read it here.
    Raises PermissionDenied (no report, or a district not theirs) or UnknownDistrict."""
    from django.core.exceptions import PermissionDenied

    scope = permissions.indicators_scope(user)
    if scope is None:
        raise PermissionDenied
    districts, whole = scope
    chosen = None
    if district_code:
        chosen = District.objects.filter(code=district_code).first()
        if chosen is None:
            raise UnknownDistrict(district_code)
        if districts is not None and not districts.filter(pk=chosen.pk).exists():
            raise PermissionDenied
        districts = [chosen]
    return yearly_indicators(
        year,
        districts,
        unassigned=chosen is None,
        parts=REPORT_PARTS if whole else HELPLINE_PARTS,
        district_code=chosen.code if chosen else None,
    )


# --- the mailing list -----------------------------------------------------------------------


def mailing_categories():
    from .models import MailingCategory

    return MailingCategory.objects.filter(active=True).order_by("pk")


def subscriber_by_token(token: str):
    from .models import Subscriber

    return Subscriber.objects.filter(token=token, erased_at__isnull=True).first()


def subscribers_list(*, q: str | None = None, limit: int = 100):
    """The helpline's view of the list: the latest first, or those whose address or name has
    the words searched."""
    from .models import Subscriber

    rows = Subscriber.objects.filter(erased_at__isnull=True).prefetch_related("categories")
    if q:
        rows = rows.filter(Q(email__icontains=q) | Q(name__icontains=q))
    return rows.order_by("-created_at")[:limit]


def subscriber_export(subscriber) -> dict:
    """Everything the project holds about one subscriber (the right of access)."""
    return {
        "kind": subscriber.kind,
        "institution_type": subscriber.institution_type,
        "name": subscriber.name,
        "email": subscriber.email,
        "district": subscriber.district.code if subscriber.district_id else None,
        "language": subscriber.language,
        "categories": sorted(subscriber.categories.values_list("code", flat=True)),
        "requested_at": subscriber.created_at.isoformat(),
        "consent_text": subscriber.consent_text,
        "consent_at": subscriber.consent_at.isoformat() if subscriber.consent_at else None,
        "subscribed_on": subscriber.subscribed_on.isoformat() if subscriber.subscribed_on else None,
        "unsubscribed_on": (
            subscriber.unsubscribed_on.isoformat() if subscriber.unsubscribed_on else None
        ),
        "mails_received": [
            {"subject": subject, "sent_at": sent_at.isoformat()}
            for subject, sent_at in subscriber.deliveries.filter(sent_at__isnull=False)
            .order_by("sent_at")
            .values_list("mailing__subject", "sent_at")
        ],
        "events": [
            {"at": at.isoformat(), "reason": reason}
            for at, reason in subscriber.events.values_list("at", "reason")
        ],
    }


def mailings_list(limit: int = 50):
    from .models import Mailing

    return Mailing.objects.select_related("category", "district", "author").order_by("-created_at")[
        :limit
    ]


def mailing_progress(mailing) -> dict:
    """How far a mailing's sending has got: one query."""
    from .models import MailingDelivery

    by_status = dict(
        MailingDelivery.objects.filter(mailing=mailing)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    total = sum(by_status.values())
    waiting = by_status.get(MailingDelivery.Status.PENDING, 0) + by_status.get(
        MailingDelivery.Status.SENDING, 0
    )
    return {
        "total": total,
        "done": total - waiting,
        "sent": by_status.get(MailingDelivery.Status.SENT, 0),
        "failed": by_status.get(MailingDelivery.Status.FAILED, 0),
        "unknown": by_status.get(MailingDelivery.Status.UNKNOWN, 0),
        "skipped": by_status.get(MailingDelivery.Status.SKIPPED, 0),
        "waiting": waiting,
        "percent": round(100 * (total - waiting) / total) if total else 100,
    }


def _trail_target(user, model, pk, visible: QuerySet, allowed):
    """The record whose audit trail or access report the user asks for. Someone who may not
    see it and is not the auditor is told it does not exist (404); someone who sees it but
    may not read its trail is refused (403)."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    obj = model.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if obj is None or not (visible.filter(pk=pk).exists() or permissions.is_auditor(user)):
        raise Http404
    if not allowed(user, obj):
        raise PermissionDenied
    return obj


def referral_for_trail(user, pk) -> Referral:
    return _trail_target(
        user, Referral, pk, referrals_visible_to(user), permissions.may_read_referral_history
    )


def case_for_trail(user, pk) -> Case:
    return _trail_target(user, Case, pk, cases_visible_to(user), permissions.may_read_case_history)


# --- operations: counts for the metrics endpoint (ops/metrics.py), no personal data ------------


def overdue_triage_by_district(*, now=None) -> dict[str, int]:
    """Referrals waiting for triage past their deadline, by district code; every district,
    those with none too (a series that vanishes cannot be alerted on)."""
    from django.db.models import Count

    from .models import District

    now = now or timezone.now()
    # The statuses the triage sweep reminds about (casework.services.reminders).
    waiting = [Status.SUBMITTED, Status.IN_TRIAGE]
    overdue = Q(referrals__status__in=waiting, referrals__triage_due_at__lt=now)
    return dict(
        District.objects.order_by("code")
        .annotate(n=Count("referrals", filter=overdue))
        .values_list("code", "n")
    )


def outbox_state(*, now=None) -> dict:
    """The outbox: notifications not yet e-mailed that are still tried (and the age of the
    oldest), those tried and failed at least once, and those the outbox gave up on."""
    from django.db.models import Count, Min

    from .models import Notification

    now = now or timezone.now()
    unsent = Notification.objects.filter(emailed_at__isnull=True).order_by()
    trying = Q(gave_up_at__isnull=True)
    counts = unsent.aggregate(
        backlog=Count("pk", filter=trying),
        # Tried and failed: not a delivery in progress (a claim that still holds).
        retrying=Count(
            "pk",
            filter=trying
            & Q(attempts__gt=0)
            & (Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)),
        ),
        given_up=Count("pk", filter=~trying),
        oldest=Min("created_at", filter=trying),
    )
    oldest = counts.pop("oldest")
    counts["oldest_age_seconds"] = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return counts


def timers_due(*, now=None) -> int:
    """Workflow timers (case reviews) whose time has come and that the timer sweep has not
    fired yet."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    now = now or timezone.now()
    return Task.objects.filter(
        flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lte=now
    ).count()


def attachment_file_names() -> list[str]:
    """The stored names (random tokens) of every attachment's file, for the backup check."""
    from .models import Attachment

    return list(Attachment.objects.order_by("pk").values_list("file", flat=True))
