"""Test settings: the environment decides the database (DATABASE_URL), nothing else leaks in."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-the-check")
os.environ.pop("CELERY_BROKER_URL", None)
os.environ["EMAIL_URL"] = "locmem://"
os.environ["LANGUAGE_CODE"] = "en"  # assertions read English messages

from .settings import *  # noqa: E402,F403

DEBUG = False
# Hashing was most of the suite's time; tests need no strong hashes.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# Uploaded test files go to a temporary folder, never into the working tree.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="casework-test-media-"))
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Tests sign people in with force_login; the second-factor tests switch the gate on.
TWO_FACTOR_ENFORCED = False
# Throttle counts live in the cache and user ids repeat from test to test: no limit in
# practice; tests/hardening sets its own.
API_THROTTLE_RATES = {"anon": "1000000/minute", "user": "1000000/minute", "token": "1000000/minute"}
