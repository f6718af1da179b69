"""The benchmark's URLconf: the project's, plus the floor. Selected only by the benchmark
(`--pages` overrides ROOT_URLCONF in process; `--http` starts gunicorn with
casework.management.bench.settings), never by the product's settings."""

from django.http import HttpResponse
from django.urls import include, path
from django.utils.html import escape

from casework import selectors


def floor_view(request):
    """The floor: the queue's indexed query, 50 rows, written out with no template, no menu,
    no read log. Kept here, never in the product."""
    rows = selectors.triage_queue(request.user)[:50]
    body = "".join(
        f"<tr><td>{r.pk}</td><td>{escape(r.urgency)}</td><td>{r.triage_due_at}</td>"
        f"<td>{escape(r.school.name)}</td><td>{r.child.age}</td></tr>"
        for r in rows
    )
    return HttpResponse(f"<table>{body}</table>")


urlpatterns = [path("bench/floor/", floor_view), path("", include("config.urls"))]
