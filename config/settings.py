"""Settings read from the environment only. See docs/operations.md for every variable."""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ops.logs import logging_config as ops_logging_config

from .env import (
    env_bool,
    env_choice,
    env_database,
    env_email,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Environment variable SECRET_KEY is not set: set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for a development run."
        )
    SECRET_KEY = "development-only-insecure-key-never-use-in-production"  # noqa: S105
elif len(SECRET_KEY) < 32 and not DEBUG:
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY is invalid: use at least 32 characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Environment variable ALLOWED_HOSTS is not set: list the host names the site answers "
        "to, separated by commas (for example casework.comune.example.it)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "simple_history",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "viewflow",
    "viewflow.workflow",
    "casework",
    "protocols",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.LoginRequiredExceptApiMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casework.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Viewflow stores the id of the domain object as an integer: keep integer primary keys.
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
# guardian: no anonymous user row; nobody anonymous sees anything.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGES = [
    ("it", _("Italian")),
    ("ca", _("Catalan")),
    ("es", _("Spanish")),
    ("en", _("English")),
]
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "it", [code for code, _name in LANGUAGES])
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Rome")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"Environment variable TIME_ZONE={TIME_ZONE!r} is invalid: expected an IANA zone "
        "such as Europe/Rome or Europe/Madrid."
    ) from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Attachments are case data: they are served only through a permission-checked view.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)

vars().update(env_email("EMAIL_URL", "console://"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "casework@localhost")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# Celery: without a broker, tasks run in-process (the embedded default). See docs/operations.md.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL:
    broker_scheme = urlsplit(CELERY_BROKER_URL).scheme
    if broker_scheme not in {"redis", "rediss", "amqp", "amqps", "pyamqp"}:
        raise ImproperlyConfigured(
            f"Environment variable CELERY_BROKER_URL={CELERY_BROKER_URL!r} is invalid: "
            "expected redis://host:6379/0 or amqp://user:password@host:5672//."
        )
    if broker_scheme.startswith("redis"):
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            # A message taken by a worker that died is handed out again after this long.
            # Our tasks take seconds; the outbox sweep re-sends notifications much sooner.
            "visibility_timeout": 3600,
            # A broker that vanishes must not hang a web request at commit time.
            "socket_connect_timeout": 3,
            "socket_timeout": 30,
        }
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"  # never contacted: tasks run in-process
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged when it has finished, and given back to the broker when its worker
# dies: every task is written to run twice safely (see casework/tasks.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On a lost broker connection, let running tasks finish: they are short and idempotent, and
# killing one between the SMTP hand-over and the commit is what would send an e-mail twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Publishing happens after the commit, in the web request: one quick reconnect (a restarted
# broker), then give up — the notification is in the outbox and the sweep sends it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_TASK_IGNORE_RESULT = True  # no result backend: outcomes live in the database
CELERY_RESULT_EXPIRES = None  # and so no result clean-up task in the beat schedule
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def _every(seconds: float, task: str) -> dict:
    # A sweep that waited in the queue longer than its period is dropped: the next one comes.
    return {"task": task, "schedule": seconds, "options": {"expire_seconds": int(seconds)}}


CELERY_BEAT_SCHEDULE = {
    "fire-workflow-timers": _every(60.0, "protocols.tasks.fire_timers"),
    "requeue-undelivered-notifications": _every(
        60.0, "casework.tasks.requeue_undelivered_notifications"
    ),
    "remind-overdue-triage": _every(300.0, "casework.tasks.remind_overdue_triage"),
    "remind-overdue-information-requests": _every(
        300.0, "casework.tasks.remind_overdue_information_requests"
    ),
    "remind-reviews": _every(900.0, "casework.tasks.remind_reviews"),
    "remind-overdue-actions": _every(3600.0, "casework.tasks.remind_overdue_actions"),
    "expire-team-access": _every(3600.0, "casework.tasks.expire_team_access"),
}
# Hours past the triage deadline before the district supervisors get the escalation
# (immediate danger escalates as soon as its deadline passes).
CASEWORK_ESCALATION_GRACE_HOURS = env_int("CASEWORK_ESCALATION_GRACE_HOURS", 24)
if CASEWORK_ESCALATION_GRACE_HOURS < 0:
    raise ImproperlyConfigured(
        f"Environment variable CASEWORK_ESCALATION_GRACE_HOURS={CASEWORK_ESCALATION_GRACE_HOURS} "
        "is invalid: expected a number of hours, 0 or more."
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "casework.api.errors.handle",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Casework referral API",
    "DESCRIPTION": "Submit referrals, work the triage queue and follow cases.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The description of the API is for the agencies' systems, not for anonymous visitors.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Served by the app itself: no CDN on a municipal intranet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "casework.models.Referral.Status",
        "CaseStatusEnum": "casework.models.Case.Status",
        "ActionStatusEnum": "casework.models.Action.Status",
        "ReferralDecisionEnum": "casework.models.Referral.Decision",
        "ReviewDecisionEnum": "casework.models.Review.Decision",
        "EscalationTargetEnum": "casework.models.Referral.EscalationTarget",
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY", False) else None
)

# The protocol's service-level defaults; administrators edit the live values in the admin.
EMERGENCY_NUMBER = env_str("EMERGENCY_NUMBER", "112")

# --- Operations: probes, beat heartbeat, metrics, logs (ops/, docs/operations.md) -------------
# Kept in one block: the rest of this file is the application's own configuration.
INSTALLED_APPS += ["ops"]
# The probes are answered first, before the host check and the HTTPS redirect; then each
# request gets its id and its log line, and django-prometheus times it per view.
MIDDLEWARE = [
    "ops.middleware.probes",
    "ops.logs.request_log",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
OPS_HEARTBEAT_SECONDS = env_int("OPS_HEARTBEAT_SECONDS", 60)
if OPS_HEARTBEAT_SECONDS < 10:
    raise ImproperlyConfigured(
        f"Environment variable OPS_HEARTBEAT_SECONDS={OPS_HEARTBEAT_SECONDS} is invalid: "
        "expected a number of seconds, 10 or more."
    )
CELERY_BEAT_SCHEDULE["ops-heartbeat"] = _every(OPS_HEARTBEAT_SECONDS, "ops.tasks.heartbeat")
# GET /metrics answers a scraper sending "Authorization: Bearer <METRICS_TOKEN>"; unset: off.
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured(
        "Environment variable METRICS_TOKEN is invalid: use at least 24 random characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(32))'), or leave it unset."
    )
# Logs: JSON lines (plain text on a developer's machine) to standard error, with request and
# user ids and no personal data (ops/logs.py). The worker logs the same way.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain" if DEBUG else "json", ["json", "plain"])
LOGGING = ops_logging_config(
    level=env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"]), fmt=LOG_FORMAT
)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
