"""The auditor's pages: the search for a trail (by child, case, referral, person and date),
which leads to the trails themselves (casework.web.cases / referrals)."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from casework import permissions, trails
from casework.audit import log_access

DATE = forms.DateInput(attrs={"type": "date"})


class AuditSearchForm(forms.Form):
    child = forms.CharField(
        label=_("Child"),
        required=False,
        max_length=100,
        help_text=_("Name and surname, or tax code."),
    )
    case = forms.CharField(label=_("Case"), required=False, max_length=40)
    referral = forms.CharField(label=_("Referral number"), required=False, max_length=12)
    person = forms.CharField(
        label=_("Person who acted"),
        required=False,
        max_length=100,
        help_text=_("Name, surname or user name."),
    )
    date_from = forms.DateField(label=_("Events from"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("Events to"), required=False, widget=DATE)


def audit_search_context(request) -> dict:
    """The search form and, once asked, the trails it found; each listed record is a read,
    logged like any other (AccessLog, action `audit.search`)."""
    form = AuditSearchForm(request.GET or None)
    found = {"searched": False, "referrals": [], "cases": []}
    if form.is_bound and form.is_valid():
        found = trails.audit_search(request.user, **form.cleaned_data)
        log_access(
            request, action="audit.search", referrals=found["referrals"], cases=found["cases"]
        )
    return {"audit_form": form, **found}


def audit_search(request):
    if not permissions.is_auditor(request.user):
        raise PermissionDenied
    return render(request, "casework/audit_search.html", audit_search_context(request))
