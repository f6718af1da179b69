"""The school's side of a referral: the form (a new referral, a draft), the referral page,
the referent's validation, the referrer's answer to a question; and the referral's trail."""

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, prevention, selectors, services
from casework.audit import log_access
from casework.indicators import INDICATORS, label
from casework.models import ConcernCategory, Referral
from protocols import steps

from .common import (
    apply,
    error_summary,
    render_trail,
    unlock_context,
    unlock_trail,
    visible_referral,
)

# --- the form -----------------------------------------------------------------------------
#
# Nothing is saved from a send that fails: every error (the child, the form, what the protocol
# needs before sending) comes back at once, with what was typed. A send that passes is saved
# as a draft and shown on a confirmation page; only the confirmation sends it.


def _valid_key(value: str) -> bool:
    return 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()


def referral_new(request):
    """The new form's address carries a one-time key (?k=…), given by a redirect on the first
    visit. Back brings the browser to that same address, so "Send" again carries the first
    key and finds the referral it made (services.referral_create_with_child): no second one.
    The key is in the address, not in a hidden field, because a page fetched again on Back
    gets a new hidden field but keeps its address."""
    try:
        school = services.referrer_school(request.user)
    except PermissionDenied:
        raise Http404 from None
    token = request.GET.get("k", "")
    if not _valid_key(token):
        fresh = secrets.token_urlsafe(24)
        if request.method != "POST":
            return redirect(f"{reverse('casework:referral_new')}?k={fresh}")
        token = fresh  # a client posting without the page's key: no repeat to recognise
    sending = "submit" in request.POST
    child_form = forms.ChildForm(request.POST or None, prefix="child")
    form = forms.ReferralForm(
        request.POST or None,
        sending=sending,
        protocol=selectors.protocol_for(school.district),
    )
    if request.method == "POST":
        child_ok = child_form.is_valid()
        if form.is_valid() and child_ok:
            result, ok = apply(
                request,
                form,
                lambda: services.referral_create_with_child(
                    actor=request.user,
                    child=child_form.child_data(),
                    idempotency_key=token,
                    **form.referral_fields(),
                ),
            )
            if ok:
                referral, created = result
                if not created:
                    return _again(request, referral, form, sending)
                return _saved(request, referral, sending)
    return _form_page(request, form, school=school, child_form=child_form, token=token)


def _again(request, referral, form, sending):
    """The new form came again with the key of a referral it already made."""
    if referral.deleted_at is not None:
        messages.info(request, _("This draft is already deleted."))
        return redirect("casework:index")
    if referral.status != Referral.Status.DRAFT:
        messages.info(request, _("This referral was already sent: it was not sent twice."))
        return redirect("casework:referral_sent", pk=referral.pk)
    _result, ok = apply(
        request,
        form,
        lambda: services.referral_update_draft(
            actor=request.user, referral=referral, **form.referral_fields()
        ),
    )
    if not ok:
        return _form_page(request, form, school=referral.school, referral=referral)
    return _saved(request, referral, sending)


def _saved(request, referral, sending):
    if sending:
        return redirect("casework:referral_confirm", pk=referral.pk)
    messages.success(request, _("Draft saved. You can come back to it at any time."))
    return redirect("casework:referral_edit", pk=referral.pk)


def _own_draft(request, pk) -> Referral:
    referral = visible_referral(request, pk)
    if referral.referrer_id != request.user.pk:
        raise Http404
    return referral


def referral_edit(request, pk):
    referral = _own_draft(request, pk)
    if referral.status != Referral.Status.DRAFT:
        return redirect(referral)
    sending = "submit" in request.POST
    form = forms.ReferralForm(
        request.POST or None,
        initial=forms.ReferralForm.initial_from(referral),
        sending=sending,
        protocol=selectors.protocol_for(referral),
    )
    # The child as the teacher typed it, correctable while the referral is a draft.
    child_form = forms.ChildForm(
        request.POST or None,
        prefix="child",
        initial=forms.ChildForm.initial_from(referral.child),
    )
    if request.method == "POST" and child_form.is_valid() and form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: _update_draft(request, referral, child_form, form),
        )
        if ok:
            if sending:
                return redirect("casework:referral_confirm", pk=referral.pk)
            messages.success(request, _("Draft saved."))
            return redirect("casework:referral_edit", pk=referral.pk)
    return _form_page(
        request, form, school=referral.school, referral=referral, child_form=child_form
    )


