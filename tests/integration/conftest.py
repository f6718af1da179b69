"""Real Celery workers against a real Redis and the PostgreSQL test database.

The tests are skipped, with the reason, where no Redis answers on CASEWORK_TEST_REDIS_URL
(default redis://127.0.0.1:6379/15) or where the test database is SQLite (a worker is another
process: it cannot see the in-memory SQLite test database).
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from .broker import celery_broker

REDIS_URL = os.environ.get("CASEWORK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POLL = 0.1  # seconds between two looks while waiting for a worker, within a deadline


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path

    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    """The Redis namespace, the files the workers write, and the workers of one test."""

    tmp: Path
    redis: object
    prefix: str = field(default_factory=lambda: f"casework-test-{uuid.uuid4().hex}:")
    workers: list[Worker] = field(default_factory=list)

    @property
    def mailbox(self) -> Path:
        return self.tmp / "mailbox.jsonl"

    @property
    def events(self) -> Path:
        return self.tmp / "events.jsonl"

    @property
    def pause_marker(self) -> Path:
        return self.tmp / "paused.pid"

    def start_worker(
        self,
        *,
        pool: str = "solo",
        pause_at: str = "",
        visibility_timeout: int = 3600,
        send_lease: int = 600,
        environment: dict | None = None,
    ) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
            "DEBUG": "0",
            "SECRET_KEY": "integration-test-secret-key-0123456789abcdefghij",
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "CASEWORK_TEST_REDIS_PREFIX": self.prefix,
            "CASEWORK_TEST_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "CASEWORK_TEST_MAILBOX": str(self.mailbox),
            "CASEWORK_TEST_EVENTS": str(self.events),
            "CASEWORK_TEST_PAUSE_AT": pause_at,
            "CASEWORK_TEST_PAUSE_MARKER": str(self.pause_marker),
            "CASEWORK_TEST_SEND_LEASE": str(send_lease),
            **(environment or {}),
        }
        name = f"itest-{uuid.uuid4().hex[:8]}@%h"
        log = self.tmp / f"worker-{len(self.workers) + 1}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "-P", pool, "-c", "1", "-n", name, "--loglevel", "INFO",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
            "-I", "tests.integration.worker_hooks",
        ]  # fmt: skip
        with log.open("w", encoding="utf-8") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process=process, log=log)
        self.workers.append(worker)
        return worker

    def publishing(self):
        """This process's tasks go to the same Redis namespace as the workers'."""
        return celery_broker(REDIS_URL, {"global_keyprefix": self.prefix})

    def read(self, path: Path) -> list[dict]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def e_mails(self) -> list[dict]:
        return self.read(self.mailbox)

    def deliveries(self) -> list[str]:
        return [
            event["result"]
            for event in self.read(self.events)
            if event["task"] == "casework.tasks.deliver_notification"
        ]

    def broker_is_empty(self) -> bool:
        """No message waiting in the queue, none taken and not yet acknowledged."""
        return not self.redis.llen(f"{self.prefix}celery") and not self.redis.hlen(
            f"{self.prefix}unacked"
        )

    def wait_for(self, condition, what: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                logs = "\n\n".join(f"--- {w.log.name}\n{w.tail()}" for w in self.workers)
                pytest.fail(f"timed out after {timeout}s waiting for {what}\n{logs}")
            time.sleep(POLL)

    def paused_pid(self) -> int:
        self.wait_for(self.pause_marker.exists, "a worker to pause in the middle of the task")
        return int(self.pause_marker.read_text())

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        for key in self.redis.scan_iter(match=f"{self.prefix}*"):
            self.redis.delete(key)


@pytest.fixture
def cluster(request, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "the Celery integration tests need PostgreSQL: the worker is another process and "
            "cannot see the in-memory SQLite test database (set DATABASE_URL=postgres://…)"
        )
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(
            f"no Redis answers at {REDIS_URL}: start one (redis-server) or point "
            "CASEWORK_TEST_REDIS_URL at one"
        )
    cluster = Cluster(tmp=tmp_path, redis=client)
    try:
        yield cluster
    finally:
        cluster.close()
        client.close()
