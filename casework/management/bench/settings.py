"""The product's settings with the benchmark's URLconf (the floor beside the project's pages).
Only `manage.py benchmark --http` starts gunicorn with DJANGO_SETTINGS_MODULE set to this."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "casework.management.bench.urls"
