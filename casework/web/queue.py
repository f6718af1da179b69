"""The district's triage team: the queue, claiming and releasing a referral, the decision."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from casework import forms, permissions, prevention, selectors, services
from casework.audit import log_access
from casework.filters import SORT_CHOICES, QueueFilter
from casework.models import Referral, Service, Urgency
from protocols import steps

from .common import apply, visible_referral

# The queue's columns: (label, the sort key a click on the header asks for, or None).
QUEUE_COLUMNS = [
    (_lazy("Child"), None),
    (_lazy("Age"), "age"),
    (_lazy("School"), "school"),
    (_lazy("Concerns"), None),
    (_lazy("Urgency"), "urgency"),
    (_lazy("Triage due"), "deadline"),
    (_lazy("Status"), None),
    (_lazy("Claimed by"), None),
]


def _headers(sort: str) -> list[dict]:
    """Each column's header: a click sorts by it, a second click reverses the order."""
    current = sort.lstrip("-")
    headers = []
    for label, key in QUEUE_COLUMNS:
        header = {"label": label, "key": key, "aria_sort": None, "next": None}
        if key is not None:
            header["next"] = f"-{key}" if sort == key else key
            if current == key:
                header["aria_sort"] = "descending" if sort.startswith("-") else "ascending"
        headers.append(header)
    return headers


def queue(request):
    """The queue with the filters of casework.filters; a value it does not know is left out.
    Filters and sort live in the query string, so a view of the queue can be bookmarked."""
    if not permissions.district_ids(request.user):
        raise PermissionDenied
    filters = QueueFilter(
        request.GET, queryset=selectors.triage_queue(request.user), request=request
    )
    page = selectors.counted_page(filters.qs, request.GET.get("page"), 50)
    now = timezone.now()
    log_access(request, action="queue", referrals=[r.pk for r in page])
    sort = filters.sort_key()
    return render(
        request,
        "casework/queue.html",
        {
            "page": page,
            "rows": selectors.queue_rows(page, user=request.user, now=now),
            "headers": _headers(sort),
            "sort": sort,
            "sorts": SORT_CHOICES,
            "schools": selectors.queue_school_choices(request.user),
            "urgencies": Urgency.choices,
            "params": request.GET,
            "alerts": prevention.open_alerts_for(request.user),
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


# The submit button of the services panel: it posts the decision form back with the kind
# of service chosen, so what was typed stays (and never travels in the address).
DIRECTORY_FILTER = "_directory"


def referral_decide(request, pk):
    """The whole referral beside the decision form. Filtering the services panel posts the
    form back unrecorded: the page comes back with everything typed, and no errors."""
    referral = visible_referral(request, pk)
    if not permissions.can_triage(request.user, referral):
        raise PermissionDenied
    if referral.status not in (Referral.Status.SUBMITTED, Referral.Status.IN_TRIAGE):
        messages.info(request, _("This referral is not waiting for a decision."))
        return redirect(referral)
    filtering = request.method == "POST" and DIRECTORY_FILTER in request.POST
    open_case = services.open_case_for(referral.child)
    if filtering:
        form = forms.DecisionForm(
            initial=forms.DecisionForm.typed_values(request.POST),
            referral=referral,
            open_case=open_case,
        )
        kind = request.POST.get("directory_kind")
    else:
        form = forms.DecisionForm(request.POST or None, referral=referral, open_case=open_case)
        kind = request.GET.get("kind")
    if request.method == "POST" and not filtering and form.is_valid():
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
    identity = selectors.child_identity(referral)
    log_access(
        request,
        action="referral.decide",
        referrals=[referral],
        children=[m["child"] for m in identity["matches"]],
        cases=[c for m in identity["matches"] for c in m["child"].match_cases],
    )
    kind = kind if kind in Service.Kind.values else None
    directory = selectors.services_directory(
        district=referral.district.code, age=referral.child.age, kind=kind
    )
    return render(
        request,
        "casework/referral_decide.html",
        {
            "referral": referral,
            "form": form,
            "open_case": open_case,
            "identity": identity,
            "directory": directory,
            "kinds": Service.Kind.choices,
            "kind": kind or "",
            "directory_filter": DIRECTORY_FILTER,
            "now": timezone.now(),
            **selectors.referral_dossier(referral),
        },
        status=422 if form.errors else 200,
    )


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
