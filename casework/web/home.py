"""Everyone's pages: the home board (by the hats the user wears) and the notifications."""

from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from casework import selectors, services
from casework.audit import log_access
from casework.models import Notification, Service, Urgency

from .audit import audit_search_context


def home(request):
    now = timezone.now()
    board = selectors.home_board(request.user, now=now)
    referrals, cases = selectors.home_board_reads(board)
    log_access(request, action="home", referrals=referrals, cases=cases)
    context = {**board, "now": now, "urgencies": Urgency.choices}
    if board.get("helpline_today") is not None:
        context.update(kinds=Service.Kind.choices, districts=selectors.districts())
    if board.get("auditor"):
        context.update(audit_search_context(request))
    return render(request, "casework/home.html", context)


def notifications(request):
    items = selectors.notifications_for(request.user)
    return render(request, "casework/notifications.html", {"items": items})


def notification_open(request, pk):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(actor=request.user, notification=notification)
    target = notification.case or notification.referral
    if target is None and notification.kind in (
        Notification.Kind.TRANSFER_REQUESTED,
        Notification.Kind.TRANSFER_DECIDED,
    ):
        return redirect("casework:transfer_list")
    if target is not None:
        return redirect(target)
    # Consultations and pattern alerts are named by topic and id (the page checks who asks).
    if notification.topic in ("consultation", "consultation-overdue") and notification.subject_id:
        return redirect("casework:consultation_detail", notification.subject_id)
    if notification.topic == "pattern-alert":
        return redirect("casework:queue")
    return redirect("casework:notifications")
