"""Around the referral: consultations (a school's question before any referral, no child
named), pattern alerts (several low-level worries about one child put together for the triage
team), and the district's network tables (coordination meetings, no child's data).

Every change is one transaction with an explicit actor and a reason code; the sweeps
(`consultations_remind_overdue` in reminders.py, `pattern_alerts_raise` here) act as the system.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce, Lower, Trim
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions, selectors
from ..models import (
    Agency,
    Case,
    Child,
    Consultation,
    ConsultationMessage,
    Contact,
    MeetingAction,
    NetworkMeeting,
    Notification,
    PatternAlert,
    Referral,
)
from ..outbox import notify
from .common import TransitionNotAllowed, audit_as, audited_save
from .drafts import referral_create_with_child
from .referrals import triage_team

__all__ = [
    "consultation_answer_deadline",
    "consultation_ask",
    "consultation_refer",
    "consultation_write",
    "meeting_action_add",
    "meeting_action_update",
    "meeting_save",
    "pattern_alert_acknowledge",
    "pattern_alert_dismiss",
    "pattern_alerts_raise",
]

CStatus = Consultation.Status


# --- consultations ----------------------------------------------------------------------------


def consultation_answer_deadline(start: datetime.datetime, district) -> datetime.datetime:
    """When the district's team owes the answer to a consultation asked at `start`: the
    `consultation_answer_days` of the district's protocol in force (selectors.protocol_for),
    counted like every other deadline (calendar days)."""
    days = selectors.protocol_for(district).consultation_answer_days
    return start + datetime.timedelta(days=days)


def _lock(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def _require(consultation: Consultation, *allowed: str) -> None:
    if consultation.status not in allowed:
        raise TransitionNotAllowed(
            _("Not allowed while the consultation is “%(status)s”.")
            % {"status": consultation.get_status_display()}
        )


def _consultation_ref(consultation: Consultation) -> tuple:
    """What a notification about a consultation names: its id, never its text."""
    return ("consultation", consultation.pk, None)


@transaction.atomic
def consultation_ask(
    *,
    actor,
    age_band: str,
    concern_categories: list[str],
    question: str,
    school: Agency | None = None,
) -> Consultation:
    """A teacher or school referent asks the district's social team about a situation, without
    naming the child. The team owes an answer by the protocol's deadline."""
    schools = permissions.consultation_school_ids(actor)
    if not schools:
        raise PermissionDenied(_("Only teachers and school referents ask consultations."))
    if not (question or "").strip():
        raise ValidationError({"question": _("Write the question.")})
    if school is None:
        school = Agency.objects.select_related("district").get(pk=schools[0])
    elif school.pk not in schools:
        raise PermissionDenied(_("You ask consultations for your own school only."))
    now = timezone.now()
    consultation = Consultation(
        asker=actor,
        school=school,
        district=school.district,
        age_band=age_band,
        concern_categories=list(concern_categories or []),
        question=question,  # kept as written
        asked_at=now,
        answer_due_at=consultation_answer_deadline(now, school.district),
    )
    audited_save(consultation, actor=actor, reason="casework.consultation.asked")
    notify(
        recipients=triage_team(consultation.district),
        kind=Notification.Kind.CONSULTATION_ASKED,
        about=_consultation_ref(consultation),
    )
    return consultation


