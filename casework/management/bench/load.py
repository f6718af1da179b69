"""The benchmark over HTTP: gunicorn serving the project (and the floor) on a free loopback
port, a small load generator (threads, one keep-alive-capable http.client connection each),
and the CPU the gunicorn workers spend, read from /proc before and after each batch.

Only loopback is ever addressed; every batch is bounded by a number of requests and a time
limit, and the server is stopped when the run ends, whatever happened."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    """The gunicorn workers: the processes whose parent is the master."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def process_cpu(pids) -> float:
    """User + system CPU seconds of the processes (utime, stime of /proc/PID/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of the whole line
    return total / CLOCK_TICKS


@dataclass
class Server:
    """gunicorn serving config.wsgi with the benchmark's settings module."""

    workers: int = 4
    port: int = 0
    env: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log: Path | None = None

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid) if self.process else []


@contextmanager
def gunicorn(*, workers: int, env: dict, log: Path, timeout: float = 120):
    """Start gunicorn on a free loopback port, wait until it answers /healthz, yield the
    Server, and stop it (SIGTERM, then SIGKILL) whatever happens."""
    port = free_port()
    server = Server(workers=workers, port=port, env=env, log=log)
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"{HOST}:{port}", "--workers", str(workers),
        "--worker-class", "sync", "--timeout", "120", "--graceful-timeout", "5",
    ]  # fmt: skip
    with open(log, "ab") as output:
        server.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start; see {log}")
            try:
                status, _body = request(port, "/healthz", {})
                if status == 200 and len(server.worker_pids()) >= workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {log}")
            time.sleep(0.3)
        yield server
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(HOST, port, timeout=60)


def request(port, path, headers, *, method="GET", body=None, connection=None, timeout=60):
    """One request; (status, body). With `connection`, on that connection (reopened by
    http.client when the server closed it after the last answer)."""
    own = connection is None
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
        return response.status, data
    except (http.client.HTTPException, OSError):
        conn.close()
        raise
    finally:
        if own:
            conn.close()


@dataclass
class Batch:
    latencies: list = field(default_factory=list)  # seconds, one per request answered
    statuses: dict = field(default_factory=dict)
    errors: int = 0
    wall: float = 0.0
    cpu: float = 0.0  # the workers' CPU seconds during the batch


def drive(server: Server, make_request, *, total: int, clients: int, limit: float = 300) -> Batch:
    """`total` requests shared by `clients` threads, each calling make_request(connection)
    -> (status, body) in turn; stops early past `limit` seconds. The workers' CPU is read
    before the first and after the last request."""
    batch = Batch()
    lock = threading.Lock()
    left = [total]
    stop_at = time.monotonic() + limit

    def client():
        conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                begin = time.perf_counter()
                try:
                    status, _body = make_request(conn)
                except (http.client.HTTPException, OSError):
                    with lock:
                        batch.errors += 1
                    conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
                    continue
                spent = time.perf_counter() - begin
                with lock:
                    batch.latencies.append(spent)
                    batch.statuses[status] = batch.statuses.get(status, 0) + 1
        finally:
            conn.close()

    pids = server.worker_pids()
    cpu_before = process_cpu(pids)
    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(limit + 60)
    batch.wall = time.perf_counter() - started
    batch.cpu = process_cpu(pids) - cpu_before
    return batch


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]
