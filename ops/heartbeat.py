"""The beat heartbeat: a row that a tiny periodic task rewrites every OPS_HEARTBEAT_SECONDS.

It is written by a worker, on beat's schedule, through the broker: a fresh row proves that the
three of them work, and so that reminders, escalations and review timers go out. Two beats
missed and it is stale: /readyz answers 503 and the admin home says so.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"


def period() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.OPS_HEARTBEAT_SECONDS)


def stale_after() -> datetime.timedelta:
    """Two beats missed, and half a period for a busy queue."""
    return period() * 2.5


def record(name: str, *, duration: float | None = None) -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"at": timezone.now(), "duration": duration}
    )


def beat() -> None:
    record(BEAT)


@dataclass(frozen=True)
class BeatState:
    at: datetime.datetime | None  # None: never written (beat or the worker never ran)
    age: datetime.timedelta | None
    stale: bool


def beat_state() -> BeatState:
    at = Heartbeat.objects.filter(name=BEAT).values_list("at", flat=True).first()
    if at is None:
        return BeatState(at=None, age=None, stale=True)
    age = max(timezone.now() - at, datetime.timedelta(0))
    return BeatState(at=at, age=age, stale=age > stale_after())
