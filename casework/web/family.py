"""The case page's family section: what the family was told, their consents and objections.
One view per change; the reading is on the case page (casework.web.cases.case_detail)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, services
from casework.models import Consent, Objection

from .common import apply, form_errors_as_messages, visible_case


def family_context(user, case) -> dict:
    """What the case page shows of the family ("family": None until the page reads the
    records, which it does only where this key is present), and the forms the reader may
    use."""
    if not permissions.reads_family_records(user, case):
        return {}
    context = {"family": None}
    if case.status != case.Status.CLOSED and permissions.records_family_records(user, case):
        context["informed_form"] = forms.FamilyInformationForm(prefix="informed")
        context["consent_form"] = forms.ConsentForm(prefix="consent")
        context["objection_form"] = forms.ObjectionForm(prefix="objection")
        context["withdraw_form"] = forms.ConsentWithdrawForm(prefix="withdraw")
    if permissions.handles_objection(user, case):
        context["handle_form"] = forms.ObjectionHandleForm(prefix="handle")
    return context


def _family_case(request, pk):
    """The case, for whoever may record on it: anyone else who sees the case is refused
    (403); whoever does not see it gets 404."""
    case = visible_case(request, pk)
    if not permissions.records_family_records(request.user, case):
        raise PermissionDenied
    return case


def _post(request, case, form, change, done):
    if form.is_valid():
        _result, ok = apply(request, form, change)
        if ok:
            messages.success(request, done)
            return redirect(f"{case.get_absolute_url()}#family")
    form_errors_as_messages(request, form)
    return redirect(f"{case.get_absolute_url()}#family")


@require_POST
def family_informed(request, pk):
    case = _family_case(request, pk)
    form = forms.FamilyInformationForm(request.POST, prefix="informed")
    return _post(
        request,
        case,
        form,
        lambda: services.case_record_family_information(
            actor=request.user, case=case, **form.cleaned_data
        ),
        _("Recorded: the family was informed."),
    )


@require_POST
def consent_add(request, pk):
    case = _family_case(request, pk)
    form = forms.ConsentForm(request.POST, prefix="consent")
    return _post(
        request,
        case,
        form,
        lambda: services.consent_record(actor=request.user, case=case, **form.cleaned_data),
        _("The family's consent is recorded."),
    )


@require_POST
def consent_withdraw(request, pk, consent_pk):
    case = _family_case(request, pk)
    consent = get_object_or_404(Consent, pk=consent_pk, case=case)
    form = forms.ConsentWithdrawForm(request.POST, prefix="withdraw")
    return _post(
        request,
        case,
        form,
        lambda: services.consent_withdraw(actor=request.user, consent=consent, **form.cleaned_data),
        _("The withdrawal of the consent is recorded."),
    )


@require_POST
def objection_add(request, pk):
    case = _family_case(request, pk)
    form = forms.ObjectionForm(request.POST, prefix="objection")
    return _post(
        request,
        case,
        form,
        lambda: services.objection_record(actor=request.user, case=case, **form.cleaned_data),
        _("The family's objection is recorded."),
    )


@require_POST
def objection_handle(request, pk, objection_pk):
    case = visible_case(request, pk)
    if not permissions.handles_objection(request.user, case):
        raise PermissionDenied
    objection = get_object_or_404(Objection, pk=objection_pk, case=case)
    form = forms.ObjectionHandleForm(request.POST, prefix="handle")
    return _post(
        request,
        case,
        form,
        lambda: services.objection_handle(
            actor=request.user, objection=objection, **form.cleaned_data
        ),
        _("The outcome of the objection is recorded."),
    )
