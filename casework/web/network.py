"""The network's shared pages: the directory of services, the helpline's contact log, the
yearly indicators."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import forms, permissions, reports, selectors, services
from casework.models import Referent, Service

from .common import apply


def _directory_filters(params) -> dict:
    age = params.get("age", "")
    return {
        "district": params.get("district") or None,
        "kind": params.get("kind") or None,
        "entry_type": params.get("type") or None,
        "neighbourhood": params.get("neighbourhood") or None,
        "age": int(age) if age.isdigit() and int(age) <= 25 else None,
        "q": (params.get("q") or "").strip()[:100] or None,
    }


def directory_context(params) -> dict:
    """What the directory's search form offers (signed-in and public pages alike)."""
    return {
        "kinds": Service.Kind.choices,
        "entry_types": Service.EntryType.choices,
        "districts": selectors.districts(),
        "neighbourhoods": selectors.neighbourhoods(),
        "params": params,
    }


def directory(request):
    params = request.GET
    filters = _directory_filters(params)
    context = {
        "entries": selectors.services_directory(**filters),
        "keeps_directory": permissions.keeps_any_directory(request.user),
        **directory_context(params),
    }
    if permissions.reads_referents(request.user):
        context["referents"] = selectors.referents(district=filters["district"], q=filters["q"])[
            :30
        ]
    return render(request, "casework/directory.html", context)


def directory_kept(request):
    """The coordinators' list: every entry of their districts, past and withdrawn ones too."""
    if not permissions.keeps_any_directory(request.user):
        raise PermissionDenied
    return render(
        request,
        "casework/directory_kept.html",
        {"entries": selectors.directory_kept_by(request.user)},
    )


def directory_entry_edit(request, pk=None):
    """Add (pk None) or change a service or initiative: the district's network coordinators."""
    if not permissions.keeps_any_directory(request.user):
        raise PermissionDenied
    entry = None
    if pk is not None:
        entry = selectors.directory_entry_for_keeper(request.user, pk)
        if entry is None:
            raise Http404
    form = forms.DirectoryEntryForm(request.POST or None, instance=entry, user=request.user)
    if request.method == "POST" and form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.directory_entry_save(actor=request.user, service=form.instance),
        )
        if ok:
            messages.success(request, _("The directory is up to date."))
            return redirect("casework:directory_kept")
    return render(request, "casework/directory_entry_form.html", {"form": form, "entry": entry})


def referents(request):
    """Who to call: the network's referents by agency, topic and school."""
    if not permissions.reads_referents(request.user):
        raise PermissionDenied
    params = request.GET
    return render(
        request,
        "casework/referents.html",
        {
            "referents": selectors.referents(
                district=params.get("district") or None,
                topic=params.get("topic") or None,
                q=(params.get("q") or "").strip()[:100] or None,
            ),
            "kept": selectors.referents_kept_by(request.user),
            "topics": Referent.Topic.choices,
            "districts": selectors.districts(),
            "params": params,
        },
    )


def referent_edit(request, pk=None):
    """Add or change one of the agency's referents: that agency's coordinators."""
    if not permissions.referent_agency_ids(request.user):
        raise PermissionDenied
    referent = None
    if pk is not None:
        referent = selectors.referents_kept_by(request.user).filter(pk=pk).first()
        if referent is None:
            raise Http404
    form = forms.ReferentForm(request.POST or None, instance=referent, user=request.user)
    if request.method == "POST" and form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.referent_save(actor=request.user, referent=form.instance),
        )
        if ok:
            messages.success(request, _("Referent saved."))
            return redirect("casework:referents")
    return render(request, "casework/referent_form.html", {"form": form, "referent": referent})


def contacts(request):
    """The helpline desk: the contact form beside the directory and the referents, the
    opening hours, and the log. The district supervisors read the log (their districts and
    the contacts with no district); only the operators record."""
    logs = permissions.can_log_contacts(request.user)
    if not logs and not permissions.district_ids(request.user, permissions.SUPERVISE):
        raise PermissionDenied
    if request.method == "POST" and not logs:
        raise PermissionDenied
    form = forms.ContactForm(request.POST or None) if logs else None
    if request.method == "POST" and form.is_valid():
        _result, ok = apply(
            request, form, lambda: services.contact_record(actor=request.user, **form.cleaned_data)
        )
        if ok:
            messages.success(request, _("Contact recorded."))
            return redirect("casework:contacts")
    hours = selectors.helpline_hours()
    q = (request.GET.get("q") or "").strip()[:100]
    return render(
        request,
        "casework/contacts.html",
        {
            "form": form,
            "recent": selectors.contacts_for(request.user),
            "hours": hours,
            "open_now": selectors.helpline_is_open(timezone.now(), hours),
            "q": q,
            "found": selectors.services_directory(q=q)[:20] if q else None,
            "found_referents": selectors.referents(q=q)[:20] if q else None,
        },
    )


def _report(request):
    """The report the user may read, for the year (and district) asked; refusals as 403."""
    this_year = timezone.localdate().year
    year_param = request.GET.get("year", "")
    year = (
        int(year_param) if year_param.isdigit() and 2000 <= int(year_param) <= 2100 else this_year
    )
    try:
        report = selectors.indicators_for(
            request.user, year=year, district_code=request.GET.get("district") or None
        )
    except selectors.UnknownDistrict:
        report = selectors.indicators_for(request.user, year=year)
    return report, this_year


def indicators(request):
    """The yearly report: the supervisors (their districts), the administrator (the whole
    network), the helpline operators (the helpline part)."""
    report, this_year = _report(request)
    tables = reports.report_tables(report)
    for table in tables[1:]:
        top = max((n for _code, _label, n in table["rows"]), default=0)
        table["top"] = top
    return render(
        request,
        "casework/indicators.html",
        {
            "report": report,
            "summary": tables[0],
            "tables": tables[1:],
            "years": range(this_year, this_year - 6, -1),
            "districts": selectors.districts(),
            "query": request.GET.urlencode(),
        },
    )


def indicators_export(request, fmt):
    """Every table of the report as CSV, XLSX (a sheet per table) or PDF."""
    report, _this_year = _report(request)
    name = f"indicators-{report['year']}" + (f"-{report['district']}" if report["district"] else "")
    if fmt == "csv":
        response = HttpResponse(reports.report_csv(report), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            reports.report_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "pdf":
        html = render_to_string(
            "casework/indicators_print.html",
            {"report": report, "tables": reports.report_tables(report)},
            request=request,
        )
        response = HttpResponse(reports.report_pdf(html), content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
