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
    if not permissions.districts_for(request.user).exists():
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
    identity = _identity_panel(referral)
    log_access(
        request,
        action="referral.decide",
        referrals=[referral],
        children=[m["child"] for m in identity["matches"]],
        cases=[c for m in identity["matches"] for c in m["child"].match_cases],
    )
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
            "identity": identity,
            "directory": directory,
            "kinds": Service.Kind.choices,
        },
        status=422 if form.errors else 200,
    )


def _identity_panel(referral) -> dict:
    """Who the child is: the record as typed, and while it is unchecked the possible matches
    among the children the district's team knows."""
    child = referral.child
    unchecked = child.identity == child.Identity.AS_TYPED
    return {
        "child": child,
        "unchecked": unchecked,
        "matches": selectors.child_matches(referral) if unchecked else [],
    }


def _identity_change(request, pk, change, done):
    referral = visible_referral(request, pk)
    if not permissions.can_triage(request.user, referral):
        raise PermissionDenied
    _result, ok = apply(request, None, lambda: change(referral))
    if ok:
        messages.success(request, done)
    return redirect("casework:referral_decide", pk=referral.pk)


@require_POST
def referral_child_link(request, pk):
    """The child is one the service knew: link the referral's record to that match."""
    try:
        known = int(request.POST.get("child", ""))
    except ValueError:
        known = 0
    return _identity_change(
        request,
        pk,
        lambda referral: services.child_link(actor=request.user, referral=referral, known=known),
        _("The referral is linked to the child the service already knew."),
    )


@require_POST
def referral_child_new(request, pk):
    """The child is not one the service knew: the record as typed becomes the child's."""
    return _identity_change(
        request,
        pk,
        lambda referral: services.child_confirm_new(actor=request.user, referral=referral),
        _("Confirmed: a child the service did not know before."),
    )
