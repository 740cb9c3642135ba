"""Guanxi settings, all from environment variables (see docs/deployment.md).

Defaults are safe for production (DEBUG off, secure cookies, HSTS); ``make run`` sets
GUANXI_DEV=1, which serves over plain HTTP on loopback with an embedded SQLite database.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


import sys  # noqa: E402

TESTING = env_bool("GUANXI_TESTING") or "pytest" in sys.modules
DEV = env_bool("GUANXI_DEV") or TESTING
DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(os.environ.get("GUANXI_DATA_DIR", Path.cwd() / "var"))

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEV:
        SECRET_KEY = "guanxi-development-key-not-for-production-use-0123456789"
    else:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (see docs/deployment.md)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEV else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "guanxi.core",
    "guanxi.customers",
    "guanxi.sales",
    "guanxi.interactions",
    "guanxi.analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "guanxi.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "guanxi.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.core.context.navigation",
            ],
        },
    }
]

# Database: DATABASE_URL (postgres://, mysql://, sqlite:///); SQLite under DATA_DIR by default.
_default_db = f"sqlite:///{DATA_DIR / 'guanxi.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
_engine = DATABASES["default"]["ENGINE"]
if _engine.endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    )
    # Tests use a file, not Django's shared in-memory database: the live server's threads then
    # each have their own connection, as in production, and a page's parallel requests (htmx
    # loads) do not share one.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(Path(DATABASES["default"]["NAME"]).with_name("test-guanxi.sqlite3")))
elif _engine.endswith("mysql"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
    )
    DATABASES["default"].setdefault("TEST", {}).update(
        {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["guanxi.core.auth.Backend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login throttling: failures per username and per client address in a sliding window.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900"))

# Cache: Redis when REDIS_URL is set (shared by every process), else the database. It holds
# the reference data every list page reads (core/reference.py) and, with Redis, the sessions
# (read from Redis, written through to the database). Tests use a per-process memory cache,
# emptied before each test.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "guanxi"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "guanxi_cache"}}
# Each process's own memory: template fragments that depend on nothing but the code, the
# language and the role (the navigation menu).
CACHES["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                   "LOCATION": "guanxi-local"}

# Background work: Django's tasks API on a database-backed queue (django-tasks-db).
TASKS = {
    "default": {
        # Tests run tasks inline so that their code path runs (STYLE.md section 7).
        "BACKEND": os.environ.get("TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend"
                                  if TESTING else "django_tasks_db.DatabaseBackend"),
    }
}

# Internationalisation: English and Simplified Chinese; the browser decides unless the user picks.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Our number formats first (formats/zh_Hans: thousands grouped with commas), then Django's.
FORMAT_MODULE_PATH = ["guanxi.formats"]
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
LANGUAGE_COOKIE_NAME = "guanxi_language"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Security: production-safe defaults; GUANXI_DEV relaxes only what plain-HTTP loopback needs.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_secure = env_bool("SECURE_COOKIES", not DEV)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEV)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEV else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEV
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "guanxi@localhost")
# Outgoing mail (Django's MAILERS): SMTP from SMTP_HOST/SMTP_PORT/SMTP_USER/SMTP_PASSWORD.
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("MAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": os.environ.get("SMTP_HOST", "localhost"),
            "port": int(os.environ.get("SMTP_PORT", "25")),
            "username": os.environ.get("SMTP_USER", ""),
            "password": os.environ.get("SMTP_PASSWORD", ""),
            "use_tls": env_bool("SMTP_STARTTLS"),
            "timeout": 10,
        },
    }
}
INTERACTIONS_MAILER = "default"
INTERACTIONS_FROM_EMAIL = os.environ.get("INTERACTIONS_FROM_EMAIL", "")
# Replies are fetched from this mailbox and filed on the customers' timelines (empty: off).
IMAP_HOST = os.environ.get("IMAP_HOST", "")
IMAP_PORT = int(os.environ.get("IMAP_PORT", "993"))
IMAP_USER = os.environ.get("IMAP_USER", "")
IMAP_PASSWORD = os.environ.get("IMAP_PASSWORD", "")
IMAP_FOLDER = os.environ.get("IMAP_FOLDER", "INBOX")
IMAP_SECURITY = os.environ.get("IMAP_SECURITY", "ssl")
IMAP_TIMEOUT = int(os.environ.get("IMAP_TIMEOUT", "30"))
MAIL_FETCH_INTERVAL = int(os.environ.get("MAIL_FETCH_INTERVAL", "300"))
REMINDER_INTERVAL = int(os.environ.get("REMINDER_INTERVAL", "60"))
SITE_URL = os.environ.get("SITE_URL", "")

# Sites allowed to embed the public lead form (/sales/form/) in an <iframe>.
LEAD_FORM_FRAME_ANCESTORS = env_list("LEAD_FORM_FRAME_ANCESTORS")

# Quotes: a line discount above this fraction needs a manager's approval; validity in days;
# the company name printed on quotes; a CJK font file for PDFs (empty: look in the usual
# system places, e.g. Debian's fonts-noto-cjk).
QUOTE_APPROVAL_DISCOUNT = os.environ.get("QUOTE_APPROVAL_DISCOUNT", "0.15")
QUOTE_VALIDITY_DAYS = int(os.environ.get("QUOTE_VALIDITY_DAYS", "30"))
GUANXI_COMPANY_NAME = os.environ.get("GUANXI_COMPANY_NAME", "Guanxi 演示公司")
GUANXI_PDF_FONT = os.environ.get("GUANXI_PDF_FONT", "")

# Analytics: RFM window, CLV horizon and yearly discount rate, churn-warning horizon.
ANALYTICS_RFM_WINDOW_DAYS = int(os.environ.get("ANALYTICS_RFM_WINDOW_DAYS", "365"))
ANALYTICS_CLV_HORIZON_WEEKS = int(os.environ.get("ANALYTICS_CLV_HORIZON_WEEKS", "52"))
ANALYTICS_DISCOUNT_RATE = float(os.environ.get("ANALYTICS_DISCOUNT_RATE", "0.1"))
ANALYTICS_CHURN_HORIZON_DAYS = int(os.environ.get("ANALYTICS_CHURN_HORIZON_DAYS", "90"))
# Association rules ("bought together") learn from the orders of this many days.
ANALYTICS_RULES_WINDOW_DAYS = int(os.environ.get("ANALYTICS_RULES_WINDOW_DAYS", "90"))
# Snapshot retention: every day's scores for this many days, then each month's last day for
# this many months (a million customers' day is about 400 MB on PostgreSQL).
ANALYTICS_KEEP_DAILY_DAYS = int(os.environ.get("ANALYTICS_KEEP_DAILY_DAYS", "35"))
ANALYTICS_KEEP_MONTHLY_MONTHS = int(os.environ.get("ANALYTICS_KEEP_MONTHLY_MONTHS", "36"))

# Phone numbers without a country code are read in this region.
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "CN")
# Lists: rows per page (keyset pagination) and the count shown before "N+".
LIST_PAGE_SIZE = int(os.environ.get("LIST_PAGE_SIZE", "50"))
LIST_COUNT_LIMIT = int(os.environ.get("LIST_COUNT_LIMIT", "1000"))

NINJA_PAGINATION_PER_PAGE = LIST_PAGE_SIZE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
CSRF_FAILURE_VIEW = "guanxi.core.views.csrf_failure"
