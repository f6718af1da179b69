"""Reminders and escalations: what the beat sweeps find past its deadline, written to the outbox.

Every reminder is written once per deadline. Its dedup key names the object and the deadline
(`triage-reminder:<referral>:<due time>`), and the outbox refuses a second row with the same
key: a sweep run twice, or on two machines at once, notifies each person once. A deadline that
moves (the referrer answered, a review was recorded, an action got a new date) is a new
deadline with its own reminder.

Due-ness is decided in SQL: each sweep reads, by the indexed deadline, only the items whose
deadline has passed and for which no reminder names that deadline yet (the notification's
topic, subject id and due time), oldest first and at most SWEEP_BATCH of them per run. With
nothing due a sweep is one query; a backlog (the first run after an outage, an import) is
caught up SWEEP_BATCH items a minute instead of all at once.

The sweeps act as the system and change no case record: they only write outbox rows, so they
leave no history row and need no actor. The notification names a kind and an id, never the
child: the bell and the e-mail render it for the recipient.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .. import permissions
from ..models import (
    Action,
    Case,
    CaseTeamMember,
    Consultation,
    District,
    InformationRequest,
    Notification,
    Referral,
    Review,
    Urgency,
)
from ..outbox import notify

__all__ = [
    "REVIEW_OVERDUE_AFTER",
    "REVIEW_SOON",
    "SWEEP_BATCH",
    "actions_remind_overdue",
    "consultations_remind_overdue",
    "escalation_grace",
    "information_requests_remind_overdue",
    "reviews_remind_due",
    "triage_remind_overdue",
]

Kind = Notification.Kind

# A review within this window is announced to the team.
REVIEW_SOON = datetime.timedelta(days=3)
# A review this late, with none recorded, goes to the district supervisors.
REVIEW_OVERDUE_AFTER = datetime.timedelta(days=1)

TRIAGE_STATUSES = [Referral.Status.SUBMITTED, Referral.Status.IN_TRIAGE]
OPEN_ACTION_STATUSES = [Action.Status.PLANNED, Action.Status.IN_PROGRESS]


# How many overdue items one run of a sweep reminds about; the next run takes the next ones.
# An item with nobody to remind (a district without a triage team) is looked at again by
# every run: one run looks at most at SWEEP_LOOK_AHEAD times the batch, so that such items
# cannot hold back the others.
SWEEP_BATCH = 200
SWEEP_LOOK_AHEAD = 5


def _bounded(queryset):
    """The first candidates, in deadline order: enough for a batch and a few to spare."""
    return queryset[: SWEEP_BATCH * SWEEP_LOOK_AHEAD]


def _not_reminded(topic: str, deadline: str) -> Q:
    """No reminder with this topic names the item and its current deadline (a datetime)."""
    return ~Exists(
        Notification.objects.filter(
            topic=topic, subject_id=OuterRef("pk"), due_at=OuterRef(deadline)
        )
    )


def _not_reminded_on(topic: str, deadline: str) -> Q:
    """The same, for a deadline that is a date (stored as the local midnight of that day)."""
    return ~Exists(
        Notification.objects.filter(
            topic=topic, subject_id=OuterRef("pk"), due_at__date=OuterRef(deadline)
        )
    )


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def escalation_grace(urgency: str) -> datetime.timedelta:
    """How long past its triage deadline a referral waits before it reaches the supervisors.
    Immediate danger does not wait."""
    if urgency == Urgency.IMMEDIATE_DANGER:
        return datetime.timedelta(0)
    return datetime.timedelta(hours=settings.CASEWORK_ESCALATION_GRACE_HOURS)


def _stamp(moment: datetime.datetime) -> int:
    return int(moment.timestamp())


def _active_members(group) -> list:
    return list(get_user_model().objects.filter(is_active=True, groups=group).order_by("pk"))


class _DistrictTeams:
    """The district groups' members, read once per sweep."""

    def __init__(self):
        self._triage: dict[int, list] = {}
        self._supervisors: dict[int, list] = {}

    def triage(self, district: District) -> list:
        if district.pk not in self._triage:
            self._triage[district.pk] = _active_members(permissions.district_triage_group(district))
        return self._triage[district.pk]

    def supervisors(self, district: District) -> list:
        if district.pk not in self._supervisors:
            self._supervisors[district.pk] = _active_members(
                permissions.district_supervisors_group(district)
            )
        return self._supervisors[district.pk]


