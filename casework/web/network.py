"""The network's shared pages: the directory of services, the helpline's contact log, the
yearly indicators."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import forms, permissions, selectors, services
from casework.models import ConcernCategory, Contact, Referral, Service, Urgency

from .common import apply


def directory(request):
    params = request.GET
    age = params.get("age", "")
    entries = selectors.services_directory(
        district=params.get("district") or None,
        kind=params.get("kind") or None,
        age=int(age) if age.isdigit() else None,
        q=params.get("q") or None,
    )
    return render(
        request,
        "casework/directory.html",
        {
            "entries": entries,
            "kinds": Service.Kind.choices,
            "districts": selectors.districts(),
            "params": params,
        },
    )


def contacts(request):
    """The helpline's contact log: record a contact and the services the family was sent to."""
    if not permissions.can_log_contacts(request.user):
        raise PermissionDenied
    form = forms.ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _result, ok = apply(
            request, form, lambda: services.contact_record(actor=request.user, **form.cleaned_data)
        )
        if ok:
            messages.success(request, _("Contact recorded."))
            return redirect("casework:contacts")
    return render(
        request,
        "casework/contacts.html",
        {"form": form, "recent": selectors.recent_contacts()},
    )


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
        int(year_param) if year_param.isdigit() and 2000 <= int(year_param) <= 2100 else this_year
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
