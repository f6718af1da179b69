"""Logs an IT team can ship anywhere: one JSON object per line (or plain text on a developer's
machine), each with the request id and the user id of the request — never a name — or the
task it ran in, and nothing about the children.

Personal data is kept out in layers:
- the JSON holds an allowlist of fields: no library can add the request object (whose
  representation carries the query string: an admin search by a child's name) or anything
  else it was handed as `extra`;
- every text that is written is redacted: query strings, PostgreSQL's DETAIL lines (they
  quote the values of a failing row), e-mail addresses, Italian and Spanish tax codes;
- SQL statements with their parameters are never logged (django.db.backends stays at INFO);
- the request line names the view and its route pattern, never the path (which may hold a
  password-reset token) and never the query string.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

log = logging.getLogger("ops.request")

# --- the request's context ------------------------------------------------------------------

_request: contextvars.ContextVar = contextvars.ContextVar("ops_request", default=None)
# An id the reverse proxy may have given the request already (to follow it across both logs).
INBOUND_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def user_id(request) -> int | None:
    """The id of the signed-in user, if the request has looked it up already (no query here)."""
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # the middleware's lazy object, or DRF's user
    if wrapped is empty or wrapped is None or not getattr(wrapped, "is_authenticated", False):
        return None
    return wrapped.pk


def request_log(get_response):
    """Give each request an id (X-Request-ID, kept from the proxy when it sent a sane one),
    put it on every log line written while the request runs, and write one line at the end:
    method, view, route, status, duration, user id."""

    def middleware(request):
        inbound = request.headers.get("X-Request-ID", "")
        request_id = inbound if INBOUND_ID.fullmatch(inbound) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request.set(request)
        started = time.monotonic()
        try:
            response = get_response(request)
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match else None
            log.info(
                "%s %s %s %s ms",
                request.method,
                view or "-",
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "view": view,
                    "route": match.route if match else None,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
        finally:
            _request.reset(token)
        response["X-Request-ID"] = request_id
        return response

    return middleware


class ContextFilter(logging.Filter):
    """Adds request_id and user_id (in a request), or task and request_id = the task's id (in
    a Celery task), to every record; "-" outside both."""

    def filter(self, record):
        from celery import current_task

        request = _request.get()
        record.request_id = getattr(request, "request_id", None) or "-"
        record.user_id = user_id(request) if request is not None else None
        task = current_task
        if task and getattr(task.request, "id", None):
            record.task = task.name
            if record.request_id == "-":
                record.request_id = task.request.id
        return True


# --- redaction ------------------------------------------------------------------------------

REDACTIONS = [
    # A query string after a path or a URL: searches, filters, anything typed in a form sent
    # by GET.
    (re.compile(r"(?<=[\w/])\?[^\s\"'<>]+"), "?[redacted]"),
    # PostgreSQL quotes the values of the row that failed a constraint.
    (re.compile(r"DETAIL:.*"), "DETAIL: [redacted]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[e-mail]"),
    # django-axes names the account in its sign-in lines: {username: "as.ferri", ...}.
    (re.compile(r"""(\busername["']?:\s*)(["'])[^"']*\2"""), r"\1\2[redacted]\2"),
    # Codice fiscale; DNI and NIE.
    (
        re.compile(r"\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b", re.IGNORECASE),
        "[tax code]",
    ),
    (re.compile(r"\b(?:\d{8}|[XYZ]\d{7})[A-Z]\b"), "[tax code]"),
]


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


# --- formatters -----------------------------------------------------------------------------

FIELDS = (
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "user_id",
    "task",
    "method",
    "view",
    "route",
    "status",
    "duration_ms",
    "exc_info",
    "stack_info",
)


class JsonFormatter(_JsonFormatter):
    """One JSON object per line, with the FIELDS allowlist only, every text redacted."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"

    def process_log_record(self, log_data):
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in log_data.items()
            if key in FIELDS and value is not None
        }


class PlainFormatter(logging.Formatter):
    """Text for a developer's terminal, redacted like the JSON."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s user=%(user)s] %(message)s"
        )

    def format(self, record):
        record.user = getattr(record, "user_id", None) or "-"
        return redact(super().format(record))


def logging_config(*, level: str, fmt: str) -> dict:
    """settings.LOGGING: everything to standard error through one redacting handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "ops.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "ops.logs.JsonFormatter"},
            "plain": {"()": "ops.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers (a second console in DEBUG, e-mails to ADMINS with the
            # request's data, runserver's access lines) give way to the one above.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": [], "level": "INFO", "propagate": True},
            # SQL with its parameters (names, free text): never, whatever LOG_LEVEL says.
            "django.db.backends": {"level": "INFO"},
            # django-axes: a line per sign-in is noise; lock-outs (WARNING) stay, without the
            # user name (redacted above); the admin's access attempts name the account.
            "axes": {"level": "WARNING"},
        },
    }