@transaction.atomic
def consultation_write(*, actor, consultation: Consultation, body: str) -> ConsultationMessage:
    """A message in the thread. The team's first one answers the consultation; the asker's
    follow-up question puts it back in the team's hands with a new deadline. Once the
    consultation became a referral, the thread is kept as it is (read-only)."""
    consultation = _lock(consultation)
    side = permissions.consultation_side(actor, consultation)
    if side is None:
        raise PermissionDenied(_("You are not part of this consultation."))
    _require(consultation, CStatus.AWAITING, CStatus.ANSWERED)
    body = body or ""  # kept as written (the API's rule for free text)
    if not body.strip():
        raise ValidationError({"body": _("Write the message.")})
    now = timezone.now()
    message = ConsultationMessage(
        consultation=consultation, author=actor, side=side, body=body, written_at=now
    )
    audited_save(message, actor=actor, reason="casework.consultation_message.written")
    if side == ConsultationMessage.Side.TEAM:
        if consultation.status == CStatus.AWAITING:
            consultation.status = CStatus.ANSWERED
            consultation.answered_at = consultation.answered_at or now
            consultation.answered_by = consultation.answered_by or actor
            audited_save(consultation, actor=actor, reason="casework.consultation.answered")
        notify(
            recipients=[consultation.asker],
            kind=Notification.Kind.CONSULTATION_ANSWERED,
            about=_consultation_ref(consultation),
        )
    elif consultation.status == CStatus.ANSWERED:
        consultation.status = CStatus.AWAITING
        consultation.answer_due_at = consultation_answer_deadline(now, consultation.district)
        audited_save(consultation, actor=actor, reason="casework.consultation.followed_up")
        notify(
            recipients=triage_team(consultation.district),
            kind=Notification.Kind.CONSULTATION_ASKED,
            about=_consultation_ref(consultation),
        )
    return message


def consultation_refer(
    *, actor, consultation: Consultation, child: dict[str, Any], idempotency_key: str = ""
) -> Referral:
    """The asker turns the consultation into a referral: a draft of theirs, prefilled with the
    school, the areas of concern and the situation, linked to the thread (which both sides
    then read from the referral). The child is named now, by the asker only; the draft goes
    on through the ordinary referral steps."""
    with transaction.atomic():
        consultation = _lock(consultation)
        if not permissions.may_refer_consultation(actor, consultation):
            raise PermissionDenied(_("Only the person who asked turns it into a referral."))
        _require(consultation, CStatus.AWAITING, CStatus.ANSWERED)
        referral, _created = referral_create_with_child(
            actor=actor,
            child=child,
            idempotency_key=idempotency_key,
            concern_categories=list(consultation.concern_categories),
            observations=consultation.question,
        )
        if referral.school_id != consultation.school_id:
            raise PermissionDenied(_("The referral must come from the consultation's school."))
        consultation.referral = referral
        consultation.status = CStatus.REFERRED
        audited_save(consultation, actor=actor, reason="casework.consultation.referred")
    return referral


# --- pattern alerts ---------------------------------------------------------------------------

# A referral that already led somewhere (a case, a link to one, an escalation) is above the
# threshold on its own: the alert is about worries that each stayed below it.
ACTED_UPON = (
    Referral.Status.DRAFT,
    Referral.Status.AWAITING_VALIDATION,
    Referral.Status.CASE_OPENED,
    Referral.Status.LINKED,
    Referral.Status.ESCALATED,
)


def _referrals_by_child(since: datetime.datetime, until: datetime.datetime):
    """The referrals of the window that stayed below the threshold, each with the id of the
    first unlinked record of its child (`canon`): the same child recorded twice as typed, or
    a record the team linked to a known child (same_as), count as one child. In SQL."""
    first = Lower(Trim(Coalesce("child__same_as__first_name", "child__first_name")))
    last = Lower(Trim(Coalesce("child__same_as__last_name", "child__last_name")))
    born = Coalesce("child__same_as__date_of_birth", "child__date_of_birth")
    canon = (
        Child.objects.filter(same_as__isnull=True, date_of_birth=OuterRef("k_born"))
        .annotate(lf=Lower(Trim("first_name")), ll=Lower(Trim("last_name")))
        .filter(lf=OuterRef("k_first"), ll=OuterRef("k_last"))
        .order_by("pk")
        .values("pk")[:1]
    )
    return (
        Referral.objects.filter(
            submitted_at__gte=since, submitted_at__lte=until, deleted_at__isnull=True
        )
        .exclude(status__in=ACTED_UPON)
        .annotate(k_first=first, k_last=last, k_born=born)
        .annotate(canon=Subquery(canon))
    )


