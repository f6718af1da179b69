"""The periodic sweep that fires due Viewflow timers (case reviews), one sweeper at a time."""

import logging
from contextlib import contextmanager

from celery import shared_task
from django.db import connection
from viewflow.workflow.timers import fire_due_timers

log = logging.getLogger(__name__)

SWEEP_LOCK_ID = 72_310_001  # an arbitrary, project-wide PostgreSQL advisory lock number


@contextmanager
def single_sweeper(lock_id: int = SWEEP_LOCK_ID):
    """Yield True for the one process that holds the sweep lock, False for the others.
    PostgreSQL: a session advisory lock, so a second beat or worker skips. SQLite is the
    one-process embedded mode: nothing to coordinate."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fire_timers() -> int:
    with single_sweeper() as mine:
        if not mine:
            log.info("timer sweep skipped: another sweeper is running")
            return 0
        return fire_due_timers()
