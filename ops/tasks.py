from celery import shared_task

from . import heartbeat as heartbeats


@shared_task(acks_late=True, ignore_result=True)
def heartbeat() -> None:
    """Beat, the broker and a worker are working: rewrite the heartbeat row."""
    heartbeats.beat()