@transaction.atomic
def _update_draft(request, referral, child_form, form):
    child = child_form.child_data()
    guardians = child.pop("guardians")
    # The page shows one guardian: a list of several (written through the API) is kept.
    if referral.child.guardians.count() <= 1:
        child["guardians"] = guardians
    services.child_update_draft(actor=request.user, referral=referral, **child)
    return services.referral_update_draft(
        actor=request.user, referral=referral, **form.referral_fields()
    )


def _form_page(request, form, *, school, referral=None, child_form=None, token=None):
    """The referral form page: a new referral (with the child's section) or a draft. A page
    that shows errors answers 422, with one summary of them all at the top."""
    summary = error_summary(child_form, form)
    context = {
        "form": form,
        "school": school,
        "indicators": _indicator_groups(form),
        "error_summary": summary,
        "on_duty_phone": school.district.on_duty_phone,
    }
    context["child_form"] = child_form
    if referral is None:
        context["form_token"] = token
    else:
        context.update(referral=referral, attachment_form=forms.AttachmentForm())
    return render(request, "casework/referral_form.html", context, status=422 if summary else 200)


def referral_confirm(request, pk):
    """What will be sent, before it is: the one step that sends the referral."""
    referral = _own_draft(request, pk)
    if referral.status != Referral.Status.DRAFT:
        # Confirmed twice (Back, then "Confirm" again, or a retried POST): it went once.
        if request.method == "POST":
            messages.info(request, _("This referral was already sent: it was not sent twice."))
        return redirect("casework:referral_sent", pk=referral.pk)
    missing = services.referral_send_errors(
        concern_categories=referral.concern_categories,
        observations=referral.observations,
        family_informed=referral.family_informed,
    )
    if missing:
        messages.error(request, _("Some answers are missing: complete the form, then send it."))
        return redirect("casework:referral_edit", pk=referral.pk)
    if request.method == "POST":
        _result, ok = apply(
            request,
            None,
            lambda: steps.run_step("referral.submit", obj=referral, actor=request.user),
        )
        if ok:
            return redirect("casework:referral_sent", pk=referral.pk)
        return redirect("casework:referral_edit", pk=referral.pk)
    return render(
        request,
        "casework/referral_confirm.html",
        {
            "referral": referral,
            "indicator_labels": [label(code) for code in referral.indicators],
            "guardians": referral.child.guardians.all(),
            "emergency": services.emergency_guidance(referral),
            "next_steps": selectors.referral_next_steps(referral),
        },
    )


def referral_sent(request, pk):
    """What happens next: who reads the referral, by when, and how the school hears back."""
    referral = visible_referral(request, pk)
    if referral.referrer_id != request.user.pk or referral.status == Referral.Status.DRAFT:
        return redirect(referral)
    return render(
        request,
        "casework/referral_sent.html",
        {
            "referral": referral,
            "emergency": services.emergency_guidance(referral),
            "next_steps": selectors.referral_next_steps(referral),
        },
    )


def referral_delete(request, pk):
    """The author deletes a draft (kept, with its history, out of every list)."""
    referral = _own_draft(request, pk)
    if referral.status != Referral.Status.DRAFT:
        return redirect(referral)
    if request.method == "POST":
        _result, ok = apply(
            request,
            None,
            lambda: services.referral_delete_draft(actor=request.user, referral=referral),
        )
        if ok:
            messages.success(request, _("The draft is deleted."))
            return redirect("casework:index")
        return redirect("casework:referral_edit", pk=referral.pk)
    return render(request, "casework/referral_delete.html", {"referral": referral})


def _indicator_groups(form):
    """The checklist grouped by area, with each box bound to the form's current value."""
    chosen = set(form["indicator_codes"].value() or [])
    labels = dict(ConcernCategory.choices)
    # The protocol may offer fewer categories and signs (forms.ReferralForm's choices).
    offered = {code for code, _text in form.fields["indicator_codes"].choices}
    groups = [
        {
            "category": category,
            "label": labels[category],
            "items": [
                {"code": code, "label": text, "checked": code in chosen}
                for code, text in items
                if code in offered
            ],
        }
        for category, items in INDICATORS.items()
    ]
    return [group for group in groups if group["items"]]


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
        # Who to call about this school's referral (seed 002's map): work contacts only.
        "referents": selectors.referents(school=referral.school),
        # The consultation the referral came from: its thread goes with it, to both sides.
        "consultation": prevention.consultation_of_referral(request.user, referral),
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
    rows = selectors.referral_history(referral, values=values)
    visible = selectors.referrals_visible_to(request.user).filter(pk=referral.pk).exists()
    return render_trail(
        request,
        title=_("Referral %(pk)s") % {"pk": pk},
        rows=rows,
        obj=referral,
        visible=visible,
        **unlock_context(request, values, "casework:referral_history_unlock", referral),
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
