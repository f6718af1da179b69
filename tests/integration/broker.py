"""Point this process's Celery app at a real broker for the length of a test.

The test settings run tasks in-process; these tests need what production does instead:
publish to a broker (one that is down, or a real Redis) after the commit.
"""

from contextlib import contextmanager

from kombu import pools

from config.celery import app

SAVED = ("broker_url", "task_always_eager", "broker_transport_options")


def _forget_connections() -> None:
    from casework.outbox import _Breaker

    _Breaker.reset()  # a broken broker of an earlier test says nothing about this one
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.__dict__.pop("amqp", None)  # rebuilt from the configuration on next use
    pools.reset()


@contextmanager
def celery_broker(url: str, transport_options: dict | None = None):
    saved = {name: app.conf[name] for name in SAVED}
    _forget_connections()
    app.conf.update(
        broker_url=url,
        task_always_eager=False,
        broker_transport_options=transport_options or {},
    )
    try:
        yield app
    finally:
        _forget_connections()
        app.conf.update(saved)
