"""Bad environment values stop the start-up with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-with-more-than-32-chars",
    "ALLOWED_HOSTS": "casework.example.org",
}


def run_check(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    env.update(GOOD)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_good_environment_starts():
    result = run_check()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "kafka://localhost"}, "CELERY_BROKER_URL"),
        ({"EMAIL_URL": "pigeon://loft"}, "EMAIL_URL"),
        ({"EMAIL_URL": "smtp://mail.example.org:notaport"}, "EMAIL_URL"),
        ({"LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"),
        ({"SESSION_COOKIE_AGE": "eight hours"}, "SESSION_COOKIE_AGE"),
    ],
)
def test_bad_value_fails_at_start_naming_the_variable(overrides, variable):
    result = run_check(**overrides)
    assert result.returncode != 0
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Configuration error: Environment variable {variable}")


def test_debug_allows_missing_secret_key():
    result = run_check(DEBUG="1", SECRET_KEY=None, ALLOWED_HOSTS=None)
    assert result.returncode == 0, result.stderr


def test_email_url_parsing(monkeypatch):
    from config.env import env_email

    monkeypatch.setenv("EMAIL_URL", "smtp+tls://user%40x:p%2Fw@mail.example.org")
    config = env_email("EMAIL_URL", "console://")
    assert config["EMAIL_HOST"] == "mail.example.org"
    assert config["EMAIL_PORT"] == 587
    assert config["EMAIL_HOST_USER"] == "user@x"
    assert config["EMAIL_HOST_PASSWORD"] == "p/w"
    assert config["EMAIL_USE_TLS"] is True
