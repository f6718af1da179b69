"""The case team's pages: the list, the case file, and one view per change of the case (the
plan, an action, a team member, a review, the closure); the case's trail and access report."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms import BaseForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services, trails
from casework.audit import access_report, log_access
from casework.models import Action, Case, CaseTeamMember, CaseTransfer
from protocols import steps

from .common import (
    apply,
    error_summary,
    form_errors_as_messages,
    render_trail,
    unlock_context,
    unlock_trail,
    visible_case,
)
from .family import family_context


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
    review form when the review is open. Its lists and its chronology are read in one query,
    the family's records and the forms' choices in a second (selectors.read_together)."""
    case = visible_case(request, pk)
    user = request.user
    read = selectors.read_together(selectors.case_page_reads(case))
    permissions.note_team(user, case, read["team"])
    actions, referrals, transfers = read["actions"], read["referrals"], read["transfers"]
    is_open = case.status == Case.Status.OPEN
    rights = permissions.case_page_rights(user, case)
    can_lead, is_supervisor = rights["lead"], rights["supervisor"]
    offered = steps.open_steps(
        case, ["case.review", "case.extraordinary_review", "case.bring_review_forward"]
    )
    review_due = offered["case.review"]
    timeline = selectors.timeline_of(case, read)
    kind = request.GET.get("kind") or None
    context = {
        "case": case,
        "team": read["team"],
        "actions": actions,
        "reviews": read["reviews"],
        "referrals": referrals,
        "attachments": read["attachments"],
        "timeline": trails.of_kind(timeline, kind),
        "kinds": trails.kinds(timeline),
        "kind": kind,
        "can_lead": can_lead,
        "is_supervisor": is_supervisor,
        "review_due": review_due,
        "history_allowed": rights["history"],
        "extraordinary_open": is_open
        and offered["case.extraordinary_review"]
        and permissions.can_hold_extraordinary_review(user, case),
        "forward_open": is_open
        and offered["case.bring_review_forward"]
        and permissions.can_bring_review_forward(user, case),
        "action_statuses": Action.Status.choices,
        "now": timezone.now(),
        "transfers": transfers,
        "handovers": read["handovers"],
        "pending_transfer": next(
            (t for t in transfers if t.status == CaseTransfer.Status.REQUESTED), None
        ),
    }
    if case.status != Case.Status.CLOSED and permissions.can_change_lead(user, case):
        context["lead_form"] = forms.ChangeLeadForm(case=case, prefix="lead")
    if is_open:
        context["attachment_form"] = forms.AttachmentForm()
        context["action_form"] = forms.ActionForm(case=case)
        if can_lead:
            context["plan_form"] = forms.PlanForm(initial={"objectives": case.plan.objectives})
            context["member_form"] = forms.TeamMemberForm(case=case, any_district=is_supervisor)
        if permissions.can_send_handover(user, case):
            context["handover_form"] = forms.HandOverForm(prefix="handover")
        if permissions.can_request_transfer(user, case) and context["pending_transfer"] is None:
            context["transfer_form"] = forms.TransferRequestForm(case=case, prefix="transfer")
        if review_due:
            context["review_form"] = forms.ReviewForm(
                actions=actions, initial={"risk_level": case.risk_level}
            )
        if context["extraordinary_open"]:
            context["extraordinary_form"] = forms.ExtraordinaryReviewForm(
                actions=actions, initial={"risk_level": case.risk_level}, prefix="extra"
            )
        if context["forward_open"]:
            context["forward_form"] = forms.BringForwardForm(prefix="forward")
    family = family_context(user, case)
    context.update(family)
    page_forms = [value for value in context.values() if isinstance(value, BaseForm)]
    more = selectors.read_together(
        {
            **(selectors.family_record_reads(case) if "family" in family else {}),
            **forms.choices_to_read(*page_forms),
        }
    )
    forms.fill_choices(page_forms, more)
    if "family" in family:
        context["family"] = {part: more[part] for part in selectors.FAMILY_PARTS}
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
    form = forms.ActionForm(request.POST, case=case)
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
    form = forms.TeamMemberForm(
        request.POST, case=case, any_district=permissions.is_supervisor(request.user, case)
    )
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
def case_extraordinary_review(request, pk):
    """The team records an extraordinary review, at any time while the case is open."""
    case = visible_case(request, pk)
    form = forms.ExtraordinaryReviewForm(
        request.POST, actions=case.plan.actions.all(), prefix="extra"
    )
    return _post(
        request,
        case,
        form,
        lambda: steps.run_step(
            "case.extraordinary_review", obj=case, actor=request.user, **form.review_fields()
        ),
        _("Extraordinary review recorded."),
    )


