"""Loaded by the integration tests' worker (`-I tests.integration.worker_hooks`), never by
the application: a mailbox the test reads across processes, a log of what each task returned,
and a place to hold a task so that the test can kill the worker in the middle of it.

Environment (set by tests/integration/conftest.py):
CASEWORK_TEST_MAILBOX  file that gets one JSON line per e-mail sent
CASEWORK_TEST_EVENTS   file that gets one JSON line per task run
CASEWORK_TEST_PAUSE_AT "before-send" (inside delivery, the row claimed, the e-mail not yet
                       out) or "after-commit" (the e-mail out and recorded, the message not
                       yet acknowledged); the first task to get there writes its process id
                       to CASEWORK_TEST_PAUSE_MARKER and waits to be killed
CASEWORK_TEST_DROP_DB_AFTER_SEND  "1": right after the first e-mail is handed over, the
                       worker's database connection is terminated by the server
                       (pg_terminate_backend), as a fail-over or a restart would
"""

import json
import os
import time

from celery.signals import task_postrun
from django.core.mail.backends.base import BaseEmailBackend


def _append(variable: str, record: dict) -> None:
    path = os.environ.get(variable)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
        file.flush()
        os.fsync(file.fileno())


def pause_once(point: str) -> None:
    if os.environ.get("CASEWORK_TEST_PAUSE_AT") != point:
        return
    marker = os.environ["CASEWORK_TEST_PAUSE_MARKER"]
    draft = f"{marker}.{os.getpid()}"
    with open(draft, "w", encoding="utf-8") as file:
        file.write(str(os.getpid()))
    try:
        os.link(draft, marker)  # atomic: only the first task to get here pauses
    except FileExistsError:
        return  # the redelivered task runs through
    finally:
        os.unlink(draft)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the test sends SIGKILL while we wait here
        time.sleep(0.05)
    raise RuntimeError("integration test hook: the worker was never killed")


def drop_database_connection_once() -> None:
    """Have PostgreSQL terminate this worker's connection, from a second connection."""
    if os.environ.get("CASEWORK_TEST_DROP_DB_AFTER_SEND") != "1":
        return
    marker = os.environ["CASEWORK_TEST_PAUSE_MARKER"] + ".dropped"
    if os.path.exists(marker):
        return
    open(marker, "w").close()  # noqa: SIM115 - a marker file, written once
    from django.db import connection

    victim = connection.connection.info.backend_pid
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [victim])
    finally:
        other.close()


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, messages):
        pause_once("before-send")
        for message in messages:
            _append(
                "CASEWORK_TEST_MAILBOX",
                {
                    "to": message.to,
                    "subject": message.subject,
                    "body": message.body,
                    "message_id": message.extra_headers.get("Message-ID"),
                },
            )
        drop_database_connection_once()
        return len(messages)


@task_postrun.connect
def _task_ran(task=None, args=None, retval=None, **_kwargs):
    result = retval if isinstance(retval, str | int | None) else repr(retval)
    _append(
        "CASEWORK_TEST_EVENTS",
        {"task": task.name, "args": list(args or ()), "result": result, "pid": os.getpid()},
    )
    if task.name == "casework.tasks.deliver_notification":
        pause_once("after-commit")
