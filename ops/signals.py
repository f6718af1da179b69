"""In the worker: record when each sweep of the beat schedule finished and how long it took
(the metrics show them). A sweep that fails records nothing, so its age grows."""

import logging
import time

from celery.signals import task_postrun, task_prerun
from django.conf import settings

from . import heartbeat

log = logging.getLogger(__name__)

_started: dict[str, float] = {}


def _scheduled() -> set[str]:
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


@task_prerun.connect
def _sweep_started(task_id=None, task=None, **kwargs):
    if task is not None and task.name in _scheduled():
        _started[task_id] = time.monotonic()


@task_postrun.connect
def _sweep_finished(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    if started is None or state != "SUCCESS" or task.name == "ops.tasks.heartbeat":
        return
    try:
        heartbeat.record(task.name, duration=time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - bookkeeping must not fail the sweep
        log.warning("sweep %s: run not recorded (%s)", task.name, type(exc).__name__)
