"""Read settings from the environment, failing at start-up with the name of the bad variable."""

import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _fail(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"Environment variable {name}={value!r} is invalid: {expected}.")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise _fail(name, raw, "expected one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _fail(name, raw, "expected a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: list[str]) -> str:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise _fail(name, raw, "expected one of " + ", ".join(choices))
    return raw


def env_database(name: str, default: str) -> dict:
    import dj_database_url

    raw = os.environ.get(name) or default
    scheme = urlsplit(raw).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise _fail(name, raw, "expected sqlite:///path or postgres://user@host:port/name")
    try:
        # Connections are kept for a minute, and checked before a request reuses one: a
        # connection the server dropped (restart, fail-over, idle kill) is replaced, not a 500.
        config = dj_database_url.parse(
            raw, conn_max_age=60 if scheme != "sqlite" else 0, conn_health_checks=True
        )
    except ValueError as exc:
        raise _fail(name, raw, str(exc)) from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise _fail(name, raw, "the URL names no database")
    return config


EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def env_email(name: str, default: str) -> dict:
    """Parse EMAIL_URL: console://, smtp://user:pass@host:25, smtp+tls://…:587, smtps://…:465."""
    raw = os.environ.get(name) or default
    parts = urlsplit(raw)
    backend = EMAIL_BACKENDS.get(parts.scheme)
    if backend is None:
        raise _fail(name, raw, "expected a scheme among " + ", ".join(EMAIL_BACKENDS))
    config = {"EMAIL_BACKEND": backend}
    if parts.scheme.startswith("smtp"):
        if not parts.hostname:
            raise _fail(name, raw, "an SMTP URL needs a host")
        try:
            port = parts.port
        except ValueError:
            raise _fail(name, raw, "the port is not a number") from None
        query = parse_qs(parts.query)
        config.update(
            EMAIL_HOST=parts.hostname,
            EMAIL_PORT=port or {"smtps": 465, "smtp+tls": 587}.get(parts.scheme, 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_TLS=parts.scheme == "smtp+tls",
            EMAIL_USE_SSL=parts.scheme == "smtps",
            EMAIL_TIMEOUT=int(query.get("timeout", ["10"])[0]),
        )
    return config


def env_rate(name: str, default: str) -> str:
    """A request rate such as 300/minute (second, minute, hour or day)."""
    raw = os.environ.get(name) or default
    count, _, period = raw.partition("/")
    if not count.isdigit() or period not in {"second", "minute", "hour", "day"}:
        raise _fail(name, raw, "expected a number of requests per period, such as 300/minute")
    return raw


def env_cache(name: str, default: str) -> dict:
    """Parse CACHE_URL: locmem:// (one process) or redis://host:6379/1 (shared by processes)."""
    raw = os.environ.get(name) or default
    scheme = urlsplit(raw).scheme
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": raw}
    raise _fail(name, raw, "expected locmem:// or redis://host:6379/1")
