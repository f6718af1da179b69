"""The data protection officer's pages: the register of processing activities, break-glass
reads, access patterns worth a look, subject access requests (and their exports), and
rectification requests. The DPO (the auditors' role) only: everyone else gets 403."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, privacy, reports, retention, services
from casework.audit import log_access
from casework.models import AccessLog, RectificationRequest, SubjectAccessRequest

from .common import apply, error_summary


def _dpo(request) -> None:
    if not permissions.is_data_protection_officer(request.user):
        raise PermissionDenied


def register(request):
    """The register of processing activities, generated from the installation."""
    _dpo(request)
    return render(
        request,
        "casework/dpo/register.html",
        {"activities": privacy.processing_register(), "retention": privacy.retention_settings()},
    )


def retention_outlook(request):
    """What the retention purge will take: per rule, due now and within 30 days (counts only),
    the legal holds in place, and the purge register."""
    _dpo(request)
    return render(
        request,
        "casework/dpo/retention.html",
        {
            "rules": retention.outlook(),
            "holds": retention.holds_visible(request.user).filter(lifted_at__isnull=True),
            "purges": retention.purge_register(limit=50),
        },
    )


def break_glass(request):
    _dpo(request)
    return render(request, "casework/dpo/break_glass.html", {"rows": privacy.break_glass_reads()})


def _int(value, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


def access_patterns(request):
    """People who opened many cases they were not on the team of (last 30 days by default)."""
    _dpo(request)
    days = _int(request.GET.get("days"), 30, 1, 365)
    at_least = _int(request.GET.get("at_least"), 10, 1, 10000)
    return render(
        request,
        "casework/dpo/access_patterns.html",
        {
            "rows": privacy.reads_outside_team(days=days, at_least=at_least),
            "days": days,
            "at_least": at_least,
        },
    )


def _person_request(request, *, form_class, record, recorded, template, context):
    """The DPO's two request pages, subject access and rectification: look the person up
    (by name or tax code), record the request through its service, or show the page again
    with the form's errors (422). Every child the page names is a logged read."""
    _dpo(request)
    child = privacy.child_for_request(request.GET.get("child") or request.POST.get("child"))
    form = form_class(request.POST or None, child=child, initial={"child": child})
    if request.method == "POST" and form.is_valid():
        created, ok = apply(request, form, lambda: record(actor=request.user, **form.cleaned_data))
        if ok:
            message, target = recorded(created)
            messages.success(request, message)
            return target
    query = request.GET.get("q", "")
    found = privacy.children_matching(query)
    log_access(
        request,
        action="dpo.subject_access",
        children=[c.pk for c in found] + ([child.pk] if child else []),
    )
    summary = error_summary(form)
    return render(
        request,
        template,
        {"q": query, "found": found, "child": child, "form": form,
         "error_summary": summary, **context()},
        status=422 if summary else 200,
    )  # fmt: skip


def subject_access(request):
    """Find the person, record the request, then produce the export from its page."""
    return _person_request(
        request,
        form_class=forms.SubjectAccessForm,
        record=services.subject_access_record,
        recorded=lambda created: (
            _("The request is recorded: produce the export below."),
            redirect("casework:dpo_subject_access_detail", pk=created.pk),
        ),
        template="casework/dpo/subject_access.html",
        context=lambda: {"done": privacy.subject_access_requests()},
    )


def subject_access_detail(request, pk):
    _dpo(request)
    sar = get_object_or_404(
        SubjectAccessRequest.objects.select_related("child", "guardian", "recorded_by"), pk=pk
    )
    return render(
        request,
        "casework/dpo/subject_access_detail.html",
        {"sar": sar, "exports": privacy.subject_access_exports(request.path)},
    )


def subject_access_export(request, pk, fmt):
    """The export as JSON or as a readable PDF; each one is a read of every record in it,
    logged (door: export)."""
    _dpo(request)
    if fmt not in ("json", "pdf"):
        raise Http404
    sar = get_object_or_404(SubjectAccessRequest.objects.select_related("child", "guardian"), pk=pk)
    export = privacy.subject_access(sar)
    read = export["_read"]
    log_access(
        request,
        action="subject_access.export",
        door=AccessLog.Door.EXPORT,
        children=read["children"],
        referrals=read["referrals"],
        cases=read["cases"],
    )
    name = f"subject-access-{sar.pk}"
    if fmt == "json":
        response = HttpResponse(
            privacy.subject_access_json(export), content_type="application/json; charset=utf-8"
        )
    else:
        html = render_to_string(
            "casework/dpo/subject_access_print.html",
            {"export": export, "sar": sar},
            request=request,
        )
        response = HttpResponse(reports.report_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def rectifications(request):
    return _person_request(
        request,
        form_class=forms.RectificationForm,
        record=services.rectification_request_record,
        recorded=lambda _created: (
            _("The rectification request is recorded."),
            redirect("casework:dpo_rectifications"),
        ),
        template="casework/dpo/rectifications.html",
        context=lambda: {
            "requests": [
                (r, forms.RectificationDecisionForm(prefix=f"r{r.pk}"))
                for r in privacy.rectification_requests()
            ]
        },
    )


@require_POST
def rectification_decide(request, pk):
    _dpo(request)
    found = get_object_or_404(RectificationRequest, pk=pk)
    form = forms.RectificationDecisionForm(request.POST, prefix=f"r{found.pk}")
    if form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.rectification_decide(
                actor=request.user,
                request=found,
                accept=form.cleaned_data["accept"],
                reason=form.cleaned_data["reason"],
            ),
        )
        if ok:
            messages.success(request, _("The decision is recorded."))
            return redirect("casework:dpo_rectifications")
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    return redirect("casework:dpo_rectifications")
