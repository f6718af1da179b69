"""Settings of the Celery worker that the integration tests start: the production settings,
read from the environment the test passes, plus a mailbox file the test can read."""

import os

from config.settings import *  # noqa: F403
from config.settings import CELERY_BROKER_TRANSPORT_OPTIONS

EMAIL_BACKEND = "tests.integration.worker_hooks.MailboxBackend"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    # This test run's keys only: other runs sharing the Redis server stay apart.
    "global_keyprefix": os.environ["CASEWORK_TEST_REDIS_PREFIX"],
    # A message taken by a killed worker is handed out again after this many seconds.
    "visibility_timeout": int(os.environ.get("CASEWORK_TEST_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

# The sending claim's lease: seconds here, so that a test can see a claim expire.
OUTBOX_SEND_LEASE_SECONDS = int(os.environ.get("CASEWORK_TEST_SEND_LEASE", "600"))
