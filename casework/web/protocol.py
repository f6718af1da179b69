"""The protocol administrator's pages: the municipality's protocol versions, a new version
from the current one, its content and validity, and each version's history."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services

from .common import apply, error_summary


def protocol_list(request):
    if not permissions.administers_any_protocol(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    municipalities = [
        {
            "municipality": municipality,
            "current": selectors.protocol_in_force(municipality, day=today),
            "versions": selectors.protocol_versions(municipality),
        }
        for municipality in selectors.municipalities_administered(request.user)
    ]
    return render(
        request,
        "casework/protocol_list.html",
        {"municipalities": municipalities, "today": today},
    )


def _version(request, pk):
    version = selectors.protocol_version_for_admin(request.user, pk)
    if version is None:
        raise Http404
    return version


def protocol_version(request, pk):
    """A version: read, and changed while it is not in force yet."""
    version = _version(request, pk)
    editable = version.valid_from > timezone.localdate()
    form = None
    if editable:
        form = forms.ProtocolVersionForm(request.POST or None, instance=version)
        if request.method == "POST" and form.is_valid():
            changes = form.changes()
            version.refresh_from_db()  # the form changed the instance: the service decides
            _result, ok = apply(
                request,
                form,
                lambda: services.protocol_version_update(
                    actor=request.user, version=version, **changes
                ),
            )
            if ok:
                messages.success(request, _("The protocol version is saved."))
                return redirect("casework:protocol_version", pk=version.pk)
    elif request.method == "POST":
        messages.error(
            request,
            _("This version is (or was) in force and stays as it was: create a new version."),
        )
        return redirect("casework:protocol_version", pk=version.pk)
    summary = error_summary(form)
    history = version.history.select_related("history_user").order_by("-history_id")
    return render(
        request,
        "casework/protocol_version.html",
        {
            "version": version,
            "form": form,
            "editable": editable,
            "error_summary": summary,
            "history": history,
            "categories": selectors.protocol_categories(version),
        },
        status=422 if summary else 200,
    )


@require_POST
def protocol_first(request, pk):
    """A municipality's first version, from the installation's default protocol."""
    municipality = selectors.municipalities_administered(request.user).filter(pk=pk).first()
    if municipality is None:
        raise Http404
    created, ok = apply(
        request,
        None,
        lambda: services.protocol_version_first(actor=request.user, municipality=municipality),
    )
    if ok:
        return redirect("casework:protocol_version", pk=created.pk)
    return redirect("casework:protocol_list")


@require_POST
def protocol_version_new(request, pk):
    """A new version, copied from this one, to edit before it comes into force."""
    version = _version(request, pk)
    created, ok = apply(
        request,
        None,
        lambda: services.protocol_version_create(actor=request.user, from_version=version),
    )
    if ok:
        messages.success(
            request,
            _("Version %(n)s is a copy of version %(from)s: change it and set its start.")
            % {"n": created.number, "from": version.number},
        )
        return redirect("casework:protocol_version", pk=created.pk)
    return redirect("casework:protocol_list")
