"""Settings read from the environment only. See docs/operations.md for every variable."""

import re
from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ops.logs import logging_config as ops_logging_config

from .env import (
    env_bool,
    env_cache,
    env_choice,
    env_database,
    env_email,
    env_int,
    env_list,
    env_rate,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def _days(name: str, days: int):
    from datetime import timedelta

    if not 1 <= days <= 366:
        raise ImproperlyConfigured(
            f"Environment variable {name}={days} is invalid: expected 1 to 366 days."
        )
    return timedelta(days=days)


def _login_cooloff(minutes: int):
    from datetime import timedelta

    if minutes < 1:
        raise ImproperlyConfigured(
            f"Environment variable LOGIN_LOCKOUT_MINUTES={minutes} is invalid: expected 1 or more."
        )
    return timedelta(minutes=minutes)


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
    "django_filters",
    "knox",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_celery_beat",
    "viewflow",
    "viewflow.workflow",
    "casework",
    "protocols",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.middleware.BadBytesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.middleware.LoginRequiredExceptApiMiddleware",
    "config.middleware.ScopeMemoMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.IdleTimeoutMiddleware",
    "config.middleware.SecondFactorMiddleware",
    # Last: it answers a locked-out sign-in with the lock-out page.
    "axes.middleware.AxesMiddleware",
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
                "config.context_processors.session",
            ],
        },
    },
]

# Django's form renderer, with the <select> written in Python (one template per option was a
# third of the case page's rendering; the same HTML: config/form_renderer.py).
FORM_RENDERER = "config.form_renderer.Renderer"

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# PostgreSQL: the role the web and Celery processes connect as, when it is not the owner of the
# tables (docs/operations.md, "Two database roles"). Set it where `migrate` runs (as the owner):
# every migrate then grants it what it needs on the new tables.
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE")
if DATABASE_APP_ROLE and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DATABASE_APP_ROLE):
    raise ImproperlyConfigured(
        f"Environment variable DATABASE_APP_ROLE={DATABASE_APP_ROLE!r} is invalid: expected a "
        "plain PostgreSQL role name such as casework_app."
    )
# PostgreSQL: the retention purge deletes audit rows, which only the tables' owner may do
# (docs/security.md, "The retention purge"). Where it runs (`manage.py purge`, or the Celery
# worker of the RETENTION_PURGE_QUEUE), give it the owner's URL; nowhere else.
if env_str("DATABASE_OWNER_URL"):
    DATABASES["owner"] = env_database("DATABASE_OWNER_URL", "")
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
# Viewflow stores the id of the domain object as an integer: keep integer primary keys.
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in for a locked-out user name before the password is checked.
    "axes.backends.AxesStandaloneBackend",
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
# English dates day first, on a 24-hour clock (config/formats/en).
FORMAT_MODULE_PATH = ["config.formats"]
# The project's catalogue first; then the Catalan of the framework strings Viewflow lacks.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_framework"]
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
            # Workers and beat. The web publishes with its own short timeouts (casework.outbox).
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
# Publishing from a worker (the outbox sweep): one quick reconnect, then give up. The web's
# publish after a commit does not retry at all (casework.outbox._publish).
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
    "resume-mailings": _every(300.0, "casework.tasks.resume_mailings"),
    "remind-overdue-consultations": _every(900.0, "casework.tasks.remind_overdue_consultations"),
    "raise-pattern-alerts": _every(900.0, "casework.tasks.raise_pattern_alerts"),
}
# The retention purge (casework.services.purge), once a night at this hour (local time), on
# the queue of the one worker that holds DATABASE_OWNER_URL (empty: the default queue).
RETENTION_PURGE_HOUR = env_int("RETENTION_PURGE_HOUR", 3)
if not 0 <= RETENTION_PURGE_HOUR <= 23:
    raise ImproperlyConfigured(
        f"Environment variable RETENTION_PURGE_HOUR={RETENTION_PURGE_HOUR} is invalid: "
        "expected an hour from 0 to 23."
    )
RETENTION_PURGE_QUEUE = env_str("RETENTION_PURGE_QUEUE")
CELERY_BEAT_SCHEDULE["retention-purge"] = {
    "task": "casework.tasks.purge_retention",
    "schedule": crontab(hour=RETENTION_PURGE_HOUR, minute=30),
    "options": {
        "expire_seconds": 6 * 3600,
        **({"queue": RETENTION_PURGE_QUEUE} if RETENTION_PURGE_QUEUE else {}),
    },
}
# The outbox (casework/outbox.py) tries to e-mail a notification for this many hours after it
# was written (or after an operator's retry), then gives up and alerts (an ERROR log line).
OUTBOX_GIVE_UP_HOURS = env_int("OUTBOX_GIVE_UP_HOURS", 24)
if not 1 <= OUTBOX_GIVE_UP_HOURS <= 24 * 14:
    raise ImproperlyConfigured(
        f"Environment variable OUTBOX_GIVE_UP_HOURS={OUTBOX_GIVE_UP_HOURS} is invalid: "
        "expected a number of hours from 1 to 336."
    )
