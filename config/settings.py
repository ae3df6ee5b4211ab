"""Settings, read from the environment in this one place (django-environ).

With nothing set the app runs for development: SQLite in the project folder, DEBUG on, a
development secret key, the built-in Sage Intacct sandbox. With DEBUG off it refuses to start
unless SECRET_KEY, ALLOWED_HOSTS and INTACCT_FERNET_KEYS are set.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.spreadsheet import FORMATS as _SPREADSHEET_FORMATS

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

# Development-only fallbacks. None of them is used when DEBUG is off.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
# A fixed Fernet key so a development database stays readable between runs.
_DEV_FERNET_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS1ub3QtZm9yLXByb2Q="

_REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "ALLOWED_HOSTS", "INTACCT_FERNET_KEYS")
if not DEBUG:
    missing = [name for name in _REQUIRED_IN_PRODUCTION if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            f"DEBUG is off, so these settings must be set in the environment: {', '.join(missing)}."
            " Set them (see the README's configuration table) or set DEBUG=true for development."
        )

SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "import_export",
    "config.apps.LedgerlineConfig",
    "axes",
    "accounting",
    "intacct",
    "intacct.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware, as WhiteNoise asks: static files are answered before
    # sessions or the database are touched.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task cluster write the same file: writers queue for the lock at
    # BEGIN instead of failing mid-transaction with "database is locked", and readers never
    # wait for a writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login throttling (django-axes): a user name is locked from an address after
# AXES_FAILURE_LIMIT failed sign-ins in a row, for AXES_COOLOFF_MINUTES; a success resets the
# count. Per user and address together, so a guesser cannot lock a user out from elsewhere.
# The address is REMOTE_ADDR: a client cannot spoof it with X-Forwarded-For.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# CSV import and export (django-import-export) need the model's change / view permission;
# without these the import pages would be open to every staff user.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# Exported CSV and TSV never hold a live spreadsheet formula (config/spreadsheet.py).
IMPORT_EXPORT_FORMATS = _SPREADSHEET_FORMATS

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# The project's own static files (stylesheet, favicon), beside the apps'.
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves what `collectstatic` gathered into STATIC_ROOT. With DEBUG off the files
# carry a content hash in their names (cached for a year) and are pre-compressed, which
# needs `collectstatic` as a deploy step; in development Django's own finder serves them.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")


if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole domain to HTTPS in browsers (hstspreload.org): the
        # operator opts in; until then `check --deploy` need not warn about it.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A load balancer probes over plain HTTP inside the network: no redirect for the probes.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# --- Email (alerts to a connection's admins) -------------------------------------------------
# EMAIL_URL as django-environ reads it, e.g. smtp+tls://user:password@smtp.example.com:587;
# unset, messages are printed to the console (the development default).
# Not kept under a name of its own: the SMTP password is only in EMAIL_HOST_PASSWORD, which
# Django's error reports mask.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Ledgerline <ledgerline@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address the app is served at, e.g. https://tms.example.com: alert emails link to it and
# the payment notification URL Sage posts to is built on it. Empty: the address a page was
# opened at (the notification URL) and the development server's (alert emails).
LEDGERLINE_BASE_URL = env.str("LEDGERLINE_BASE_URL", default="").rstrip("/")

# --- Task cluster (django-q2) -------------------------------------------------------------
# ORM broker by default; Redis when REDIS_URL is set. retry must exceed timeout, or a task
# still running would be handed to a second worker; catch_up off so a stopped cluster does
# not replay every missed 12-hour schedule at once.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "ledgerline",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=720),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "catch_up": False,
    "save_limit": 1000,
    "label": "Task cluster",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured(
        f"Q_RETRY ({Q_CLUSTER['retry']}) must be larger than Q_TIMEOUT ({Q_CLUSTER['timeout']})."
    )

# --- Sage Intacct ---------------------------------------------------------------------------
INTACCT_SANDBOX = env.bool("INTACCT_SANDBOX", default=DEBUG)
# The sandbox refuses a request larger than this, unread, as Sage's failure (HTTP 413).
INTACCT_SANDBOX_MAX_REQUEST_BYTES = env.int("INTACCT_SANDBOX_MAX_REQUEST_BYTES", default=4194304)
SAGE_GATEWAY_URL = "https://api.intacct.com/ia/xml/xmlgw.phtml"
# With the sandbox on, the app (web server, commands, task cluster) talks to its own sandbox.
INTACCT_ENDPOINT_URL = env.str(
    "INTACCT_ENDPOINT_URL",
    default=(
        f"http://127.0.0.1:{env.int('PORT', default=8000)}/intacct-sandbox/xmlgw.phtml"
        if INTACCT_SANDBOX
        else SAGE_GATEWAY_URL
    ),
)
# The sender (Web Services) credentials are the application's own; the sandbox's demo sender
# is the development default.
INTACCT_SENDER_ID = env.str("INTACCT_SENDER_ID", default="LedgerlineDemo" if DEBUG else "")
INTACCT_SENDER_PASSWORD = env.str(
    "INTACCT_SENDER_PASSWORD", default="demo-sender-password" if DEBUG else ""
)
# Comma-separated Fernet keys, newest first (MultiFernet): add a key in front to rotate.
INTACCT_FERNET_KEYS = env.list("INTACCT_FERNET_KEYS", default=[_DEV_FERNET_KEY])
INTACCT_TIMEOUT = env.float("INTACCT_TIMEOUT", default=60.0)
INTACCT_MAX_RETRIES = env.int("INTACCT_MAX_RETRIES", default=4)
INTACCT_BATCH_SIZE = env.int("INTACCT_BATCH_SIZE", default=50)
# Export requests one run keeps on the wire at once (per Sage company it exports to), while it
# prepares the next batch; 0 sends each on the exporting thread. Sources: intacct.client.inflight.
INTACCT_REQUESTS_IN_FLIGHT = env.int("INTACCT_REQUESTS_IN_FLIGHT", default=2)
if INTACCT_REQUESTS_IN_FLIGHT < 0:
    raise ImproperlyConfigured(
        f"INTACCT_REQUESTS_IN_FLIGHT is {INTACCT_REQUESTS_IN_FLIGHT}: set it to 0 (send on the "
        "exporting thread) or a number of requests, e.g. 2 (the default)."
    )
# How long an export run's claim on a document holds before another run takes it over.
INTACCT_CLAIM_LEASE_SECONDS = env.int("INTACCT_CLAIM_LEASE_SECONDS", default=120)
INTACCT_EXPORT_INTERVAL_MINUTES = env.int("INTACCT_EXPORT_INTERVAL_MINUTES", default=15)
# Monitoring (intacct.monitoring): open Error Transactions at or above this raise an alert;
# a bearer token that opens the status endpoint to a monitor (empty: staff sign-in only).
INTACCT_ALERT_OPEN_ERRORS = env.int("INTACCT_ALERT_OPEN_ERRORS", default=10)
INTACCT_STATUS_TOKEN = env.str("INTACCT_STATUS_TOKEN", default="")
# Payment notifications (README "Payments within a minute"): the largest body accepted, and
# notifications accepted per connection per minute.
INTACCT_NOTIFY_MAX_BYTES = env.int("INTACCT_NOTIFY_MAX_BYTES", default=16384)
INTACCT_NOTIFY_PER_MINUTE = env.int("INTACCT_NOTIFY_PER_MINUTE", default=60)
# Reconcile with Sage (the drift report) runs this often per active connection: daily.
INTACCT_RECONCILE_INTERVAL_MINUTES = env.int("INTACCT_RECONCILE_INTERVAL_MINUTES", default=24 * 60)

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "config.logging.RedactSecretsFilter"},
        "forbidden_one_line": {"()": "config.logging.ExpectedForbiddenFilter"},
    },
    "formatters": {
        "plain": {
            "()": "config.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {
            "handlers": ["console"],
            "level": env.str("DJANGO_LOG_LEVEL", default="INFO"),
            "propagate": False,
        },
        # A 403 (a user without a permission) is one INFO line, not a warning and traceback.
        "django.request": {"filters": ["forbidden_one_line"]},
        "django.db.backends": {"level": env.str("DB_LOG_LEVEL", default="INFO")},
        "intacct": {"level": env.str("INTACCT_LOG_LEVEL", default=LOG_LEVEL)},
        "accounting": {"level": LOG_LEVEL},
    },
}
