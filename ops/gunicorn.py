"""gunicorn settings for the web nodes: `gunicorn -c python:ops.gunicorn config.wsgi`.

Each gunicorn worker is a process with its own request metrics. With PROMETHEUS_MULTIPROC_DIR
set (an empty folder, emptied at each start, private to this gunicorn), the workers write
their series there and /metrics adds them up, whichever worker answers the scrape.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Well above the slowest request we expect: a publish to a hung broker costs at most about
# 2 s (casework.outbox), a large export a few seconds. A worker killed on this timeout
# answers 502 to a request whose change may have committed, so keep it generous.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# The request line is logged by the application (ops.logs), without the query string.
accesslog = None


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
