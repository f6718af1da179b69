"""PostgreSQL advisory locks: one sweeper at a time, whatever the number of beats and workers.

Each sweep has its own project-wide lock number. The sweeps of casework.tasks and the timer
sweep of protocols.tasks take them; nothing else does.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# Arbitrary, project-wide PostgreSQL advisory lock numbers, one per sweep.
TIMERS_LOCK = 72_310_001
OUTBOX_LOCK = 72_310_002
TRIAGE_LOCK = 72_310_003
INFORMATION_LOCK = 72_310_004
REVIEWS_LOCK = 72_310_005
ACTIONS_LOCK = 72_310_006
TEAM_ACCESS_LOCK = 72_310_007
MAILINGS_LOCK = 72_310_013
PURGE_LOCK = 72_310_021


@contextmanager
def single_sweeper(lock_id: int) -> Iterator[bool]:
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
