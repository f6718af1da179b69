"""The reads of consultations, pattern alerts and the district's network tables: one filter
shape for the pages and the API (like casework.selectors, whose size asked for a sibling)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from . import permissions
from .models import Consultation, NetworkMeeting, PatternAlert, Referral


def consultations_visible_to(user):
    """The consultations `user` is part of: the district's triage team (its districts), the
    person who asked, the school's referents. Nobody else; never the auditor's list."""
    if not permissions.is_active(user):
        return Consultation.objects.none()
    where = Q(district_id__in=permissions.district_ids(user, permissions.TRIAGE))
    where |= Q(asker=user, school_id__in=permissions.consultation_school_ids(user))
    where |= Q(school_id__in=permissions.school_ids(user, permissions.SCHOOL_VIEW))
    return Consultation.objects.filter(where).select_related(
        "school", "district", "asker", "referral"
    )


SORTS = {
    "due": ("answer_due_at", "pk"),
    "-due": ("-answer_due_at", "-pk"),
    "asked": ("asked_at", "pk"),
    "-asked": ("-asked_at", "-pk"),
}


def consultations_list(user, *, status: str | None = None, overdue: bool = False, sort="-asked"):
    """The consultations list: the team sorts by deadline (`sort="due"`) and asks for the
    overdue ones only."""
    found = consultations_visible_to(user)
    if status:
        found = found.filter(status=status)
    if overdue:
        found = found.filter(status=Consultation.Status.AWAITING, answer_due_at__lt=timezone.now())
    return found.order_by(*SORTS.get(sort, SORTS["-asked"]))


def consultation_thread(consultation: Consultation):
    return consultation.messages.select_related("author").order_by("written_at", "pk")


def consultation_of_referral(user, referral: Referral) -> Consultation | None:
    """The consultation a referral came from, for whoever may read the referral (the caller
    checked that): the thread goes with the referral to both sides."""
    return Consultation.objects.filter(referral=referral).select_related("school", "asker").first()


def open_alerts_for(user):
    """The open pattern alerts of the districts `user` triages, with their items side by side.
    A referrer triages no district: for them this is always empty. Read only when one of
    those districts has one (a flag read with the user's grants)."""
    if not permissions.open_alert_district_ids(user):
        return PatternAlert.objects.none()
    return alerts_for(user).filter(status=PatternAlert.Status.OPEN)


def alerts_for(user):
    if not permissions.is_active(user):
        return PatternAlert.objects.none()
    return (
        PatternAlert.objects.filter(
            district_id__in=permissions.district_ids(user, permissions.TRIAGE)
        )
        .select_related("district", "handled_by", "case")
        .prefetch_related("referrals__child", "referrals__school", "contacts")
        .order_by("-raised_at", "-pk")
    )


def meetings_for(user):
    """The network meetings of the districts whose tables `user` keeps."""
    return (
        NetworkMeeting.objects.filter(district_id__in=permissions.network_table_district_ids(user))
        .select_related("district", "recorded_by")
        .prefetch_related("agencies", "actions__owner_agency")
        .order_by("-held_on", "-pk")
    )


def meeting_for_keeper(user, pk) -> NetworkMeeting | None:
    return meetings_for(user).filter(pk=pk).first()


# --- the yearly report --------------------------------------------------------------------


def yearly_figures(start, end, districts=None) -> dict:
    """Consultations, pattern alerts and network meetings of [start, end): aggregate counts
    only, for casework.selectors.yearly_indicators."""
    from django.db.models import Count, F

    from .models import MeetingAction

    def scoped(queryset, field="district"):
        return queryset if districts is None else queryset.filter(**{f"{field}__in": districts})

    consultations = scoped(Consultation.objects.filter(asked_at__gte=start, asked_at__lt=end))
    answered = consultations.filter(answered_at__isnull=False)
    by_age = {
        band: n
        for band, n in consultations.order_by()
        .values_list("age_band")
        .annotate(n=Count("pk"))
        .values_list("age_band", "n")
    }
    alerts = scoped(PatternAlert.objects.filter(raised_at__gte=start, raised_at__lt=end))
    alert_status = dict(
        alerts.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    meetings = scoped(
        NetworkMeeting.objects.filter(held_on__gte=start.date(), held_on__lt=end.date())
    )
    actions = MeetingAction.objects.filter(meeting__in=meetings)
    return {
        "consultations": {
            "total": consultations.count(),
            "answered": answered.count(),
            "answered_in_time": answered.filter(answered_at__lte=F("answer_due_at")).count(),
            "referred": consultations.filter(referral__isnull=False).count(),
            "by_age_band": by_age,
        },
        "pattern_alerts": {
            "raised": alerts.count(),
            "acknowledged": alert_status.get(PatternAlert.Status.ACKNOWLEDGED, 0),
            "dismissed": alert_status.get(PatternAlert.Status.DISMISSED, 0),
        },
        "network": {
            "meetings": meetings.count(),
            "actions_agreed": actions.count(),
            "actions_done": actions.filter(status=MeetingAction.Status.DONE).count(),
        },
    }
