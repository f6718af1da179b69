"""The web pages: plain function views, an access helper per object at the top, the changes
made by casework.services — a protocol step only through protocols.steps.run_step."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from protocols import steps

from . import forms, permissions, selectors, services
from .audit import access_report, log_access
from .indicators import INDICATORS, label
from .models import (
    Action,
    Agency,
    Attachment,
    Case,
    CaseTeamMember,
    ConcernCategory,
    Contact,
    Membership,
    Notification,
    Referral,
    Service,
    Urgency,
)
from .services import TransitionNotAllowed

# --- access helpers ----------------------------------------------------------------------


def _visible_referral(request, pk) -> Referral:
    return get_object_or_404(
        selectors.referrals_visible_to(request.user).select_related(
            "child",
            "school",
            "district",
            "referrer",
            "claimed_by",
            "decided_by",
            "contact_person",
            "redirected_to",
            "case",
        ),
        pk=pk,
    )


def _visible_case(request, pk) -> Case:
    return get_object_or_404(
        selectors.cases_visible_to(request.user).select_related(
            "child", "district", "lead_worker", "plan"
        ),
        pk=pk,
    )


def _apply(request, form, change):
    """Run a service; its refusals become messages next to the fields or at the top."""
    try:
        return change(), True
    except ValidationError as error:
        if form is not None and hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.error(request, " ".join(error.messages))
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You are not allowed to do this."))
    return None, False


# --- home ---------------------------------------------------------------------------------


def home(request):
    user = request.user
    now = timezone.now()
    context = {"now": now}
    roles = set(Membership.objects.filter(user=user, active=True).values_list("role", flat=True))
    context["roles"] = roles
    if roles & {Membership.Role.TEACHER, Membership.Role.SCHOOL_REFERENT}:
        own = Referral.objects.filter(referrer=user).select_related("child").order_by("-updated_at")
        context["drafts"] = own.filter(status=Referral.Status.DRAFT)
        context["waiting_for_me"] = own.filter(status=Referral.Status.INFORMATION_REQUESTED)
        context["sent"] = own.exclude(
            status__in=[Referral.Status.DRAFT, Referral.Status.INFORMATION_REQUESTED]
        )[:20]
        if permissions.schools_for(user).exists():
            context["to_validate"] = (
                selectors.referrals_visible_to(user)
                .filter(status=Referral.Status.AWAITING_VALIDATION)
                .select_related("child", "referrer")
            )
    if permissions.districts_for(user).exists():
        queue = selectors.triage_queue(user)
        context["queue_counts"] = {
            row["urgency"]: row["n"]
            for row in queue.order_by().values("urgency").annotate(n=Count("pk"))
        }
        context["queue_total"] = sum(context["queue_counts"].values())
        context["queue_overdue"] = queue.filter(triage_due_at__lt=now).count()
        context["my_claimed"] = queue.filter(claimed_by=user)
        context["urgencies"] = Urgency.choices
    cases = selectors.cases_visible_to(user)
    my_cases = cases.filter(pk__in=selectors.active_case_ids(user)).exclude(
        status=Case.Status.CLOSED
    )
    if my_cases.exists():
        context["my_cases"] = my_cases.select_related("child").order_by("next_review_at")
        context["actions_due"] = (
            Action.objects.filter(owner=user, status__in=["planned", "in_progress"])
            .filter(due_date__lte=timezone.localdate() + datetime.timedelta(days=14))
            .select_related("plan__case")
            .order_by("due_date")
        )
        context["reviews_soon"] = my_cases.filter(
            next_review_at__lte=now + datetime.timedelta(days=14)
        ).order_by("next_review_at")
    supervised = permissions.districts_for(user, permissions.SUPERVISE)
    if supervised.exists():
        district_referrals = Referral.objects.filter(district__in=supervised)
        context["supervisor"] = {
            "overdue": district_referrals.filter(
                status__in=selectors.QUEUE_STATUSES[:2], triage_due_at__lt=now
            )
            .select_related("school")
            .order_by("triage_due_at"),
            "escalations": district_referrals.filter(
                status=Referral.Status.ESCALATED,
                decided_at__gte=now - datetime.timedelta(days=30),
            ).order_by("-decided_at"),
            "closures": Case.objects.filter(
                district__in=supervised, status=Case.Status.CLOSURE_REQUESTED
            ).select_related("lead_worker", "child"),
        }
    _log_home(request, context)
    return render(request, "casework/home.html", context)


def _log_home(request, context):
    """The home page shows lists of referrals and cases: each one shown is a read."""
    referrals, cases = [], []
    for key in ("drafts", "waiting_for_me", "sent", "to_validate", "my_claimed"):
        if context.get(key) is not None:
            context[key] = list(context[key])
            referrals += context[key]
    if context.get("my_cases") is not None:
        context["my_cases"] = list(context["my_cases"])
        cases += context["my_cases"]
        context["reviews_soon"] = list(context["reviews_soon"])
        cases += context["reviews_soon"]
        context["actions_due"] = list(context["actions_due"])
        cases += [action.plan.case for action in context["actions_due"]]
    if context.get("supervisor"):
        board = context["supervisor"]
        for key in ("overdue", "escalations", "closures"):
            board[key] = list(board[key])
        referrals += board["overdue"] + board["escalations"]
        cases += board["closures"]
    log_access(
        request,
        action="home",
        referrals={r.pk for r in referrals},
        cases={c.pk for c in cases},
    )


# --- the referral form -------------------------------------------------------------------


def referral_new(request):
    try:
        school = services.referrer_school(request.user)
    except PermissionDenied:
        raise Http404 from None
    child_form = forms.ChildForm(request.POST or None, prefix="child")
    form = forms.ReferralForm(request.POST or None)
    if request.method == "POST" and child_form.is_valid() and form.is_valid():

        def create():
            with transaction.atomic():
                child = services.child_find_or_create(
                    actor=request.user,
                    school=school,
                    district=school.district,
                    **child_form.child_data(),
                )
                return services.referral_create_draft(
                    actor=request.user, child=child, **form.referral_fields()
                )

        referral, ok = _apply(request, form, create)
        if ok:
            if "submit" in request.POST:
                return _submit(request, referral, form)
            messages.success(request, _("Draft saved. You can come back to it at any time."))
            return redirect("casework:referral_edit", pk=referral.pk)
    return _form_page(request, form, school=school, child_form=child_form)


def referral_edit(request, pk):
    referral = _visible_referral(request, pk)
    if referral.referrer_id != request.user.pk or referral.status != Referral.Status.DRAFT:
        return redirect(referral)
    form = forms.ReferralForm(
        request.POST or None, initial=forms.ReferralForm.initial_from(referral)
    )
    if request.method == "POST" and form.is_valid():
        _result, ok = _apply(
            request,
            form,
            lambda: services.referral_update_draft(
                actor=request.user, referral=referral, **form.referral_fields()
            ),
        )
        if ok:
            if "submit" in request.POST:
                return _submit(request, referral, form)
            messages.success(request, _("Draft saved."))
            return redirect("casework:referral_edit", pk=referral.pk)
    return _form_page(request, form, school=referral.school, referral=referral)


def _form_page(request, form, *, school, referral=None, child_form=None, status=200):
    """The referral form page: a new referral (with the child's section) or a draft."""
    context = {"form": form, "school": school, "indicators": _indicator_groups(form)}
    if referral is None:
        context["child_form"] = child_form
    else:
        context.update(referral=referral, attachment_form=forms.AttachmentForm())
    return render(request, "casework/referral_form.html", context, status=status)


def _submit(request, referral, form):
    referral.refresh_from_db()
    result, ok = _apply(
        request, form, lambda: steps.run_step("referral.submit", obj=referral, actor=request.user)
    )
    if not ok:
        messages.error(request, _("The draft is saved, but it cannot be sent yet."))
        return _form_page(request, form, school=referral.school, referral=referral, status=422)
    messages.success(request, _("Referral sent."))
    return redirect(referral)


def _indicator_groups(form):
    """The checklist grouped by area, with each box bound to the form's current value."""
    chosen = set(form["indicator_codes"].value() or [])
    labels = dict(ConcernCategory.choices)
    return [
        {
            "category": category,
            "label": labels[category],
            "items": [
                {"code": code, "label": text, "checked": code in chosen} for code, text in items
            ],
        }
        for category, items in INDICATORS.items()
    ]


# --- the referral page -------------------------------------------------------------------


def referral_detail(request, pk):
    referral = _visible_referral(request, pk)
    full = permissions.referral_view_level(request.user, referral) == "full"
    context = {
        "referral": referral,
        "full": full,
        "indicator_labels": [label(code) for code in referral.indicators],
        "requests": referral.information_requests.all(),
        "emergency": services.emergency_guidance(referral),
        "is_referrer": referral.referrer_id == request.user.pk,
        "can_triage": permissions.can_triage(request.user, referral),
        "can_validate": referral.status == Referral.Status.AWAITING_VALIDATION
        and permissions.can_validate(request.user, referral.school),
        "answer_form": forms.AnswerForm(),
        "attachments": referral.attachments.all(),
    }
    if full:
        context["open_case"] = services.open_case_for(referral.child)
        context["history_allowed"] = permissions.may_read_referral_history(request.user, referral)
    log_access(request, action="referral.view", referrals=[referral])
    return render(request, "casework/referral_detail.html", context)


@require_POST
def referral_transition(request, pk, verb):
    referral = _visible_referral(request, pk)
    if verb not in ("claim", "release", "validate"):
        raise Http404
    _result, ok = _apply(
        request,
        None,
        lambda: steps.run_step(f"referral.{verb}", obj=referral, actor=request.user),
    )
    if ok:
        messages.success(
            request,
            {
                "claim": _("You have claimed the referral."),
                "release": _("The referral is back in the queue."),
                "validate": _("The referral is sent to the social team."),
            }[verb],
        )
    return redirect(referral)


@require_POST
def referral_answer(request, pk):
    referral = _visible_referral(request, pk)
    form = forms.AnswerForm(request.POST)
    if form.is_valid():
        _result, ok = _apply(
            request,
            form,
            lambda: steps.run_step(
                "referral.answer",
                obj=referral,
                actor=request.user,
                answer=form.cleaned_data["answer"],
            ),
        )
        if ok:
            messages.success(request, _("Answer sent to the social team."))
    else:
        messages.error(request, _("Write your answer."))
    return redirect(referral)


def referral_decide(request, pk):
    referral = _visible_referral(request, pk)
    if not permissions.can_triage(request.user, referral):
        raise PermissionDenied
    if referral.status not in (Referral.Status.SUBMITTED, Referral.Status.IN_TRIAGE):
        messages.info(request, _("This referral is not waiting for a decision."))
        return redirect(referral)
    lead_workers = services.members_of(
        permissions.district_triage_group(referral.district)
    ).order_by("last_name")
    form = forms.DecisionForm(request.POST or None, referral=referral, lead_workers=lead_workers)
    if request.method == "POST" and form.is_valid():
        _result, ok = _apply(
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
    age = referral.child.age
    directory = selectors.services_directory(
        district=referral.district.code, age=age, kind=request.GET.get("kind") or None
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


# --- the triage queue ---------------------------------------------------------------------

QUEUE_SORTS = {
    "urgency": ("urgency_rank", "triage_due_at", "pk"),
    "deadline": ("triage_due_at", "urgency_rank", "pk"),
    "submitted": ("submitted_at", "pk"),
}


def queue(request):
    if not permissions.districts_for(request.user).exists():
        raise PermissionDenied
    now = timezone.now()
    referrals = selectors.triage_queue(request.user)
    params = request.GET
    if params.get("urgency") in Urgency.values:
        referrals = referrals.filter(urgency=params["urgency"])
    if params.get("school", "").isdigit():
        referrals = referrals.filter(school_id=int(params["school"]))
    if params.get("overdue") == "1":
        referrals = referrals.filter(triage_due_at__lt=now)
    if params.get("mine") == "1":
        referrals = referrals.filter(claimed_by=request.user)
    today = timezone.localdate()
    for name, lookup in (
        ("age_min", "child__date_of_birth__lte"),
        ("age_max", "child__date_of_birth__gt"),
    ):
        value = params.get(name, "")
        if value.isdigit():
            years = int(value) + (1 if name == "age_max" else 0)
            try:
                referrals = referrals.filter(**{lookup: today.replace(year=today.year - years)})
            except ValueError:  # 29 February
                referrals = referrals.filter(
                    **{lookup: today.replace(year=today.year - years, day=28)}
                )
    sort = params.get("sort", "urgency")
    referrals = referrals.order_by(*QUEUE_SORTS.get(sort, QUEUE_SORTS["urgency"]))
    page = Paginator(referrals, 50).get_page(params.get("page"))
    log_access(request, action="queue", referrals=[r.pk for r in page])
    schools = Agency.objects.filter(
        kind=Agency.Kind.SCHOOL, district__in=permissions.districts_for(request.user)
    ).order_by("name")
    return render(
        request,
        "casework/queue.html",
        {
            "page": page,
            "now": now,
            "sort": sort,
            "schools": schools,
            "urgencies": Urgency.choices,
            "params": params,
        },
    )


# --- cases ----------------------------------------------------------------------------------


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
    case = _visible_case(request, pk)
    user = request.user
    actions = list(case.plan.actions.select_related("owning_agency", "owner"))
    review_due = steps.is_open("case.review", case)
    context = {
        "case": case,
        "team": case.team.filter(removed_at__isnull=True).select_related("user", "agency"),
        "actions": actions,
        "reviews": case.reviews.select_related("recorded_by").order_by("-scheduled_for"),
        "referrals": case.referrals.select_related("school", "referrer"),
        "attachments": case.attachments.all(),
        "attachment_form": forms.AttachmentForm(),
        "timeline": _timeline(case),
        "can_lead": permissions.can_lead_case(user, case),
        "is_supervisor": permissions.is_supervisor(user, case),
        "review_due": review_due,
        "plan_form": forms.PlanForm(initial={"objectives": case.plan.objectives}),
        "action_form": forms.ActionForm(),
        "member_form": forms.TeamMemberForm(),
        "review_form": forms.ReviewForm(actions=actions, initial={"risk_level": case.risk_level}),
        "closure_form": forms.ClosureForm(),
        "history_allowed": permissions.may_read_case_history(user, case),
        "action_statuses": Action.Status.choices,
        "now": timezone.now(),
    }
    log_access(request, action="case.view", cases=[case], referrals=context["referrals"])
    return render(request, "casework/case_detail.html", context)


def _timeline(case: Case) -> list[dict]:
    """Every event of the case and of its referrals, in one chronology."""
    return [
        row
        for row in selectors.case_history(case)
        if row["reason"] and not row["reason"].startswith("test.")
    ] + [row for referral in case.referrals.all() for row in selectors.referral_history(referral)]


@require_POST
def case_change(request, pk, what):
    case = _visible_case(request, pk)
    user = request.user
    post = request.POST
    form = None
    if what == "plan":
        form = forms.PlanForm(post)
        change = lambda: steps.run_step(  # noqa: E731
            "case.plan", obj=case, actor=user, objectives=form.cleaned_data["objectives"]
        )
        done = _("The plan is saved.")
    elif what == "action":
        form = forms.ActionForm(post)
        change = lambda: services.case_add_action(actor=user, case=case, **form.cleaned_data)  # noqa: E731
        done = _("Action added to the plan.")
    elif what == "member":
        form = forms.TeamMemberForm(post)
        change = lambda: services.case_add_member(actor=user, case=case, **form.cleaned_data)  # noqa: E731
        done = _("The professional has joined the team.")
    elif what == "review":
        actions = list(case.plan.actions.all())
        form = forms.ReviewForm(post, actions=actions)
        change = lambda: steps.run_step(  # noqa: E731
            "case.review", obj=case, actor=user, **form.review_fields()
        )
        done = _("Review recorded.")
    elif what == "close":
        form = forms.ClosureForm(post)
        change = lambda: steps.closure(case=case, actor=user, **form.cleaned_data)  # noqa: E731
        done = _("Closure updated.")
    else:
        raise Http404
    if form.is_valid():
        _result, ok = _apply(request, form, change)
        if ok:
            messages.success(request, done)
            return redirect(case)
    for field, errors in form.errors.items():
        name = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{name}: {' '.join(errors)}" if name else " ".join(errors))
    return redirect(case)


@require_POST
def action_change(request, pk, action_pk):
    case = _visible_case(request, pk)
    action = get_object_or_404(Action, pk=action_pk, plan__case=case)
    form = forms.ActionUpdateForm(request.POST)
    if form.is_valid():
        _result, ok = _apply(
            request,
            form,
            lambda: services.action_update(actor=request.user, action=action, **form.cleaned_data),
        )
        if ok:
            messages.success(request, _("Action updated."))
    return redirect(case)


@require_POST
def member_remove(request, pk, member_pk):
    case = _visible_case(request, pk)
    member = get_object_or_404(CaseTeamMember, pk=member_pk, case=case)
    _result, ok = _apply(
        request, None, lambda: services.case_remove_member(actor=request.user, member=member)
    )
    if ok:
        messages.success(request, _("The professional has left the team."))
    return redirect(case)


def referral_history(request, pk):
    referral = selectors.referral_for_trail(request.user, pk)
    log_access(request, action="referral.history", referrals=[referral])
    return render(
        request,
        "casework/history.html",
        {
            "title": _("Referral %(pk)s") % {"pk": pk},
            "rows": selectors.referral_history(referral),
            "back": referral,
        },
    )


def case_history(request, pk):
    case = selectors.case_for_trail(request.user, pk)
    log_access(request, action="case.history", cases=[case])
    return render(
        request,
        "casework/history.html",
        {"title": case.reference, "rows": selectors.case_history(case), "back": case},
    )


def case_access(request, pk):
    """Who has looked at this file: the lead worker, the supervisor and the auditor may ask."""
    case = selectors.case_for_trail(request.user, pk)
    log_access(request, action="case.access_report", cases=[case])
    return render(
        request, "casework/access_report.html", {"case": case, "rows": access_report(case)}
    )


# --- attachments ------------------------------------------------------------------------------


@require_POST
def attachment_upload(request, kind, pk):
    form = forms.AttachmentForm(request.POST, request.FILES)
    if kind == "case":
        target = _visible_case(request, pk)
        attach = {"case": target}
    else:
        target = _visible_referral(request, pk)
        attach = {"referral": target}
    if form.is_valid():
        _result, ok = _apply(
            request,
            form,
            lambda: services.attachment_add(
                actor=request.user,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                **attach,
            ),
        )
        if ok:
            messages.success(request, _("Document attached."))
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    if kind == "referral" and target.status == Referral.Status.DRAFT:
        return redirect("casework:referral_edit", pk=target.pk)
    return redirect(target)


def attachment_download(request, pk):
    """Served only to those who may see the case or the referral it belongs to; logged."""
    attachment = get_object_or_404(Attachment, pk=pk)
    if attachment.case_id:
        visible = selectors.cases_visible_to(request.user).filter(pk=attachment.case_id)
        logged = {"cases": [attachment.case_id]}
    else:
        visible = selectors.referrals_visible_to(request.user).filter(pk=attachment.referral_id)
        logged = {"referrals": [attachment.referral_id]}
    if not visible.exists():
        raise Http404
    log_access(request, action="attachment.download", door="download", **logged)
    extension = services.ALLOWED_ATTACHMENT_TYPES.get(attachment.content_type, "")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=f"{slugify(attachment.title) or 'document'}{extension}",
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "no-store"
    return response


# --- helpline and indicators --------------------------------------------------------------------


def contacts(request):
    """The helpline's contact log: record a contact and the services the family was sent to."""
    if not permissions.can_log_contacts(request.user):
        raise PermissionDenied
    form = forms.ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _result, ok = _apply(
            request, form, lambda: services.contact_record(actor=request.user, **form.cleaned_data)
        )
        if ok:
            messages.success(request, _("Contact recorded."))
            return redirect("casework:contacts")
    recent = Contact.objects.select_related("district").prefetch_related("services")[:50]
    return render(request, "casework/contacts.html", {"form": form, "recent": recent})


def indicators(request):
    """Yearly indicators of the network, for the district supervisors (their districts)."""
    if not permissions.reads_indicators(request.user):
        raise PermissionDenied
    # The administrator reads the whole network's figures; a supervisor their districts'.
    districts = (
        None
        if request.user.is_superuser
        else permissions.districts_for(request.user, permissions.SUPERVISE)
    )
    this_year = timezone.localdate().year
    year_param = request.GET.get("year", "")
    year = (
        int(year_param) if year_param.isdigit() and 2000 <= int(year_param) <= 2100 else (this_year)
    )
    report = selectors.yearly_indicators(year, districts)
    labels = {
        **dict(Referral.Status.choices),
        **dict(Urgency.choices),
        **dict(ConcernCategory.choices),
        **dict(Contact.Channel.choices),
        **dict(Contact.Category.choices),
    }
    sections = [
        (_("Referrals by outcome"), report["referrals_by_status"]),
        (_("Referrals by urgency"), report["referrals_by_urgency"]),
        (_("Referrals by area of concern"), report["referrals_by_concern"]),
        (_("Referrals by district"), report["referrals_by_district"]),
        (_("Helpline contacts by channel"), report["contacts_by_channel"]),
        (_("Helpline contacts by category"), report["contacts_by_category"]),
    ]
    return render(
        request,
        "casework/indicators.html",
        {
            "report": report,
            "sections": [
                (
                    title,
                    sorted(
                        ((labels.get(k, k), n) for k, n in rows.items()), key=lambda row: -row[1]
                    ),
                )
                for title, rows in sections
            ],
            "years": range(this_year, this_year - 6, -1),
        },
    )


# --- directory and notifications --------------------------------------------------------------


def directory(request):
    params = request.GET
    age = params.get("age", "")
    entries = selectors.services_directory(
        district=params.get("district") or None,
        kind=params.get("kind") or None,
        age=int(age) if age.isdigit() else None,
        q=params.get("q") or None,
    )
    from .models import District

    return render(
        request,
        "casework/directory.html",
        {
            "entries": entries,
            "kinds": Service.Kind.choices,
            "districts": District.objects.order_by("name"),
            "params": params,
        },
    )


def notifications(request):
    items = Notification.objects.filter(recipient=request.user).select_related("referral", "case")[
        :100
    ]
    return render(request, "casework/notifications.html", {"items": items})


def notification_open(request, pk):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.notification_mark_read(actor=request.user, notification=notification)
    target = notification.case or notification.referral
    if target is not None:
        return redirect(target)
    return redirect("casework:notifications")
