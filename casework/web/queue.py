"""The district's triage team: the queue, claiming and releasing a referral, the decision."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services
from casework.audit import log_access
from casework.filters import SORT_CHOICES, QueueFilter
from casework.models import Referral, Service, Urgency
from protocols import steps

from .common import apply, visible_referral


def queue(request):
    """The queue with the filters of casework.filters; a value it does not know is left out."""
    if not permissions.district_ids(request.user):
        raise PermissionDenied
    filters = QueueFilter(
        request.GET, queryset=selectors.triage_queue(request.user), request=request
    )
    page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    log_access(request, action="queue", referrals=[r.pk for r in page])
    return render(
        request,
        "casework/queue.html",
        {
            "page": page,
            "now": timezone.now(),
            "sort": filters.form.cleaned_data.get("sort") or "urgency",
            "sorts": SORT_CHOICES,
            "schools": selectors.queue_schools(request.user),
            "urgencies": Urgency.choices,
            "params": request.GET,
        },
    )


@require_POST
def referral_claim(request, pk):
    referral = visible_referral(request, pk)
    _result, ok = apply(
        request, None, lambda: steps.run_step("referral.claim", obj=referral, actor=request.user)
    )
    if ok:
        messages.success(request, _("You have claimed the referral."))
    return redirect(referral)


@require_POST
def referral_release(request, pk):
    referral = visible_referral(request, pk)
    _result, ok = apply(
        request,
        None,
        lambda: steps.run_step("referral.release", obj=referral, actor=request.user),
    )
    if ok:
        messages.success(request, _("The referral is back in the queue."))
    return redirect(referral)


def referral_decide(request, pk):
    referral = visible_referral(request, pk)
    if not permissions.can_triage(request.user, referral):
        raise PermissionDenied
    if referral.status not in (Referral.Status.SUBMITTED, Referral.Status.IN_TRIAGE):
        messages.info(request, _("This referral is not waiting for a decision."))
        return redirect(referral)
    form = forms.DecisionForm(request.POST or None, referral=referral)
    if request.method == "POST" and form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: steps.run_step(
                "referral.decide",
                obj=referral,
                actor=request.user,
                decision=form.cleaned_data["decision"],
                **form.service_arguments(),
            ),
        )
        if ok:
            messages.success(request, _("Decision recorded; the referrer has been informed."))
            return redirect(referral)
    log_access(request, action="referral.decide", referrals=[referral])
    directory = selectors.services_directory(
        district=referral.district.code,
        age=referral.child.age,
        kind=request.GET.get("kind") or None,
    )
    return render(
        request,
        "casework/referral_decide.html",
        {
            "referral": referral,
            "form": form,
            "open_case": services.open_case_for(referral.child),
            "directory": directory,
            "kinds": Service.Kind.choices,
        },
        status=422 if form.errors else 200,
    )
