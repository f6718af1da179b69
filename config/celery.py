"""The Celery app. Its settings are the CELERY_* names of config/settings.py.

Without CELERY_BROKER_URL, tasks run in-process (the embedded default). With it, run a worker
(`celery -A config worker`) and exactly one beat (`celery -A config beat`), whose schedule —
CELERY_BEAT_SCHEDULE, kept in the database by django-celery-beat — runs the sweeps. See
docs/operations.md.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("casework")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