# A worker that claimed a notification to e-mail it holds it this long: longer than a delivery
# (EMAIL_TIMEOUT per step of the SMTP conversation) plus recording it.
OUTBOX_SEND_LEASE_SECONDS = 600
# Hours past the triage deadline before the district supervisors get the escalation
# (immediate danger escalates as soon as its deadline passes).
CASEWORK_ESCALATION_GRACE_HOURS = env_int("CASEWORK_ESCALATION_GRACE_HOURS", 24)
if CASEWORK_ESCALATION_GRACE_HOURS < 0:
    raise ImproperlyConfigured(
        f"Environment variable CASEWORK_ESCALATION_GRACE_HOURS={CASEWORK_ESCALATION_GRACE_HOURS} "
        "is invalid: expected a number of hours, 0 or more."
    )
# Break-glass: minutes an auditor reads a trail's values after stating a purpose.
CASEWORK_TRAIL_UNLOCK_MINUTES = env_int("CASEWORK_TRAIL_UNLOCK_MINUTES", 30)
if not 1 <= CASEWORK_TRAIL_UNLOCK_MINUTES <= 480:
    raise ImproperlyConfigured(
        f"Environment variable CASEWORK_TRAIL_UNLOCK_MINUTES={CASEWORK_TRAIL_UNLOCK_MINUTES} "
        "is invalid: expected a number of minutes from 1 to 480."
    )

