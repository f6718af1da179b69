"""The case team's pages: the list, the case file, and one view per change of the case (the
plan, an action, a team member, a review, the closure); the case's trail and access report."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services
from casework.audit import access_report, log_access
from casework.models import Action, Case, CaseTeamMember
from protocols import steps

from .common import apply, form_errors_as_messages, visible_case


def case_list(request):
    cases = (
        selectors.cases_visible_to(request.user)
        .select_related("child", "lead_worker", "district")
        .order_by("status", "next_review_at", "pk")
    )
    status = request.GET.get("status")
    if status in Case.Status.values:
        cases = cases.filter(status=status)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    log_access(request, action="case.list", cases=[c.pk for c in page])
    return render(
        request,
        "casework/case_list.html",
        {"page": page, "statuses": Case.Status.choices, "status": status, "now": timezone.now()},
    )


def case_detail(request, pk):
    """The case file. Only the forms the reader may use are built and shown: the team's
    changes for the lead and the supervisor, the closure decision for the supervisor, the
    review form when the review is open."""
    case = visible_case(request, pk)
    user = request.user
    actions = selectors.case_actions(case)
    referrals = list(case.referrals.select_related("school", "referrer"))
    is_open = case.status == Case.Status.OPEN
    rights = permissions.case_page_rights(user, case)
    can_lead, is_supervisor = rights["lead"], rights["supervisor"]
    review_due = steps.is_open("case.review", case)
    context = {
        "case": case,
        "team": selectors.case_team(case),
        "actions": actions,
        "reviews": case.reviews.select_related("recorded_by").order_by("-scheduled_for"),
        "referrals": referrals,
        "attachments": case.attachments.all(),
        "timeline": selectors.case_timeline(case, [r.pk for r in referrals]),
        "can_lead": can_lead,
        "is_supervisor": is_supervisor,
        "review_due": review_due,
        "history_allowed": rights["history"],
        "action_statuses": Action.Status.choices,
        "now": timezone.now(),
    }
    if is_open:
        context["attachment_form"] = forms.AttachmentForm()
        context["action_form"] = forms.ActionForm()
        if can_lead:
            context["plan_form"] = forms.PlanForm(initial={"objectives": case.plan.objectives})
            context["member_form"] = forms.TeamMemberForm()
        if review_due:
            context["review_form"] = forms.ReviewForm(
                actions=actions, initial={"risk_level": case.risk_level}
            )
    elif case.status == Case.Status.CLOSURE_REQUESTED and is_supervisor:
        context["closure_form"] = forms.ClosureForm()
    log_access(request, action="case.view", cases=[case], referrals=referrals)
    return render(request, "casework/case_detail.html", context)


def _post(request, case, form, change, done):
    """The case page's forms: the change if the form is valid, then back to the case with a
    message (the errors, or `done`)."""
    if form.is_valid():
        _result, ok = apply(request, form, change)
        if ok:
            messages.success(request, done)
            return redirect(case)
    form_errors_as_messages(request, form)
    return redirect(case)


# --- the changes: one view each -----------------------------------------------------------------


@require_POST
def case_plan(request, pk):
    """The lead worker writes the plan (a protocol step)."""
    case = visible_case(request, pk)
    form = forms.PlanForm(request.POST)
    return _post(
        request,
        case,
        form,
        lambda: steps.run_step(
            "case.plan", obj=case, actor=request.user, objectives=form.cleaned_data["objectives"]
        ),
        _("The plan is saved."),
    )


@require_POST
def case_action_add(request, pk):
    case = visible_case(request, pk)
    form = forms.ActionForm(request.POST)
    return _post(
        request,
        case,
        form,
        lambda: services.case_add_action(actor=request.user, case=case, **form.cleaned_data),
        _("Action added to the plan."),
    )


@require_POST
def case_member_add(request, pk):
    case = visible_case(request, pk)
    form = forms.TeamMemberForm(request.POST)
    return _post(
        request,
        case,
        form,
        lambda: services.case_add_member(actor=request.user, case=case, **form.cleaned_data),
        _("The professional has joined the team."),
    )


@require_POST
def case_review(request, pk):
    """The team records the periodic review (a protocol step)."""
    case = visible_case(request, pk)
    form = forms.ReviewForm(request.POST, actions=case.plan.actions.all())
    return _post(
        request,
        case,
        form,
        lambda: steps.run_step("case.review", obj=case, actor=request.user, **form.review_fields()),
        _("Review recorded."),
    )


@require_POST
def case_close(request, pk):
    """The close button: the lead proposes closure at the due review; the supervisor decides a
    proposed closure (protocols.steps.closure picks the step)."""
    case = visible_case(request, pk)
    form = forms.ClosureForm(request.POST)
    return _post(
        request,
        case,
        form,
        lambda: steps.closure(case=case, actor=request.user, **form.cleaned_data),
        _("Closure updated."),
    )


@require_POST
def action_change(request, pk, action_pk):
    case = visible_case(request, pk)
    action = get_object_or_404(Action, pk=action_pk, plan__case=case)
    form = forms.ActionUpdateForm(request.POST)
    if form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.action_update(actor=request.user, action=action, **form.cleaned_data),
        )
        if ok:
            messages.success(request, _("Action updated."))
    return redirect(case)


@require_POST
def member_remove(request, pk, member_pk):
    case = visible_case(request, pk)
    member = get_object_or_404(CaseTeamMember, pk=member_pk, case=case)
    _result, ok = apply(
        request, None, lambda: services.case_remove_member(actor=request.user, member=member)
    )
    if ok:
        messages.success(request, _("The professional has left the team."))
    return redirect(case)


# --- the trail ----------------------------------------------------------------------------------


def case_history(request, pk):
    case = selectors.case_for_trail(request.user, pk)
    log_access(request, action="case.history", cases=[case])
    return render(
        request,
        "casework/history.html",
        {
            "title": case.reference,
            "rows": selectors.case_history(
                case, values=permissions.reads_case_history_values(request.user, case)
            ),
            "back": case,
        },
    )


def case_access(request, pk):
    """Who has looked at this file: the lead worker, the supervisor and the auditor may ask."""
    case = selectors.case_for_trail(request.user, pk)
    log_access(request, action="case.access_report", cases=[case])
    return render(
        request, "casework/access_report.html", {"case": case, "rows": access_report(case)}
    )
