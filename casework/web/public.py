"""The pages anyone may open without signing in: the directory of services and initiatives,
the helpline's opening hours, and the directory as an Open Referral (HSDS) file.

No personal data: entries are services and initiatives (the named referents, professionals'
work contacts, stay on the signed-in pages). The answers are the same for every visitor of a
language, so shared caches may keep them a few minutes; a signed-in visitor's copy is never
stored (config.middleware.NoStoreMiddleware overrides these headers)."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from casework import hsds, selectors

from .network import _directory_filters, directory_context

PUBLIC_MAX_AGE = 300


@login_not_required
@require_safe
@vary_on_headers("Cookie", "Accept-Language")
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def directory(request):
    params = request.GET
    hours = selectors.helpline_hours()
    return render(
        request,
        "casework/public_directory.html",
        {
            "entries": selectors.services_directory(**_directory_filters(params)),
            "hours": hours,
            "open_now": selectors.helpline_is_open(timezone.now(), hours),
            **directory_context(params),
        },
    )


@login_not_required
@require_safe
@cache_control(public=True, max_age=PUBLIC_MAX_AGE)
def directory_hsds(request):
    """The whole directory (or one district's, ?district=code) in HSDS JSON."""
    district = request.GET.get("district") or None
    document = hsds.document_out(selectors.directory_export(district=district))
    response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = 'inline; filename="directory-hsds.json"'
    return response