def _new_alert(*, district_id, cluster, first, now, referral_ids=(), contact_ids=()) -> int:
    alert = PatternAlert(
        district_id=district_id,
        cluster=cluster,
        window_start=timezone.localdate(first),
        window_end=timezone.localdate(now),
        item_count=len(referral_ids) + len(contact_ids),
        raised_at=now,
    )
    try:
        with transaction.atomic():
            audited_save(alert, actor=None, reason="casework.pattern_alert.raised")
            if referral_ids:
                audit_as(alert, actor=None, reason="casework.pattern_alert.raised")
                alert.referrals.set(referral_ids)
            if contact_ids:
                audit_as(alert, actor=None, reason="casework.pattern_alert.raised")
                alert.contacts.set(contact_ids)
    except (IntegrityError, ValidationError):
        # A concurrent sweep raised it first (the unique constraint, or full_clean's check of
        # it): once is enough.
        return 0
    notify(
        recipients=triage_team(alert.district),
        kind=Notification.Kind.PATTERN_ALERT,
        about=("pattern-alert", alert.pk, None),
    )
    return 1


def pattern_alerts_raise(*, now: datetime.datetime | None = None) -> int:
    """Find, in SQL, the children (and the families of the helpline's log) with at least the
    protocol's threshold of referrals (contacts) within its window, and raise one alert per
    cluster and window for the district's triage team. Each district follows the window and
    threshold of its protocol in force: the districts are grouped by those two values in one
    query (selectors.districts_by_protocol), then each group is searched in SQL — a few
    statements per distinct setting, never one per referral. Idempotent: a cluster that has
    an alert raised within the window gets no other (and the unique constraint stops a
    concurrent sweep). Returns how many alerts were raised."""
    now = now or timezone.now()
    groups = selectors.districts_by_protocol(
        ("pattern_window_days", "pattern_threshold"), day=timezone.localdate(now)
    )
    raised = 0
    for (window_days, threshold), district_ids in groups.items():
        since = now - datetime.timedelta(days=window_days)
        raised += _raise_in(district_ids, since, now, max(threshold, 2))
    return raised


def _raise_in(district_ids: list[int], since, now, threshold: int) -> int:
    """The alerts of the districts that share one window and threshold."""
    raised = 0
    referrals = _referrals_by_child(since, now).filter(district_id__in=district_ids)
    child_clusters = (
        referrals.filter(canon__isnull=False)
        .order_by()
        .values("district_id", "canon")
        .annotate(n=Count("pk"), first=Min("submitted_at"), last=Max("submitted_at"))
        .filter(n__gte=threshold)
    )
    for row in child_clusters:
        cluster = f"child:{row['canon']}"
        if PatternAlert.objects.filter(
            district_id=row["district_id"], cluster=cluster, raised_at__gte=since
        ).exists():
            continue
        ids = list(
            referrals.filter(district_id=row["district_id"], canon=row["canon"]).values_list(
                "pk", flat=True
            )
        )
        raised += _new_alert(
            district_id=row["district_id"],
            cluster=cluster,
            first=row["first"],
            now=now,
            referral_ids=ids,
        )

    contacts = (
        Contact.objects.filter(
            contacted_at__gte=since, contacted_at__lte=now, district_id__in=district_ids
        )
        .exclude(family_reference="")
        .annotate(ref=Lower(Trim("family_reference")))
    )
    family_clusters = (
        contacts.order_by()
        .values("district_id", "ref")
        .annotate(n=Count("pk"), first=Min("contacted_at"))
        .filter(n__gte=threshold)
    )
    for row in family_clusters:
        cluster = f"family:{row['ref']}"[:120]
        if PatternAlert.objects.filter(
            district_id=row["district_id"], cluster=cluster, raised_at__gte=since
        ).exists():
            continue
        ids = list(
            contacts.filter(district_id=row["district_id"], ref=row["ref"]).values_list(
                "pk", flat=True
            )
        )
        raised += _new_alert(
            district_id=row["district_id"],
            cluster=cluster,
            first=row["first"],
            now=now,
            contact_ids=ids,
        )
    return raised


def _lock_alert(alert: PatternAlert) -> PatternAlert:
    return PatternAlert.objects.select_for_update().select_related("district").get(pk=alert.pk)


