"""The probes, for load balancers and monitoring: no sign-in, no case data, never cached."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import readiness


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """The process answers. Nothing else is asked: a load balancer restarts what fails this."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_safe
def readyz(request):
    """Ready to serve and the background work going on: the database, its migrations, the
    attachments' storage, the broker (when one is configured) and the beat heartbeat."""
    ready, checks = readiness.readiness()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
