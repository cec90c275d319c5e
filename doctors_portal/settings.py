"""Settings for Doctors Portal, read from the environment in one place.

Every variable is listed in `.env.example`. With `DJANGO_DEBUG=0` (production)
nothing secret has a default and unsafe test-only switches refuse to start.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

# Fails closed: unset means production; `make run` and `make test` set DJANGO_DEBUG=1.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("DJANGO_TESTING", default=False)
APPEND_SLASH = True

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-only-key-never-used-in-production")
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
            "when DJANGO_DEBUG=0."
        )
    if env("FIREBASE_AUTH_EMULATOR_HOST", default=""):
        # firebase-admin accepts unsigned tokens when the emulator host is set.
        raise ImproperlyConfigured(
            "FIREBASE_AUTH_EMULATOR_HOST must not be set in production: "
            "the Firebase SDK would accept unsigned ID tokens."
        )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, pinned and served by us
    "django_filters",
    "corsheaders",
    "axes",
    "accounts",
    "scheduling",
    "bookings",
    "payments",
    # The audit trail (ARCHITECTURE invariant 12): django-auditlog, fields in audit.registry.
    "auditlog",
    "audit",
    "calendars",
    # The project package itself: its migration creates the database cache's table.
    "doctors_portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # High: answers preflights before anything authenticates, and marks every API answer
    # (the envelope middleware's 413/400 too) for the browser clients it allows.
    "corsheaders.middleware.CorsMiddleware",
    "doctors_portal.api.middleware.ApiEnvelopeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The audit trail's actor: the session's user (API requests: accounts.authentication).
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "doctors_portal.csp.PortalCSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The admin in clinic time; the product's 404 page in DEBUG too (inside CSP and
    # CommonMiddleware, so its answer gets the headers and the trailing-slash redirect).
    "doctors_portal.admin_timezone.ClinicTimeZoneAdminMiddleware",
    "doctors_portal.not_found.ProductNotFoundMiddleware",
    # A page whose view finds the database unavailable answers 503, not 500 (the API
    # has its envelope; errors raised before the view reach urls.handler500, the same page).
    "doctors_portal.unavailable.DatabaseUnavailableMiddleware",
    # Last, as axes asks: turns a lockout flagged during the request into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "doctors_portal.urls"
WSGI_APPLICATION = "doctors_portal.wsgi.application"

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
                "doctors_portal.context_processors.clinic",
            ],
        },
    },
]

# Database: SQLite by default (a bare machine), PostgreSQL when DATABASE_URL is set.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
    # failing on lock upgrade; the busy timeout is how long one waits.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: race tests open one connection per thread.
    DATABASES["default"]["TEST"] = {
        "NAME": env("SQLITE_TEST_DB", default=str(BASE_DIR / "test-db.sqlite3"))
    }
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, reading timestamps with psycopg's C parser (see the module).
        DATABASES["default"]["ENGINE"] = "doctors_portal.db.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        # Bind parameters on the server and let psycopg prepare a statement run 5 times
        # on a connection: PostgreSQL then stops planning the API's joins on every
        # request, which cost more than running them (bench/NOTES.md). Off (0) behind a
        # pooler in transaction mode, which cannot keep prepared statements. Pooled
        # connections live on between requests, so they keep their prepared statements.
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "server_side_binding": True,
            "prepare_threshold": 5,
        }
    # One psycopg pool per process: its threads share at most DB_POOL_MAX_SIZE
    # connections, so the server holds workers x max_size however many threads granian
    # starts (a persistent connection per thread reached 3 x 64 against PostgreSQL's 100).
    # A request that waits DB_POOL_TIMEOUT seconds for one gets a 503 (API and pages). 0 turns the
    # pool off (behind PgBouncer): one persistent connection per thread, DB_CONN_MAX_AGE.
    # The test process itself runs without it (0): its race tests start and end threads
    # by the hundred, and a thread that ends without handing its connection back keeps it
    # from the pool, so over the suite the pool ran dry (PoolTimeout at a test's setup).
    # The servers the tests start run with the pool, as production does.
    DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=0 if TESTING else 10)
    if DB_POOL_MAX_SIZE > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django refuses both
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "pool": {
                "min_size": min(env.int("DB_POOL_MIN_SIZE", default=1), DB_POOL_MAX_SIZE),
                "max_size": DB_POOL_MAX_SIZE,
                "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
                # Idle connections past min_size close after this; PostgreSQL gets them back.
                "max_idle": env.float("DB_POOL_MAX_IDLE", default=300.0),
            },
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing at full strength makes the suite slow and proves nothing more.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
CLINIC_TIME_ZONE = env("CLINIC_TIME_ZONE", default="Asia/Dhaka")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files served at the site's root (favicon.ico), by whitenoise.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
# DEBUG shows the product's 404 page and logs the detail (doctors_portal/not_found.py);
# 1 brings back Django's technical 404, which lists every URL pattern.
DEBUG_TECHNICAL_404 = env.bool("DJANGO_DEBUG_TECHNICAL_404", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "pages:login"
LOGIN_REDIRECT_URL = "pages:home"

# Bodies over 1 MiB are refused with 413 (doctors_portal.api.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
MAX_REQUEST_BODY_BYTES = 1024 * 1024
# Deeper JSON is refused with 400 before decoding (doctors_portal.api.parsers).
MAX_JSON_NESTING_DEPTH = env.int("MAX_JSON_NESTING_DEPTH", default=32)

# Cache: Redis when REDIS_URL is set (shared by every process), else the database.
REDIS_URL = env("REDIS_URL", default="")
# The availability cache (scheduling/availability_cache.py) needs a cache every process
# shares, so without Redis it is off (a dummy): a per-process cache would serve one
# worker's answers after another worker's write.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        },
        "availability": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            # One Redis may serve several databases (staging, benchmarks): keep them apart.
            "KEY_PREFIX": f"availability:{DATABASES['default'].get('NAME', '')}",
        },
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        },
        "availability": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }

# --- Audit trail (django-auditlog) ---
# No client address in the trail: it is kept forever, and an address is personal data.
AUDITLOG_DISABLE_REMOTE_ADDR = True

# --- Client address and lockout (django-axes) ---
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the
# connecting address is the client, and a client's own X-Forwarded-For is ignored.
# DRF's throttles (NUM_PROXIES) and axes (accounts.lockout.client_ip, which asks DRF)
# read the client address by this one rule.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Counted per account and, separately, per client address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A failure while locked does not push the end of the lockout further away, so a
# stranger hammering an address cannot keep its owner out for good.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False

REST_FRAMEWORK = {
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["doctors_portal.api.renderers.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": ["doctors_portal.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "doctors_portal.api.pagination.PageLimitPagination",
    "PAGE_SIZE": 10,
    "EXCEPTION_HANDLER": "doctors_portal.api.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "doctors_portal.api.schema.EnvelopeAutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("THROTTLE_AUTH_RATE", default="20/min"),
        "booking": env("THROTTLE_BOOKING_RATE", default="30/min"),
        "payment": env("THROTTLE_PAYMENT_RATE", default="30/min"),
        "profile": env("THROTTLE_PROFILE_RATE", default="30/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The API parses JSON only, so test clients send JSON unless told otherwise.
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Cross-origin browser clients (django-cors-headers), e.g. the reference web client served
# from a static host. Tokens only, never cookies, so no credentials. Production allows no
# origin unless CORS_ALLOWED_ORIGINS names it; development allows the usual local front
# ends (create-react-app :3000, Vite :5173 and :4173, Angular :4200, Vue CLI :8080).
_LOCAL_FRONT_END_PORTS = (3000, 5173, 4173, 4200, 8080)
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS",
    default=[
        f"http://{host}:{port}"
        for port in _LOCAL_FRONT_END_PORTS
        for host in ("localhost", "127.0.0.1")
    ]
    if DEBUG
    else [],
)
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type")
CORS_EXPOSE_HEADERS = ("Retry-After", "Content-Disposition")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a hash of the password they were issued under: a reset or a takeover
    # (which clears an unproven password) ends every access token at once, not in 15 min.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Doctors Portal API",
    "DESCRIPTION": (
        "Patients find a doctor's free time, book it and pay for it. Every response is "
        "wrapped in the envelope {success, status, message, meta?, data}."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from drf-spectacular-sidecar (a pinned dependency), served as our static
    # files: no CDN, nothing unpinned, and it works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: Swagger UI would fetch it from a third-party host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "doctors_portal.api.schema.wrap_responses_in_envelope",
        "doctors_portal.api.schema.describe_request_text",
    ],
}

# Domain settings.
BOOKING_HOLD_MINUTES = env.int("BOOKING_HOLD_MINUTES", default=15)
CANCELLATION_REFUND_HOURS = env.int("CANCELLATION_REFUND_HOURS", default=24)
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="usd")

# Scheduling limits (scheduling/timefmt.py, scheduling/services.py, scheduling/selectors.py).
MAX_SLOT_MINUTES = env.int("MAX_SLOT_MINUTES", default=240)
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=14)
PUBLISH_HORIZON_DAYS = env.int("PUBLISH_HORIZON_DAYS", default=365)
MAX_ACTIVE_HOLDS_PER_PATIENT = env.int("MAX_ACTIVE_HOLDS_PER_PATIENT", default=2)
# How often beat generates weekly hours up to BOOKING_HORIZON_DAYS ahead (scheduling/schedules.py).
SCHEDULE_EXTEND_SECONDS = env.float("SCHEDULE_EXTEND_SECONDS", default=3600.0)

# Reschedule and waitlist (bookings/services.py, bookings/seats.py).
RESCHEDULE_CUTOFF_HOURS = env.int("RESCHEDULE_CUTOFF_HOURS", default=24)
WAITLIST_CLAIM_MINUTES = env.int("WAITLIST_CLAIM_MINUTES", default=30)
WAITLIST_MAX_OPEN_PER_PATIENT = env.int("WAITLIST_MAX_OPEN_PER_PATIENT", default=20)

# Firebase: only the project id is needed to verify ID tokens.
FIREBASE_PROJECT_ID = env("FIREBASE_PROJECT_ID", default="demo-doctors-portal" if DEBUG else "")
FIREBASE_WEB_API_KEY = env("FIREBASE_WEB_API_KEY", default="")
FIREBASE_AUTH_DOMAIN = env("FIREBASE_AUTH_DOMAIN", default="")

# Stripe: the SDK is pointed at STRIPE_API_BASE (localstripe in tests and the demo).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_demo" if DEBUG else "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="pk_test_demo" if DEBUG else "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_demo" if DEBUG else "")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# A Stripe call waits at most (retries + 1) x timeout plus the SDK's backoff sleeps
# (payments.stripe_gateway.call_bound_seconds; connect and answer share an attempt's
# timeout): 8 s and 1 retry, 16.5 s, then 502. The
# retry is safe: every create carries its idempotency key.
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=8.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
if not 0 < STRIPE_TIMEOUT_SECONDS <= 30:
    raise ImproperlyConfigured("STRIPE_TIMEOUT_SECONDS must be more than 0 and at most 30.")
if not 0 <= STRIPE_MAX_NETWORK_RETRIES <= 3:
    raise ImproperlyConfigured("STRIPE_MAX_NETWORK_RETRIES must be 0 to 3.")
if not DEBUG and not STRIPE_SECRET_KEY:
    raise ImproperlyConfigured("STRIPE_SECRET_KEY must be set when DJANGO_DEBUG=0.")
if not DEBUG and not STRIPE_WEBHOOK_SECRET:
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET must be set when DJANGO_DEBUG=0.")

# Email: console by default, SMTP through EMAIL_URL.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="Doctors Portal <no-reply@doctors-portal.local>"
)

# Background work (doctors_portal/celery.py, doctors_portal/outbox.py). Redis in
# production; unset, a folder on this machine (kombu's filesystem transport), so
# `make run` needs no Redis and still runs a real worker and beat.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_FILESYSTEM_BROKER_DIR = env(
    "CELERY_FILESYSTEM_BROKER_DIR", default=str(BASE_DIR / ".celery-broker")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": CELERY_FILESYSTEM_BROKER_DIR,
        "data_folder_out": CELERY_FILESYSTEM_BROKER_DIR,
        "control_folder": CELERY_FILESYSTEM_BROKER_DIR + "-control",
        "processed_folder": CELERY_FILESYSTEM_BROKER_DIR + "-processed",
        "store_processed": False,
    }
# In-process delivery for the unit tests; the process tests run real workers.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
# Delivery attempts before a row is marked failed (the admin can retry it), and the
# first retry's delay; each further one waits twice as long, up to the cap.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
# A claimed row whose worker died is taken again after this many seconds.
OUTBOX_CLAIM_SECONDS = env.int("OUTBOX_CLAIM_SECONDS", default=120)
# How often beat sweeps the outbox (lost enqueues, due retries) and queues reminders.
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=60.0)
# Reminders before an appointment's start, e.g. "24h,2h" or "30m".
REMINDER_OFFSETS = env.list("REMINDER_OFFSETS", default=["24h", "2h"])

# Security headers; strict in production.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy (django-csp) on every page, the admin and the Swagger UI. Scripts
# only from our origin (a script that must be inline carries the request's nonce); the
# Stripe.js and Firebase origins are added per request by doctors_portal.csp. Styles allow
# 'unsafe-inline': the admin and Swagger UI set style attributes, and a style runs no code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, "'unsafe-inline'"],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Uploaded files: profile photos and licence documents (accounts.uploads) ---
# Stored through Django's storage API (STORAGES["default"]): local files under MEDIA_ROOT
# by default, S3 through django-storages (`pip install .[s3]`) when AWS_STORAGE_BUCKET_NAME
# is set. Never served as public files: the users/:id/photo and users/:id/licence-document
# routes check who asks and stream them from the storage.
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "/media/"  # no route serves it
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the host's role), read by
    # boto3 itself. Objects are private; the app reads them and answers the permitted.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            "location": env("AWS_S3_LOCATION", default=""),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# Per file, photo or document; refused with 400 above it (a multipart body may be this
# plus UPLOAD_FORM_OVERHEAD_BYTES; doctors_portal.api.middleware).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
UPLOAD_FORM_OVERHEAD_BYTES = 256 * 1024
# An image declaring more pixels is refused from its header, before decoding (bombs).
UPLOAD_MAX_IMAGE_PIXELS = env.int("UPLOAD_MAX_IMAGE_PIXELS", default=25_000_000)
# Profile photos are resized to fit this square and re-encoded (metadata dropped).
PHOTO_MAX_SIDE = env.int("PHOTO_MAX_SIDE", default=512)
