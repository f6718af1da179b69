"""The periodic sweep that fires due Viewflow timers (case reviews), one sweeper at a time."""

import logging

from celery import shared_task
from viewflow.workflow.timers import fire_due_timers

from casework.locks import TIMERS_LOCK, single_sweeper

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fire_timers() -> int:
    """Fire every due timer. Viewflow locks each process while it moves the timer on, so a
    timer fired by a redelivered task is found already done."""
    with single_sweeper(TIMERS_LOCK) as mine:
        if not mine:
            log.info("timer sweep skipped: another sweeper is running")
            return 0
        return fire_due_timers()