REST_FRAMEWORK = {
    # Tokens first: a call without credentials gets 401 with `WWW-Authenticate: Token`.
    # An agency system's OAuth2 token (`Bearer`) is answered with a Bearer challenge instead.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "casework.api.auth.PersonalTokenAuthentication",
        "casework.api.auth.AgencyClientAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # An OAuth2 token's scopes limit the methods: `read` for GET, `write` for the rest.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "casework.api.auth.ScopeAllowsMethod",
    ],
    "DEFAULT_SCHEMA_CLASS": "casework.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "casework.api.paging.Pages",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "casework.api.errors.handle",
    # Requests per caller (user, or address when anonymous), counted in the cache (CACHE_URL):
    # with several web processes, point CACHE_URL at Redis so they share one count.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonymousRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
}
API_THROTTLE_RATES = {
    "anon": env_rate("API_THROTTLE_ANON", "30/minute"),
    "user": env_rate("API_THROTTLE_USER", "300/minute"),
    "token": env_rate("API_THROTTLE_TOKEN", "20/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Casework referral API",
    "DESCRIPTION": (
        "Submit referrals, work the triage queue and follow cases (docs/api.md).\n\n"
        "Sign in with a personal token (`Authorization: Token <key>`, created on the profile "
        "page), or, for an agency's system, with an OAuth2 client-credentials token "
        "(`Authorization: Bearer <token>` from /api/v1/oauth/token/; scope `read` for GET, "
        "`write` for the rest). Without credentials, or with bad ones, the answer is 401 with "
        "`WWW-Authenticate: Token` (`Bearer …` to a Bearer caller).\n\n"
        "Messages and labels are in the language of the `Accept-Language` header (it, ca, es "
        "or en); without it, in the installation's default language (the LANGUAGE_CODE "
        "setting, Italian unless configured otherwise).\n\n"
        "Every failure is answered in JSON: 400 names each refused field (a field the "
        "endpoint does not know is refused too), 401/403/404/409/413/429 carry `detail`, 500 "
        "a `request_id`. Text is kept exactly as sent; control characters other than tab "
        "and line breaks are refused."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "OAUTH2_FLOWS": ["clientCredentials"],
    "OAUTH2_TOKEN_URL": "/api/v1/oauth/token/",
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
        "ReviewKindEnum": "casework.models.Review.Kind",
        "EscalationTargetEnum": "casework.models.Referral.EscalationTarget",
        "ConsentPurposeEnum": "casework.models.ConsentPurpose",
        "HowObtainedEnum": "casework.models.HowObtained",
        "ServiceKindEnum": "casework.models.Service.Kind",
        "LegalHoldKindEnum": "casework.models.LegalHold.Kind",
        "TransferKindEnum": "casework.models.CaseTransfer.Kind",
        "ConsultationAgeBandEnum": "casework.models.AgeBand",
        "ContactAgeBandEnum": "casework.models.Contact.AgeBand",
        "ContactChannelEnum": "casework.models.Contact.Channel",
        "FamilyInformationChannelEnum": "casework.models.FamilyInformation.Channel",
        "MeetingActionStatusEnum": "casework.models.MeetingAction.Status",
    },
}

# Database sessions with the user's id in a column (casework/models/sessions.py): ending a
# person's access deletes their sessions in one query.
SESSION_ENGINE = "casework.models.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A session ends after SESSION_IDLE_TIMEOUT seconds without a request (a shared school computer
# left signed in), and in any case SESSION_COOKIE_AGE seconds after sign-in.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
if not 60 <= SESSION_IDLE_TIMEOUT <= SESSION_COOKIE_AGE:
    raise ImproperlyConfigured(
        f"Environment variable SESSION_IDLE_TIMEOUT={SESSION_IDLE_TIMEOUT} is invalid: expected "
        f"seconds, at least 60 and at most SESSION_COOKIE_AGE ({SESSION_COOKIE_AGE})."
    )
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Sign-in lock-out (django-axes), on the login page and the admin's: after LOGIN_FAILURE_LIMIT
# wrong passwords for one user name, that name is refused — the right password too — for
# LOGIN_LOCKOUT_MINUTES, or until an administrator unlocks it (manage.py axes_reset_username,
# or the admin's "Access attempts"). Known and unknown names get the same answer.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = _login_cooloff(env_int("LOGIN_LOCKOUT_MINUTES", 30))
# By user name, not by address: a school's computers share one address behind its router.
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns that user-name-only locks miss one address trying many names; that is the second
# factor's job (docs/security.md), and locking addresses would lock whole schools out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.lockout.locked_out"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("BEHIND_HTTPS_PROXY", False) else None
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "config.lockout.client_str"  # no user name in the logs

CACHES = {"default": env_cache("CACHE_URL", "locmem://")}

# Two-factor sign-in (django-otp: an authenticator app's codes, and ten single-use backup
# codes). Required of everyone who can read case data — staff, and every role except
# teachers, school referents and helpline operators — or of everyone with TWO_FACTOR=everyone.
TWO_FACTOR = env_choice("TWO_FACTOR", "roles", ["roles", "everyone"])
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Casework")
# Administrators reset a second factor (delete its device); they never see its key.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
TWO_FACTOR_ENFORCED = True  # off only in the test settings; the second-factor tests turn it on

# API tokens (django-rest-knox): stored as hashes, shown once, expiring after API_TOKEN_DAYS;
# each user creates and revokes their own on the profile page, after the second factor.
REST_KNOX = {
    "TOKEN_TTL": _days("API_TOKEN_DAYS", env_int("API_TOKEN_DAYS", 90)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": 5,
}
# OAuth2 client credentials for agency systems (docs/api.md): an application per system, bound
# to a service user whose memberships say what it may see; tokens last an hour by default.
OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read what the agency may see", "write": "Act for the agency"},
    "DEFAULT_SCOPES": ["read"],
    "SCOPES_BACKEND_CLASS": "casework.api.auth.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "casework.api.auth.ClientValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("API_OAUTH_TOKEN_SECONDS", 3600),
    "PKCE_REQUIRED": True,
    # The OAuth 2.0 Security BCP (RFC 9700) in full: tokens stored hashed, only in the
    # Authorization header, no implicit or password grant, https redirects only.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY", False) else None
)
# HTTPS only, on by default in production: plain-HTTP requests are redirected, and browsers
# are told (HSTS) never to try plain HTTP for SECURE_HSTS_SECONDS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Entering the browsers' preload list binds the whole parent domain: the domain's owner
    # decides (SECURE_HSTS_PRELOAD=1), so `check --deploy` does not nag about it.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
SECURE_REFERRER_POLICY = "same-origin"
# Scripts only from this site, or inline with the page's nonce (`{{ request.csp_nonce }}`);
# styles may be inline (Viewflow's components set style attributes); nothing is framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}

# The protocol's service-level defaults; administrators edit the live values in the admin.
EMERGENCY_NUMBER = env_str("EMERGENCY_NUMBER", "112")
# Whom the sign-in page tells people to call for an account or a lost password (a name and a
# number); empty: "your agency's administrator".
SUPPORT_CONTACT = env_str("SUPPORT_CONTACT", "")

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