@require_POST
def case_review_forward(request, pk):
    """The lead brings the next periodic review forward (today: due at once)."""
    case = visible_case(request, pk)
    form = forms.BringForwardForm(request.POST, prefix="forward")
    return _post(
        request,
        case,
        form,
        lambda: steps.run_step(
            "case.bring_review_forward", obj=case, actor=request.user, **form.cleaned_data
        ),
        _("The next periodic review has been brought forward."),
    )


def case_close(request, pk):
    """The supervisor's decision on a proposed closure, in two steps: the page shows the review
    that proposed it and asks for an explicit choice (none is made in advance); the next page
    repeats the choice and its consequences and asks to confirm. Only the confirmation runs the
    protocol step."""
    case = visible_case(request, pk)
    if not permissions.can_decide_closure(request.user, case):
        raise PermissionDenied
    if case.status != Case.Status.CLOSURE_REQUESTED:
        messages.error(request, _("No closure awaits your decision on this case."))
        return redirect(case)
    form = forms.ClosureForm(request.POST or None)
    confirming = False
    if request.method == "POST" and form.is_valid():
        if "confirm" in request.POST:
            _result, ok = apply(
                request,
                form,
                lambda: steps.run_step(
                    "case.decide_closure",
                    obj=case,
                    actor=request.user,
                    approve=form.cleaned_data["approve"],
                    reason=form.cleaned_data["reason"],
                ),
            )
            if ok:
                messages.success(
                    request,
                    _(
                        "The case is closed; the school is told that the social service has "
                        "concluded its involvement."
                    )
                    if form.cleaned_data["approve"]
                    else _("The case stays open; the lead worker is told why."),
                )
                return redirect(case)
        else:
            confirming = "change" not in request.POST
    log_access(request, action="case.closure_decision", cases=[case])
    summary = error_summary(form)
    return render(
        request,
        "casework/case_closure.html",
        {
            "case": case,
            "form": form,
            "confirming": confirming and not summary,
            "review": selectors.closure_proposal(case),
            "actions": {str(a.pk): a for a in selectors.case_actions(case)},
            "error_summary": summary,
        },
        status=422 if summary else 200,
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
    values = permissions.reads_case_history_values(request.user, case)
    rows = selectors.case_history(case, values=values)
    visible = selectors.cases_visible_to(request.user).filter(pk=case.pk).exists()
    return render_trail(
        request,
        title=case.reference,
        rows=rows,
        obj=case,
        visible=visible,
        **unlock_context(request, values, "casework:case_history_unlock", case),
    )


@require_POST
def case_history_unlock(request, pk):
    """Break-glass: the auditor states why they must read the values of this trail."""
    case = selectors.case_for_trail(request.user, pk)
    return unlock_trail(request, case=case)


def case_access(request, pk):
    """Who has looked at this file: the lead worker, the supervisor and the auditor may ask."""
    case = selectors.case_for_trail(request.user, pk)
    log_access(request, action="case.access_report", cases=[case])
    visible = selectors.cases_visible_to(request.user).filter(pk=case.pk).exists()
    back = case.get_absolute_url() if visible else reverse("casework:audit_search")
    return render(
        request,
        "casework/access_report.html",
        {"case": case, "rows": access_report(case), "back_url": back},
    )