def _remind(*, recipients, kind: str, key: str, about: tuple, referral=None, case=None) -> int:
    """Write `kind` once per recipient for this deadline; return how many rows are new.

    Recipients already reminded are left out before the insert, so a sweep that finds the
    same overdue item every few minutes writes nothing (and leaves no failed inserts behind);
    a concurrent sweep that slips past that check is stopped by the unique dedup key."""
    users = sorted(
        {u.pk: u for u in recipients if u is not None and u.is_active}.values(),
        key=lambda u: u.pk,
    )
    if not users:
        return 0
    # notify() keys each row as f"{dedup}:{recipient pk}".
    done = set(
        Notification.objects.filter(dedup_key__in=[f"{key}:{u.pk}" for u in users]).values_list(
            "dedup_key", flat=True
        )
    )
    todo = [u for u in users if f"{key}:{u.pk}" not in done]
    if not todo:
        return 0
    with transaction.atomic():
        return len(
            notify(recipients=todo, kind=kind, referral=referral, case=case, dedup=key, about=about)
        )


def triage_remind_overdue(*, now: datetime.datetime | None = None) -> int:
    """Referrals still waiting for triage past their deadline: a reminder to the district's
    triage team (and to the worker who claimed it); past the grace period, an escalation to
    the district supervisors. A referral waiting for the referrer's answer is not overdue."""
    now = now or timezone.now()
    teams = _DistrictTeams()
    written = 0
    grace = datetime.timedelta(hours=settings.CASEWORK_ESCALATION_GRACE_HOURS)
    escalation_due = Q(urgency=Urgency.IMMEDIATE_DANGER) | Q(triage_due_at__lte=now - grace)
    overdue = (
        Referral.objects.filter(status__in=TRIAGE_STATUSES, triage_due_at__lt=now)
        .filter(
            _not_reminded("triage-reminder", "triage_due_at")
            | (escalation_due & _not_reminded("triage-escalation", "triage_due_at"))
        )
        .select_related("district", "claimed_by")
        .order_by("triage_due_at", "pk")
    )
    handled = 0
    for referral in _bounded(overdue):
        if handled >= SWEEP_BATCH:
            break
        before = written
        due = _stamp(referral.triage_due_at)
        written += _remind(
            recipients=[*teams.triage(referral.district), referral.claimed_by],
            kind=Kind.REMINDER,
            key=f"triage-reminder:{referral.pk}:{due}",
            about=("triage-reminder", referral.pk, referral.triage_due_at),
            referral=referral,
        )
        if now >= referral.triage_due_at + escalation_grace(referral.urgency):
            written += _remind(
                recipients=teams.supervisors(referral.district),
                kind=Kind.ESCALATION,
                key=f"triage-escalation:{referral.pk}:{due}",
                about=("triage-escalation", referral.pk, referral.triage_due_at),
                referral=referral,
            )
        handled += written > before
    return written


def information_requests_remind_overdue(*, now: datetime.datetime | None = None) -> int:
    """Questions to the referrer left unanswered past their due date: one reminder each."""
    now = now or timezone.now()
    written = 0
    overdue = (
        InformationRequest.objects.filter(
            answered_at__isnull=True,
            due_at__lt=now,
            referral__status=Referral.Status.INFORMATION_REQUESTED,
        )
        .filter(_not_reminded("information-reminder", "due_at"))
        .select_related("referral__referrer")
        .order_by("due_at", "pk")
    )
    handled = 0
    for request in _bounded(overdue):
        if handled >= SWEEP_BATCH:
            break
        before = written
        written += _remind(
            recipients=[request.referral.referrer],
            kind=Kind.REMINDER,
            key=f"information-reminder:{request.pk}:{_stamp(request.due_at)}",
            about=("information-reminder", request.pk, request.due_at),
            referral=request.referral,
        )
        handled += written > before
    return written


