"""A case moving: the supervisor changes the lead worker; the lead (or the supervisor) asks
another district to take the case over; the receiving supervisor accepts or refuses."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services
from casework.audit import log_access
from casework.models import CaseTransfer
from protocols import steps

from .common import apply, error_summary, form_errors_as_messages, visible_case


@require_POST
def case_change_lead(request, pk):
    """The district supervisor hands the case to another worker of the district."""
    case = visible_case(request, pk)
    if not permissions.can_change_lead(request.user, case):
        raise PermissionDenied
    form = forms.ChangeLeadForm(request.POST, case=case, prefix="lead")
    if form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: steps.move_lead(
                "case.change_lead", case=case, actor=request.user, **form.cleaned_data
            ),
        )
        if ok:
            messages.success(
                request,
                _("The case has a new lead worker; the previous one no longer has access."),
            )
            return redirect(case)
    form_errors_as_messages(request, form)
    return redirect(case)


@require_POST
def case_transfer_request(request, pk):
    """The lead worker (or the supervisor) asks another district to take the case over."""
    case = visible_case(request, pk)
    if not permissions.can_request_transfer(request.user, case):
        raise PermissionDenied
    form = forms.TransferRequestForm(request.POST, case=case, prefix="transfer")
    if form.is_valid():
        transfer, ok = apply(
            request,
            form,
            lambda: services.case_transfer_request(
                actor=request.user, case=case, **form.cleaned_data
            ),
        )
        if ok:
            messages.success(
                request,
                _(
                    "The request is sent to the supervisors of %(district)s. The case stays "
                    "with your team until they accept it."
                )
                % {"district": transfer.to_district.name},
            )
            return redirect(case)
    form_errors_as_messages(request, form)
    return redirect(case)


def transfer_list(request):
    """The transfers the reader may read: those awaiting their answer first."""
    transfers = list(selectors.transfers_visible_to(request.user)[:200])
    awaiting = [
        t
        for t in transfers
        if t.status == CaseTransfer.Status.REQUESTED
        and permissions.can_decide_transfer(request.user, t)
    ]
    return render(
        request,
        "casework/transfers.html",
        {"awaiting": awaiting, "transfers": [t for t in transfers if t not in awaiting]},
    )


def _visible_transfer(request, pk) -> CaseTransfer:
    transfer = selectors.transfer_for(request.user, pk)
    if transfer is None:
        raise Http404
    return transfer


def transfer_detail(request, pk, decision_form=None):
    transfer = _visible_transfer(request, pk)
    user = request.user
    pending = transfer.status == CaseTransfer.Status.REQUESTED
    deciding = pending and permissions.can_decide_transfer(user, transfer)
    context = {
        "transfer": transfer,
        "deciding": deciding,
        "withdrawing": pending and permissions.can_withdraw_transfer(user, transfer),
        "case_visible": selectors.cases_visible_to(user).filter(pk=transfer.case_id).exists(),
    }
    if deciding:
        # The receiving supervisor reads who the case is about before taking it over.
        context["summary"] = selectors.transfer_summary(transfer)
        context["form"] = decision_form or forms.TransferDecisionForm(transfer=transfer)
        context["error_summary"] = error_summary(decision_form)
        log_access(request, action="case.transfer", cases=[transfer.case_id])
    status = 422 if context.get("error_summary") else 200
    return render(request, "casework/transfer_detail.html", context, status=status)


@require_POST
def transfer_decide(request, pk):
    transfer = _visible_transfer(request, pk)
    if not permissions.can_decide_transfer(request.user, transfer):
        raise PermissionDenied
    form = forms.TransferDecisionForm(request.POST, transfer=transfer)
    if form.is_valid():
        data = form.cleaned_data
        result, ok = apply(
            request,
            form,
            lambda: steps.move_lead(
                "case.transfer_decide",
                case=transfer.case,
                actor=request.user,
                transfer=transfer,
                accept=data["accept"],
                lead=data["lead"],
                reason=data["reason"],
            ),
        )
        if ok:
            if result.status == CaseTransfer.Status.ACCEPTED:
                messages.success(request, _("The case is now your district's."))
                return redirect(result.case)
            messages.success(request, _("The transfer is refused; the sending team is told why."))
            return redirect("casework:transfer_detail", pk=transfer.pk)
        if not form.errors:
            return redirect("casework:transfer_detail", pk=transfer.pk)
    return transfer_detail(request, pk, decision_form=form)


@require_POST
def transfer_withdraw(request, pk):
    transfer = _visible_transfer(request, pk)
    if not permissions.can_withdraw_transfer(request.user, transfer):
        raise PermissionDenied
    _result, ok = apply(
        request,
        None,
        lambda: services.case_transfer_withdraw(actor=request.user, transfer=transfer),
    )
    if ok:
        messages.success(request, _("The transfer request is withdrawn."))
    return redirect("casework:transfer_detail", pk=transfer.pk)
