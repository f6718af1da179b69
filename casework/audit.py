"""Plain-language names of the audit reason codes, for the chronology and the history pages."""

from django.utils.translation import gettext_lazy as _

REASONS = {
    "casework.referral.drafted": _("Referral drafted"),
    "casework.referral.draft_updated": _("Draft changed"),
    "casework.referral.sent_for_validation": _("Sent to the school referent"),
    "casework.referral.validated": _("Validated by the school referent"),
    "casework.referral.submitted": _("Referral sent to the social team"),
    "casework.referral.claimed": _("Claimed for triage"),
    "casework.referral.released": _("Put back in the queue"),
    "casework.referral.information_requested": _("More information requested"),
    "casework.referral.information_received": _("The referrer answered"),
    "casework.referral.case_opened": _("Case opened"),
    "casework.referral.linked_to_case": _("Linked to the open case"),
    "casework.referral.redirected": _("Redirected to a service"),
    "casework.referral.closed_no_action": _("Closed with no further action"),
    "casework.referral.escalated": _("Escalated"),
    "casework.referral.feedback_sent": _("Feedback sent to the referrer"),
    "casework.information_request.created": _("Question to the referrer"),
    "casework.information_request.answered": _("Answer from the referrer"),
    "casework.case.opened": _("Case opened"),
    "casework.case.reviewed": _("Periodic review recorded"),
    "casework.case.closure_requested": _("Closure proposed"),
    "casework.case.closed": _("Case closed"),
    "casework.case.closure_rejected": _("Closure refused, case kept open"),
    "casework.case_plan.created": _("Plan created"),
    "casework.case_plan.updated": _("Plan written"),
    "casework.case_team.lead_assigned": _("Lead worker assigned"),
    "casework.case_team.member_added": _("Professional added to the team"),
    "casework.case_team.member_removed": _("Professional removed from the team"),
    "casework.case_team.access_renewed": _("Access to the case extended"),
    "casework.case_team.membership_ended": _("Left the team: their role in the agency ended"),
    "casework.action.added": _("Action added"),
    "casework.action.updated": _("Action updated"),
    "casework.review.recorded": _("Review meeting recorded"),
    "casework.child.created": _("Child recorded"),
    "casework.guardian.created": _("Parent or guardian recorded"),
    "casework.membership.created": _("Role given"),
    "casework.membership.reactivated": _("Role given again"),
    "casework.membership.deactivated": _("Role ended"),
    "casework.service.created": _("Service added to the directory"),
    "casework.service.updated": _("Service changed"),
    "casework.demo.loaded": _("Demo data loaded"),
    "casework.attachment.added": _("Document attached"),
    "casework.contact.recorded": _("Helpline contact recorded"),
    "casework.contact.services_pointed": _("Services pointed to"),
}


def reason_label(code: str | None) -> str:
    if not code:
        return "—"
    return str(REASONS.get(code, code))


def _address(request) -> str | None:
    # REMOTE_ADDR is the proxy's address behind a reverse proxy; the proxy's own log has the
    # client. Trusting X-Forwarded-For here would let anyone write any address in the log.
    return request.META.get("REMOTE_ADDR") or None


def log_access(
    request, *, action: str, referrals=(), cases=(), children=(), door: str | None = None
) -> int:
    """Record that the request's user was shown these referrals and cases. One INSERT."""
    from .models import AccessLog

    user = request.user
    if not getattr(user, "is_authenticated", False):
        return 0
    if door is None:
        door = AccessLog.Door.API if request.path.startswith("/api/") else AccessLog.Door.WEB
    common = {
        "user": user,
        "door": door,
        "action": action,
        "address": _address(request),
        "path": request.path[:200],
    }
    rows = [
        AccessLog(object_type=AccessLog.Kind.REFERRAL, object_id=_pk(r), **common)
        for r in referrals
    ]
    rows += [AccessLog(object_type=AccessLog.Kind.CASE, object_id=_pk(c), **common) for c in cases]
    rows += [
        AccessLog(object_type=AccessLog.Kind.CHILD, object_id=_pk(c), **common) for c in children
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)


def _pk(obj) -> int:
    return obj if isinstance(obj, int) else obj.pk


def access_report(case) -> list:
    """Who has looked at this case or at the referrals it was opened from."""
    from django.db.models import Q

    from .models import AccessLog

    referral_ids = list(case.referrals.values_list("pk", flat=True))
    return list(
        AccessLog.objects.filter(
            Q(object_type=AccessLog.Kind.CASE, object_id=case.pk)
            | Q(object_type=AccessLog.Kind.REFERRAL, object_id__in=referral_ids)
        )
        .select_related("user")
        .order_by("-at", "-pk")[:1000]
    )
