"""Legal holds: the list (a supervisor reads their districts' holds, the data protection
officer every hold), placing a hold on a record, lifting one. Anyone else: 403."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casework import permissions, retention, services
from casework.models import LegalHold

from .common import apply, error_summary


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Record type"), choices=LegalHold.Kind.choices)
    object_id = forms.IntegerField(
        label=gettext_lazy("Record number"),
        min_value=1,
        help_text=gettext_lazy("The number of the case, referral, child or contact."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the hold"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Why the record must be kept past its retention (a court case, a complaint, a "
            "request of an authority): its reference, not the family's story."
        ),
    )


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for lifting"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _allowed(request) -> None:
    if not permissions.may_place_any_hold(request.user):
        raise PermissionDenied


def holds(request):
    """GET: the holds; POST: place one."""
    _allowed(request)
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        hold, ok = apply(
            request,
            form,
            lambda: services.legal_hold_place(actor=request.user, **form.cleaned_data),
        )
        if ok:
            messages.success(
                request,
                _("The %(kind)s %(pk)s is on hold: the purge leaves it alone until lifted.")
                % {"kind": hold.get_kind_display().lower(), "pk": hold.object_id},
            )
            return redirect("casework:holds")
    rows = list(retention.holds_visible(request.user)[:500])
    return render(
        request,
        "casework/retention/holds.html",
        {
            "form": form,
            "error_summary": error_summary(form),
            "in_place": [h for h in rows if h.in_place],
            "lifted": [h for h in rows if not h.in_place],
            "lift_form": LiftForm(),
            "rules": retention.RULES,
        },
        status=400 if form.errors else 200,
    )


@require_POST
def hold_lift(request, pk):
    _allowed(request)
    hold = get_object_or_404(retention.holds_visible(request.user), pk=pk)
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the hold is no longer needed."))
        return redirect("casework:holds")
    _result, ok = apply(
        request,
        None,
        lambda: services.legal_hold_lift(
            actor=request.user, hold=hold, reason=form.cleaned_data["reason"]
        ),
    )
    if ok:
        messages.success(request, _("The hold is lifted: the record follows its retention again."))
    return redirect("casework:holds")