@transaction.atomic
def pattern_alert_acknowledge(
    *, actor, alert: PatternAlert, note: str, case: Case | None = None
) -> PatternAlert:
    """The triage team has looked at the items side by side: what it will do, in a note,
    and the case it opened or linked for the child, if any."""
    alert = _lock_alert(alert)
    if not permissions.may_handle_alert(actor, alert):
        raise PermissionDenied(_("Only the district's triage team handles its alerts."))
    if alert.status != PatternAlert.Status.OPEN:
        raise TransitionNotAllowed(_("This alert has already been handled."))
    note = note or ""
    if not note.strip():
        raise ValidationError({"note": _("Say what the team will do.")})
    if case is not None and case.district_id != alert.district_id:
        raise ValidationError({"case": _("Choose a case of the alert's district.")})
    alert.status = PatternAlert.Status.ACKNOWLEDGED
    alert.note = note
    alert.case = case
    alert.handled_by = actor
    alert.handled_at = timezone.now()
    audited_save(alert, actor=actor, reason="casework.pattern_alert.acknowledged")
    return alert


@transaction.atomic
def pattern_alert_dismiss(*, actor, alert: PatternAlert, reason: str) -> PatternAlert:
    """Not a pattern (different children, a coincidence): dismissed, with the reason kept."""
    alert = _lock_alert(alert)
    if not permissions.may_handle_alert(actor, alert):
        raise PermissionDenied(_("Only the district's triage team handles its alerts."))
    if alert.status != PatternAlert.Status.OPEN:
        raise TransitionNotAllowed(_("This alert has already been handled."))
    reason = reason or ""
    if not reason.strip():
        raise ValidationError({"note": _("Say why the alert is dismissed.")})
    alert.status = PatternAlert.Status.DISMISSED
    alert.note = reason
    alert.handled_by = actor
    alert.handled_at = timezone.now()
    audited_save(alert, actor=actor, reason="casework.pattern_alert.dismissed")
    return alert


# --- the district's network tables ------------------------------------------------------------


@transaction.atomic
def meeting_save(
    *, actor, meeting: NetworkMeeting, agencies: list[Agency] | None = None
) -> NetworkMeeting:
    """Record (or correct) a coordination meeting of the district's agencies. Only agencies
    of the meeting's district attend it; it is about the network, never a named child."""
    if not permissions.keeps_network_tables(actor, meeting.district):
        raise PermissionDenied(_("Only the district's network coordinators and supervisors."))
    if agencies is not None:
        foreign = [a for a in agencies if a.district_id != meeting.district_id]
        if foreign:
            raise ValidationError({"agencies": _("Choose agencies of the meeting's district.")})
    created = meeting.pk is None
    if created:
        meeting.recorded_by = actor
    else:
        stored = NetworkMeeting.objects.select_for_update().get(pk=meeting.pk)
        if stored.district_id != meeting.district_id and not permissions.keeps_network_tables(
            actor, stored.district
        ):
            raise PermissionDenied(_("Only the district's network coordinators and supervisors."))
    reason = "casework.network_meeting.recorded" if created else "casework.network_meeting.updated"
    audited_save(meeting, actor=actor, reason=reason)
    if agencies is not None:
        audit_as(meeting, actor=actor, reason=reason)
        meeting.agencies.set(agencies)
    return meeting


@transaction.atomic
def meeting_action_add(
    *,
    actor,
    meeting: NetworkMeeting,
    description: str,
    owner_agency: Agency,
    owner_name: str = "",
    due_on: datetime.date | None = None,
) -> MeetingAction:
    """An action agreed at the meeting, owned by one of the district's agencies."""
    if not permissions.keeps_meeting(actor, meeting):
        raise PermissionDenied(_("Only the district's network coordinators and supervisors."))
    if owner_agency.district_id != meeting.district_id:
        raise ValidationError({"owner_agency": _("Choose an agency of the meeting's district.")})
    action = MeetingAction(
        meeting=meeting,
        description=description or "",
        owner_agency=owner_agency,
        owner_name=owner_name or "",
        due_on=due_on,
    )
    audited_save(action, actor=actor, reason="casework.meeting_action.agreed")
    return action


@transaction.atomic
def meeting_action_update(*, actor, action: MeetingAction, status: str) -> MeetingAction:
    action = MeetingAction.objects.select_for_update().select_related("meeting").get(pk=action.pk)
    if not permissions.keeps_meeting(actor, action.meeting):
        raise PermissionDenied(_("Only the district's network coordinators and supervisors."))
    action.status = status
    audited_save(action, actor=actor, reason="casework.meeting_action.updated")
    return action
