"""What /readyz checks: can this node serve, and is the background work going on.

Each check answers with a fixed word or two (never an exception's text, which may name hosts
or paths) and logs the detail. No case data is read.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from . import heartbeat

log = logging.getLogger(__name__)

# Broker and database probes give up quickly: a load balancer asks every few seconds.
BROKER_TIMEOUT = 2.0


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str


OK = Result(True, "ok")


def _failed(check: str, exc: Exception) -> Result:
    log.warning("readiness: %s failed: %s: %s", check, type(exc).__name__, exc)
    return Result(False, f"error ({type(exc).__name__})")


def database() -> Result:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return _failed("database", exc)
    return OK


# Once every migration is applied it stays so for the life of the process (new code that
# needs a migration comes with a restart, which checks again).
_migrations_applied = False


def migrations() -> Result:
    global _migrations_applied
    if _migrations_applied:
        return OK
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return _failed("migrations", exc)
    if plan:
        log.warning(
            "readiness: %s migrations not applied: %s",
            len(plan),
            ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan),
        )
        return Result(False, f"{len(plan)} not applied")
    _migrations_applied = True
    return OK


def media() -> Result:
    """The attachments' storage takes a file and gives it back."""
    try:
        name = default_storage.save(f".readyz/{uuid.uuid4().hex}", ContentFile(b"ready"))
        try:
            with default_storage.open(name) as stored:
                if stored.read() != b"ready":
                    return Result(False, "error (read back differs)")
        finally:
            default_storage.delete(name)
    except Exception as exc:  # noqa: BLE001
        return _failed("media", exc)
    return OK


def broker() -> Result:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Result(True, "not configured")
    from kombu import Connection

    options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "socket_connect_timeout": BROKER_TIMEOUT,
        "socket_timeout": BROKER_TIMEOUT,
        "max_retries": 0,
    }
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=BROKER_TIMEOUT,
            transport_options=options,
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
            channel = conn.default_channel
            if hasattr(channel, "client"):  # Redis: the connection is lazy until a command
                channel.client.ping()
    except Exception as exc:  # noqa: BLE001
        return _failed("broker", exc)
    return OK


def beat() -> Result:
    try:
        state = heartbeat.beat_state()
    except Exception as exc:  # noqa: BLE001
        return _failed("heartbeat", exc)
    if state.at is None:
        return Result(False, "never")
    seconds = int(state.age.total_seconds())
    if state.stale:
        return Result(False, f"stale ({seconds} s ago)")
    return Result(True, f"ok ({seconds} s ago)")


CHECKS: dict[str, Callable[[], Result]] = {
    "database": database,
    "migrations": migrations,
    "media": media,
    "broker": broker,
    "heartbeat": beat,
}
# Without a database these cannot be asked.
NEEDS_DATABASE = {"migrations", "heartbeat"}


def readiness() -> tuple[bool, dict[str, str]]:
    results: dict[str, Result] = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and not results["database"].ok:
            results[name] = Result(False, "skipped (no database)")
        else:
            results[name] = check()
    return all(r.ok for r in results.values()), {name: r.detail for name, r in results.items()}
