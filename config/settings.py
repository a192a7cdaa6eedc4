"""Settings for the eCRF, read from the environment.

Unset, everything falls back to the embedded default: a SQLite file beside manage.py and
Celery tasks run in-process. Set DATABASE_URL (PostgreSQL) and REDIS_URL for a server.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# The embedded default is for a developer's laptop; a server must set its own key.
SECRET_KEY = os.environ.get("SECRET_KEY") or "embedded-default-not-for-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "trial",
    "crf",
    "patients",
    "assessments",
    "notifications",
    "queries",
    "audit",
    "review",
    "axes",
    "exports",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the cookie or Accept-Language (after the session, before CommonMiddleware);
    # accounts.middleware.UserLanguageMiddleware then puts the signed-in user's choice first.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in user's language (their choice, the browser's, their site's): accounts/language.py.
    "accounts.middleware.UserLanguageMiddleware",
    # Whether this session's sign-in gave its second factor; until it does, only that page opens.
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "review.middleware.LockedDataMiddleware",
    "crf.middleware.DatabaseBusyMiddleware",
    "trial.middleware.SiteTimeZoneMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout response.
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trial.context_processors.study",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
# A writer never waits for a held row lock longer than DB_LOCK_TIMEOUT_MS, and no statement runs
# longer than DB_STATEMENT_TIMEOUT_MS (PostgreSQL): the door answers 503 with Retry-After instead
# of hanging until the web worker is killed (crf.transactions). 0 turns a limit off.
DB_LOCK_TIMEOUT_MS = int(os.environ.get("DB_LOCK_TIMEOUT_MS", "5000"))
DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "60000"))
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={DB_LOCK_TIMEOUT_MS} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    )
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default has a second writer beside the request: the background task runner
    # (crf.background). WAL lets the pages read while a job writes; a write transaction takes the
    # write lock when it begins (IMMEDIATE), so two writers queue for up to `timeout` seconds
    # instead of one failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": int(os.environ.get("SQLITE_TIMEOUT_SECONDS", "30")),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes counts failed sign-ins and locks the username out after AXES_FAILURE_LIMIT.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))
# A username from one address: a ward's shared address is not locked for everyone.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The same lockout guards the signature password and the API token endpoint (accounts/lockout.py).
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Roles that must sign in with a second factor (TOTP, accounts/two_factor.py), comma-separated
# role names, e.g. "monitor,data_manager"; empty: optional for everyone.
TWO_FACTOR_ROLES = env_list("TWO_FACTOR_ROLES", "")
OTP_TOTP_ISSUER = "RUX-HLH eCRF"
# An API token lasts this long from its issue (accounts/tokens.py).
API_TOKEN_HOURS = float(os.environ.get("API_TOKEN_HOURS", "24"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The pages speak English or Simplified Chinese (locale/, compiled by `make messages`): the user's
# choice (accounts.Preference), else the browser's Accept-Language, else the site's default
# language (trial.Site.default_language), else LANGUAGE_CODE. Stored data, codes, CDISC names,
# the audit trail and the API's field names never change with the language.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as 2026-12-02 in English and 2026年12月2日 in Chinese; ISO input in both (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
# Stored times are always UTC (USE_TZ); TIME_ZONE is how pages show them.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the apps when collectstatic has not run (make run, tests).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The cache (study report, its figures): shared by every web and worker process when
# CACHE_URL names a Redis database (docker-compose does), else per process in memory.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        # A Redis that is down is a cache that misses (crf.cache), never a page that fails.
        {"BACKEND": "crf.cache.ResilientRedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "ecrf"}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: with no REDIS_URL the tasks run in-process (the embedded default).
REDIS_URL = os.environ.get("REDIS_URL", "")
# The test suite runs on several processes (pytest-xdist, `make test`): each has its own test
# database (pytest-django) and here its own Redis database, the next ones after REDIS_URL's, so
# that a real worker of one process never takes another's tasks. The processes a test starts
# inherit the moved URL (and the mark that it moved) and keep it, or use the URL they are given.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _worker.startswith("gw") and not os.environ.get("ECRF_REDIS_PER_WORKER"):
    _base, _, _db = REDIS_URL.rpartition("/")
    if not _db.isdigit():
        _base, _db = REDIS_URL.rstrip("/"), "0"
    REDIS_URL = f"{_base}/{int(_db) + 1 + int(_worker[2:])}"
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["ECRF_REDIS_PER_WORKER"] = "1"
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# Without a broker, the long jobs (a PDF: tasks declared with long_job=True) run on a
# thread of the web process after commit (crf.background), so the request answers at once and
# the progress bar moves. Off, or with a broker, they run as before: on a Celery worker, or
# eagerly inside the request (the tests set CELERY_TASK_ALWAYS_EAGER=1 with a REDIS_URL).
TASKS_IN_BACKGROUND = env_bool("TASKS_IN_BACKGROUND", default=not REDIS_URL) and CELERY_TASK_ALWAYS_EAGER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# A job (a PDF, an import) whose worker gave no sign of life for this long was lost with it.
JOB_STALE_SECONDS = int(os.environ.get("JOB_STALE_SECONDS", "60"))
# The nightly response sweep (protocol section 9); the hour is a setting, in UTC.
RESPONSE_SWEEP_HOUR = int(os.environ.get("RESPONSE_SWEEP_HOUR", "2"))
CELERY_BEAT_SCHEDULE = {
    "response-sweep": {
        "task": "assessments.response_sweep",
        "schedule": crontab(hour=RESPONSE_SWEEP_HOUR, minute=0),
    },
    # Work queued while the broker was down (crf.outbox), and documents whose worker was lost.
    "outbox-flush": {"task": "crf.outbox_flush", "schedule": 60.0},
    "documents-recover": {"task": "exports.documents_recover", "schedule": 60.0},
    "imports-recover": {"task": "api.imports_recover", "schedule": 60.0},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ecrf@localhost")

# Sessions end after 30 idle minutes (each request extends them) and with the browser.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A server behind HTTPS sets HTTPS=1: secure cookies, HSTS and redirects to HTTPS.
HTTPS = env_bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# A server (HTTPS=1) never runs on the embedded development key: sessions, password-reset and
# signed values would be forgeable by anyone who has read this file.
if HTTPS and not os.environ.get("SECRET_KEY", "").strip():
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "SECRET_KEY is not set and HTTPS=1: a server refuses to start on the embedded development key. "
        "Set SECRET_KEY in the environment (docker-compose: in .env beside it) to 50 or more random characters."
    )

# Content-Security-Policy (django-csp): scripts, styles, fonts and fetches from this site only, no
# inline script or style, no plugins, no framing, forms post here. The pages' scripts are static
# files (static/js); images may also be data: URIs (Bootstrap's CSS draws its icons with them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# REST API (api/): token auth for scripts, session auth for the browser; errors as JSON by field.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    # JSON read strictly (nesting, NaN and 1e309, NUL and lone surrogates refused by field): api/parsing.py.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsing.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RUX-HLH eCRF API",
    "DESCRIPTION": "Read and write the trial's case report forms; see docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its documentation pages describe every form and field: signed-in users only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The documentation page's assets are vendored (no CDN at a bedside or in tests).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Each operation's error responses (400/401/403/404/409/413/423) with their bodies: api/schema.py.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.error_responses"],
}

# drf-spectacular names each Yes/No/Not-known field's choices on its own; the schema is correct
# (its own words) and the names are the fields'. Not a deployment or security matter.
SILENCED_SYSTEM_CHECKS = ["drf_spectacular.W001"]
