"""Test settings: the environment decides the database (DATABASE_URL), nothing else leaks in."""

import os

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
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
