"""The Prometheus endpoint: how the installation is doing, in numbers without personal data.

Two sources. The web processes' own series (request latency per view, answers by status…)
come from django-prometheus's middleware. The state of the work is counted from the database
at each scrape, so every web node tells the same and nothing is lost when a process restarts:
the outbox (backlog, age of the oldest row, retries, given up), referrals past their triage
deadline per district, workflow timers due, and when each sweep last ran and how long it took.
Labels are district codes and task names, never a person.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from casework import selectors

from .heartbeat import BEAT, stale_after
from .models import Heartbeat


def _gauge(name: str, documentation: str, value: float, labels=None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


class WorkCollector(Collector):
    """The state of the work, read from the database when Prometheus asks."""

    def collect(self):
        now = timezone.now()
        try:
            overdue = selectors.overdue_triage_by_district(now=now)
            outbox = selectors.outbox_state(now=now)
            timers = selectors.timers_due(now=now)
            runs = list(Heartbeat.objects.order_by("name").values_list("name", "at", "duration"))
        except DatabaseError:
            yield _gauge("casework_database_up", "1 when the database answered this scrape.", 0)
            return
        yield _gauge("casework_database_up", "1 when the database answered this scrape.", 1)

        yield _gauge(
            "casework_outbox_backlog",
            "Notifications not yet e-mailed that the outbox still tries to deliver.",
            outbox["backlog"],
        )
        yield _gauge(
            "casework_outbox_oldest_age_seconds",
            "Age of the oldest notification in the backlog (0 when it is empty).",
            outbox["oldest_age_seconds"],
        )
        yield _gauge(
            "casework_outbox_retrying",
            "Notifications in the backlog whose delivery failed at least once.",
            outbox["retrying"],
        )
        yield _gauge(
            "casework_outbox_failed",
            "Notifications the outbox gave up on after its last attempt (never e-mailed).",
            outbox["given_up"],
        )

        family = GaugeMetricFamily(
            "casework_referrals_triage_overdue",
            "Referrals waiting for triage past their triage deadline, by district code.",
            labels=["district"],
        )
        for district, count in overdue.items():
            family.add_metric([district], count)
        yield family

        yield _gauge(
            "casework_timers_due",
            "Workflow timers (case reviews) due and not fired yet by the timer sweep.",
            timers,
        )

        age = GaugeMetricFamily(
            "casework_task_last_success_age_seconds",
            "Seconds since a periodic task last finished well (task=beat: the heartbeat).",
            labels=["task"],
        )
        duration = GaugeMetricFamily(
            "casework_sweep_duration_seconds",
            "How long the last successful run of each sweep took.",
            labels=["task"],
        )
        stale = 1
        for name, at, seconds in runs:
            age.add_metric([name], max((now - at).total_seconds(), 0.0))
            if seconds is not None:
                duration.add_metric([name], seconds)
            if name == BEAT:
                stale = int(now - at > stale_after())
        yield age
        yield duration
        yield _gauge(
            "casework_beat_stale",
            "1 when the beat heartbeat is missing or two beats late (no sweeps run).",
            stale,
        )


def exposition() -> bytes:
    """This process's series (or every process's, in gunicorn's multiprocess mode), then the
    state of the work."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    work = CollectorRegistry(auto_describe=False)
    work.register(WorkCollector())
    return generate_latest(processes) + generate_latest(work)


def _authorised(request) -> bool:
    expected = f"Bearer {settings.METRICS_TOKEN}".encode()
    return hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected)


@login_not_required
@never_cache
@require_safe
def metrics(request):
    """Prometheus's text format, for a scraper holding METRICS_TOKEN as a bearer token. Off
    (404) while METRICS_TOKEN is not set."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not _authorised(request):
        return HttpResponse(
            "Unauthorized\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
