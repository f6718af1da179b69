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
from casework.models import Service

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
