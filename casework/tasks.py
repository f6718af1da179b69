"""Celery tasks: thin wrappers that take ids (or nothing), and do one thing.

Every task here may run twice: the broker hands a message out again when the worker that
took it dies before acknowledging it (acks_late, reject_on_worker_lost), and the outbox sweep
re-sends what looks undelivered. So each task checks before it acts: a notification already
e-mailed is not e-mailed again, a reminder already written is not written again (dedup keys),
and a sweep another machine is running is skipped (casework.locks).

The delivery task itself, `deliver_notification`, lives with the outbox (casework.outbox) under
this module's name, so that the services that write notifications never import this module.
"""

import logging

from celery import shared_task

from protocols.tasks import fire_timers

from . import outbox
from .locks import (
    ACTIONS_LOCK,
    INFORMATION_LOCK,
    MAILINGS_LOCK,
    OUTBOX_LOCK,
    PURGE_LOCK,
    REVIEWS_LOCK,
    TEAM_ACCESS_LOCK,
    TRIAGE_LOCK,
    single_sweeper,
)
from .outbox import deliver_notification
from .services import cases as case_services
from .services import mailing as mailing_services
from .services import purge as purge_services
from .services import reminders

__all__ = [
    "deliver_notification",
    "remind_overdue_actions",
    "remind_overdue_information_requests",
    "remind_overdue_triage",
    "purge_retention",
    "remind_reviews",
    "resume_mailings",
    "requeue_undelivered_notifications",
    "run_sweeps",
]

log = logging.getLogger(__name__)


def _sweep(name: str, lock_id: int, sweep) -> int:
    with single_sweeper(lock_id) as mine:
        if not mine:
            log.info("%s sweep skipped: another sweeper is running", name)
            return 0
        written = sweep()
    if written:
        log.info("%s sweep wrote %s notifications", name, written)
    return written


SWEEP = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**SWEEP)
def remind_overdue_triage() -> int:
    return _sweep("triage", TRIAGE_LOCK, reminders.triage_remind_overdue)


@shared_task(**SWEEP)
def remind_overdue_information_requests() -> int:
    return _sweep(
        "information request", INFORMATION_LOCK, reminders.information_requests_remind_overdue
    )


@shared_task(**SWEEP)
def remind_reviews() -> int:
    return _sweep("review", REVIEWS_LOCK, reminders.reviews_remind_due)


@shared_task(**SWEEP)
def remind_overdue_actions() -> int:
    return _sweep("action", ACTIONS_LOCK, reminders.actions_remind_overdue)


@shared_task(**SWEEP)
def requeue_undelivered_notifications() -> int:
    """The outbox sweep: queue again what a broker outage or a lost message left unsent."""
    with single_sweeper(OUTBOX_LOCK) as mine:
        if not mine:
            log.info("outbox sweep skipped: another sweeper is running")
            return 0
        ids = outbox.due_for_retry()
    return outbox.publish_again(ids)


@shared_task(**SWEEP)
def expire_team_access() -> int:
    """Remove the case-team grants of professionals whose access has ended."""
    with single_sweeper(TEAM_ACCESS_LOCK) as mine:
        if not mine:
            log.info("team access sweep skipped: another sweeper is running")
            return 0
        return case_services.case_team_expire()


@shared_task(**SWEEP)
def resume_mailings() -> int:
    """Mailings a crashed worker left half-sent go on from where they stopped."""
    with single_sweeper(MAILINGS_LOCK) as mine:
        if not mine:
            log.info("mailing sweep skipped: another sweeper is running")
            return 0
        return mailing_services.mailings_resume()


@shared_task(**SWEEP)
def purge_retention() -> int:
    """The nightly retention purge. No arguments: what is due is read from the database."""
    with single_sweeper(PURGE_LOCK) as mine:
        if not mine:
            log.info("retention purge skipped: another purge is running")
            return 0
        report = purge_services.purge()
    return sum(report.counts.values())


def run_sweeps() -> dict[str, int]:
    """Every sweep once, in this process: the embedded mode's stand-in for beat (`make sweep`)."""
    from ops.heartbeat import beat

    beat()
    return {
        "timers": fire_timers(),
        "triage": remind_overdue_triage(),
        "information_requests": remind_overdue_information_requests(),
        "reviews": remind_reviews(),
        "actions": remind_overdue_actions(),
        "outbox": requeue_undelivered_notifications(),
        "team_access": expire_team_access(),
        "mailings": resume_mailings(),
    }