def _case_team(case: Case, today: datetime.date) -> list:
    """The people on the case today: not removed, not past their end date, and the lead."""
    members = (
        CaseTeamMember.objects.filter(case=case, removed_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("user")
        .order_by("user_id")
    )
    return [case.lead_worker, *(member.user for member in members)]


def reviews_remind_due(*, now: datetime.datetime | None = None) -> int:
    """Open cases whose review is due within REVIEW_SOON: the team is told once per review
    date. A review more than REVIEW_OVERDUE_AFTER late with none recorded since goes to the
    district supervisors."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    teams = _DistrictTeams()
    written = 0
    recorded_since = Review.objects.filter(
        case=OuterRef("pk"), scheduled_for__gte=OuterRef("next_review_at")
    )
    due = (
        Case.objects.filter(
            status=Case.Status.OPEN,
            next_review_at__isnull=False,
            next_review_at__lte=now + REVIEW_SOON,
        )
        .filter(
            _not_reminded("review-due", "next_review_at")
            | (
                Q(next_review_at__lt=now - REVIEW_OVERDUE_AFTER)
                & _not_reminded("review-overdue", "next_review_at")
            )
        )
        .exclude(Exists(recorded_since))
        .select_related("district", "lead_worker")
        .order_by("next_review_at", "pk")
    )
    handled = 0
    for case in _bounded(due):
        if handled >= SWEEP_BATCH:
            break
        before = written
        stamp = _stamp(case.next_review_at)
        written += _remind(
            recipients=_case_team(case, today),
            kind=Kind.REVIEW_DUE,
            key=f"review-due:{case.pk}:{stamp}",
            about=("review-due", case.pk, case.next_review_at),
            case=case,
        )
        if case.next_review_at < now - REVIEW_OVERDUE_AFTER:
            written += _remind(
                recipients=teams.supervisors(case.district),
                kind=Kind.ESCALATION,
                key=f"review-overdue:{case.pk}:{stamp}",
                about=("review-overdue", case.pk, case.next_review_at),
                case=case,
            )
        handled += written > before
    return written


def actions_remind_overdue(*, now: datetime.datetime | None = None) -> int:
    """Actions of the plan past their due date and not done or dropped: their owner is told
    once per due date."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    written = 0
    overdue = (
        Action.objects.filter(
            due_date__lt=today, status__in=OPEN_ACTION_STATUSES, owner__isnull=False
        )
        .exclude(plan__case__status=Case.Status.CLOSED)
        .filter(_not_reminded_on("action-overdue", "due_date"))
        .select_related("owner", "plan__case")
        .order_by("due_date", "pk")
    )
    handled = 0
    for action in _bounded(overdue):
        if handled >= SWEEP_BATCH:
            break
        before = written
        written += _remind(
            recipients=[action.owner],
            kind=Kind.REMINDER,
            key=f"action-overdue:{action.pk}:{action.due_date.isoformat()}",
            about=("action-overdue", action.pk, _midnight(action.due_date)),
            case=action.plan.case,
        )
        handled += written > before
    return written


def consultations_remind_overdue(*, now: datetime.datetime | None = None) -> int:
    """Consultations still waiting for the social team's answer past their deadline: one
    reminder to the district's triage team (and supervisors) per deadline. The notification
    names the consultation's id, never its text."""
    now = now or timezone.now()
    teams = _DistrictTeams()
    written = 0
    overdue = (
        Consultation.objects.filter(status=Consultation.Status.AWAITING, answer_due_at__lt=now)
        .filter(_not_reminded("consultation-overdue", "answer_due_at"))
        .select_related("district")
        .order_by("answer_due_at", "pk")
    )
    handled = 0
    for consultation in _bounded(overdue):
        if handled >= SWEEP_BATCH:
            break
        before = written
        written += _remind(
            recipients=[
                *teams.triage(consultation.district),
                *teams.supervisors(consultation.district),
            ],
            kind=Kind.REMINDER,
            key=f"consultation-overdue:{consultation.pk}:{_stamp(consultation.answer_due_at)}",
            about=("consultation-overdue", consultation.pk, consultation.answer_due_at),
        )
        handled += written > before
    return written
