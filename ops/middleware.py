"""Middleware of the operations side."""

from . import metrics, views

PROBES = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": metrics.metrics}


def probes(get_response):
    """Answer the probes and the metrics first, before the host check, the HTTPS redirect and
    the session: a load balancer or Prometheus asks by the node's address over plain HTTP on
    the internal network, and the answers hold no links and no personal data."""

    def middleware(request):
        view = PROBES.get(request.path_info)
        if view is not None:
            return view(request)
        return get_response(request)

    return middleware
