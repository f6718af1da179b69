"""Hand-overs at school-grade transitions: the case team sends the note from the case page;
the receiving school's referent reads and acknowledges it on its own pages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services
from casework.audit import log_access

from .common import apply, form_errors_as_messages, visible_case


@require_POST
def case_handover(request, pk):
    case = visible_case(request, pk)
    if not permissions.can_send_handover(request.user, case):
        raise PermissionDenied
    form = forms.HandOverForm(request.POST, prefix="handover")
    if form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.handover_send(actor=request.user, case=case, **form.cleaned_data),
        )
        if ok:
            messages.success(request, _("The hand-over note is sent to the school's referent."))
            return redirect(case)
    form_errors_as_messages(request, form)
    return redirect(case)


def handover_list(request):
    """The hand-overs sent to the reader's schools (its referents)."""
    handovers = list(selectors.handovers_received(request.user)[:200])
    log_access(request, action="handover.list", children=[h.case.child_id for h in handovers])
    return render(request, "casework/handovers.html", {"handovers": handovers})


def _received(request, pk):
    handover = selectors.handover_for_school(request.user, pk)
    if handover is None:
        raise Http404
    return handover


def handover_detail(request, pk):
    handover = _received(request, pk)
    log_access(request, action="handover.view", children=[handover.case.child_id])
    return render(request, "casework/handover_detail.html", {"handover": handover})


@require_POST
def handover_acknowledge(request, pk):
    handover = _received(request, pk)
    _result, ok = apply(
        request,
        None,
        lambda: services.handover_acknowledge(actor=request.user, handover=handover),
    )
    if ok:
        messages.success(request, _("Thank you: the case team knows the note has arrived."))
    return redirect("casework:handover_detail", pk=handover.pk)
