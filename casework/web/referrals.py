"""The school's side of a referral: the form (a new referral, a draft), the referral page,
the referent's validation, the referrer's answer to a question; and the referral's trail."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services
from casework.audit import log_access
from casework.indicators import INDICATORS, label
from casework.models import ConcernCategory, Referral
from protocols import steps

from .common import apply, unlock_context, unlock_trail, visible_referral

# --- the form -----------------------------------------------------------------------------


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
                child = services.child_create(
                    actor=request.user,
                    school=school,
                    district=school.district,
                    **child_form.child_data(),
                )
                return services.referral_create_draft(
                    actor=request.user, child=child, **form.referral_fields()
                )

        referral, ok = apply(request, form, create)
        if ok:
            if "submit" in request.POST:
                return _submit(request, referral, form)
            messages.success(request, _("Draft saved. You can come back to it at any time."))
            return redirect("casework:referral_edit", pk=referral.pk)
    return _form_page(request, form, school=school, child_form=child_form)


def referral_edit(request, pk):
    referral = visible_referral(request, pk)
    if referral.referrer_id != request.user.pk or referral.status != Referral.Status.DRAFT:
        return redirect(referral)
    form = forms.ReferralForm(
        request.POST or None, initial=forms.ReferralForm.initial_from(referral)
    )
    if request.method == "POST" and form.is_valid():
        _result, ok = apply(
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
    _result, ok = apply(
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


# --- the referral page --------------------------------------------------------------------


def referral_detail(request, pk):
    referral = visible_referral(request, pk)
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


def referral_history(request, pk):
    referral = selectors.referral_for_trail(request.user, pk)
    log_access(request, action="referral.history", referrals=[referral])
    values = permissions.reads_referral_history_values(request.user, referral)
    return render(
        request,
        "casework/history.html",
        {
            "title": _("Referral %(pk)s") % {"pk": pk},
            "rows": selectors.referral_history(referral, values=values),
            "back": referral,
            **unlock_context(request, values, "casework:referral_history_unlock", referral),
        },
    )


@require_POST
def referral_history_unlock(request, pk):
    """Break-glass: the auditor states why they must read the values of this trail."""
    referral = selectors.referral_for_trail(request.user, pk)
    return unlock_trail(request, referral=referral)


# --- the school's actions -------------------------------------------------------------------


@require_POST
def referral_validate(request, pk):
    """The school referent sends a referral of the school on to the social team."""
    referral = visible_referral(request, pk)
    _result, ok = apply(
        request,
        None,
        lambda: steps.run_step("referral.validate", obj=referral, actor=request.user),
    )
    if ok:
        messages.success(request, _("The referral is sent to the social team."))
    return redirect(referral)


@require_POST
def referral_answer(request, pk):
    """The referrer answers the social team's question."""
    referral = visible_referral(request, pk)
    form = forms.AnswerForm(request.POST)
    if form.is_valid():
        _result, ok = apply(
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
