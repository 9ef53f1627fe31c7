"""Settings shared by every environment. Values that differ per deployment come from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.csp import CSP

# Generic Django classes (ModelAdmin[Connection], QuerySet[Payment]) may be subscripted at run time,
# as the typed code does.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    # Our apps come first so that their templates override the toolkit's.
    "bank",
    "connections",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "axes",
    "django_tasks_db",
]

MIDDLEWARE = [
    "bank.core.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "bank.api.middleware.ApiBoundaryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bank.core.replica.ReplicaStickinessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

# How many proxies the bank trusts in front of it (a load balancer is one): the client's address is
# the one that many entries from the right of X-Forwarded-For (bank.core.http.client_address).
# Every limit and lockout keyed by address, and the audit log, use that one function.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT") or os.environ.get("AXES_IPWARE_PROXY_COUNT") or 0)

# Login brute force: django-axes locks a username *from one address* after 5 failures for 15
# minutes, so an attacker elsewhere cannot lock the customer out of their own address. On top
# (bank.services.security.LoginLimitsBackend): 50 failures from one address lock that address, and
# 20 failures for one username from anywhere lock it everywhere but at the addresses the customer
# logged in from before, so rotating addresses does not buy more guesses.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "bank.services.security.LoginLimitsBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "bank.core.http.client_address"
LOGIN_FAILURES_PER_ADDRESS = os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "50/15min")
LOGIN_FAILURES_PER_USERNAME = os.environ.get("LOGIN_FAILURES_PER_USERNAME", "20/15min")

# Content Security Policy on every response (Django's own middleware): nothing from other sites,
# no inline script, and no page may be framed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],  # apps' logos are served by the bank itself, never hot-linked
    # drf-spectacular's Swagger UI page has one small inline <style>: allowed by its hash only.
    "style-src": [CSP.SELF, "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

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
                "bank.context_processors.waiting_items",
            ],
            # The bank's own `breadcrumb` tag and `money` filter need no {% load %} in any template.
            "builtins": ["bank.templatetags.bank_tags"],
        },
    },
]

# PostgreSQL when DATABASE_URL is set; otherwise an embedded SQLite file in the project.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
# A streaming read replica (tools/replica/start makes one on this machine): the customers' page
# selectors and the API's list and detail reads go there (bank/core/replica.py), everything else,
# and a customer's reads for a few seconds after their own write, stays on the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # the tests' database, as replicated
DATABASE_ROUTERS = ["bank.core.replica.ReplicaRouter"]
REPLICA_READS = env_bool("REPLICA_READS", True)
REPLICA_STICKY_SECONDS = int(os.environ.get("REPLICA_STICKY_SECONDS", "5"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Serialise writers instead of failing with "database is locked" under concurrent requests.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# User passwords keep Django's default (slow, salted) hasher. OAuth client secrets are 128-character
# random strings: a slow hasher adds nothing there but ~370 ms per token request, so the toolkit
# uses a single salted SHA-256 round for them (CLIENT_SECRET_HASHER below).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "connections.hashers.ClientSecretHasher",
]

LANGUAGE_CODE = "en-gb"
# Every date and time the admin shows carries seconds and the time zone (config/formats).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Cache: Redis when REDIS_URL is set (shared by every app process: throttles, sessions);
# otherwise a per-process memory cache.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "bank.core.cache.BankRedisCache", "LOCATION": REDIS_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Security headers that hold in every environment; production adds HSTS and secure cookies.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no page reads it from JavaScript
SESSION_COOKIE_AGE = 60 * 60 * 8

# --- The bank ---------------------------------------------------------------------------------
BANK_CURRENCY = "EUR"
BANK_IBAN_COUNTRY = "NL"
BANK_IBAN_BANK_CODE = "DEMO"
DRAFT_PAYMENT_LIFETIME = timedelta(days=7)
BANK_DEMO_DATA_ALLOWED = False  # local and test settings allow demo data; production never does

# --- OAuth 2.0 authorization server (django-oauth-toolkit) -------------------------------------
OAUTH2_PROVIDER_APPLICATION_MODEL = "connections.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "connections.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "connections.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "connections.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "connections.IDToken"  # noqa: S105

CONNECTION_LIFETIME = timedelta(days=90)
CONNECTION_EXPIRY_REMINDER = timedelta(days=7)  # the customer is told this long before a connection ends
IDEMPOTENCY_KEY_RETENTION = timedelta(hours=24)

# Background work (django.tasks): the database backend by default, so the bank needs nothing but its
# database; workers (`manage.py db_worker`) scale out against the same PostgreSQL. docs/deploy.md
# says how to move to another backend.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# The periodic jobs: `manage.py run_scheduler` enqueues each this often (however many schedulers run,
# each run is enqueued once), and the workers run them.
PERIODIC_JOBS = {
    "connections.tasks.callbacks_sweep": timedelta(seconds=int(os.environ.get("CALLBACK_SWEEP_SECONDS", "10"))),
    "bank.tasks.drafts_expire": timedelta(minutes=1),
    "connections.tasks.connections_tidy": timedelta(minutes=5),
    "bank.tasks.idempotency_keys_prune": timedelta(hours=1),
    "bank.tasks.passkey_challenges_prune": timedelta(hours=1),
    "bank.tasks.ledger_check": timedelta(days=1),
    "bank.tasks.task_results_prune": timedelta(days=1),
}

API_CALL_LOG_DAYS = int(os.environ.get("API_CALL_LOG_DAYS", "7"))  # each app's call log, for its developer

# Callbacks to apps (SPEC §9).
CALLBACKS_ALLOW_LOOPBACK = env_bool("CALLBACKS_ALLOW_LOOPBACK", False)  # http://127.0.0.1:PORT targets
CALLBACK_TIMEOUT = float(os.environ.get("CALLBACK_TIMEOUT", "5"))  # seconds, each phase of a call
CALLBACK_LEASE = timedelta(seconds=int(os.environ.get("CALLBACK_LEASE_SECONDS", "60")))
# Pauses after each failed attempt (seconds): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: more than a day.
CALLBACK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]
CALLBACK_DISABLE_AFTER = timedelta(days=3)  # a filter whose target fails this long is disabled

# Email: the console locally; production reads SMTP from the environment (EMAIL_HOST, …).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Demo Bank <no-reply@bank.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Bank operations", address) for address in env_list("BANK_ADMINS_EMAILS")]
# Money-moving scopes are for FAPI 2.0 apps (private_key_jwt, DPoP-bound tokens, pushed requests)
# unless this allows bearer-token apps to move money too: on for local demos and the tests, never
# by default in production.
BEARER_APPS_MAY_MOVE_MONEY = env_bool("BEARER_APPS_MAY_MOVE_MONEY", False)
# The sandbox: developers make test customers with demo money at /developers/, and any app may ask
# a test customer for any scope (real customers still grant only what staff allowed the app). On
# under `make run`; a production bank runs it, if at all, as a deployment of its own.
BANK_SANDBOX = env_bool("BANK_SANDBOX", False)
# The token endpoint's rate limits: every request counts against its address; requests of a client
# that authenticated count against that client.
OAUTH_TOKEN_RATE_PER_ADDRESS = os.environ.get("OAUTH_TOKEN_RATE_PER_ADDRESS", "1200/min")
OAUTH_TOKEN_RATE_PER_CLIENT = os.environ.get("OAUTH_TOKEN_RATE_PER_CLIENT", "600/min")
OAUTH2_ISSUER = os.environ.get("OAUTH2_ISSUER", "http://127.0.0.1:8000")

# Passkeys (WebAuthn): the relying-party id is a host name, never an IP address, so locally the bank
# is opened as http://localhost:8000 for passkeys; production uses the public host of OAUTH2_ISSUER.
PASSKEY_RP_ID = os.environ.get("PASSKEY_RP_ID", "localhost")
PASSKEY_RP_NAME = os.environ.get("PASSKEY_RP_NAME", "Demo Bank")
PASSKEY_ORIGINS = env_list("PASSKEY_ORIGINS", "http://localhost:8000")

OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "connections.scopes.ApplicationScopes",
    "OAUTH2_VALIDATOR_CLASS": "connections.oauth.validator.BankOAuth2Validator",
    "OAUTH2_SERVER_CLASS": "connections.oauth.validator.BankServer",
    "APPLICATION_ADMIN_CLASS": "connections.admin.oauth.BankApplicationAdmin",
    "ACCESS_TOKEN_ADMIN_CLASS": "connections.admin.oauth.BankAccessTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "connections.admin.oauth.BankRefreshTokenAdmin",
    "GRANT_ADMIN_CLASS": "connections.admin.oauth.BankGrantAdmin",
    "ID_TOKEN_ADMIN_CLASS": "connections.admin.oauth.BankIDTokenAdmin",
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],  # Application adds http for loopback URIs only
    "ALLOW_URI_WILDCARDS": False,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(CONNECTION_LIFETIME.total_seconds()),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REQUEST_APPROVAL_PROMPT": "force",
    "CLIENT_SECRET_HASHER": "bank-client-secret-sha256",
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "OIDC_ISS_ENDPOINT": OAUTH2_ISSUER,
    # RFC 8414 metadata lists exactly what the server supports.
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
}

# --- REST framework -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["bank.api.authentication.ConnectionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["bank.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "bank.api.schema.BankAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "bank.api.throttling.ConnectionRateThrottle",
        "bank.api.throttling.ConnectionWriteRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "connection": os.environ.get("API_RATE_PER_CONNECTION", "600/min"),
        "connection_writes": os.environ.get("API_WRITE_RATE_PER_CONNECTION", "120/min"),
    },
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "bank.api.problems.problem_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Bank API",
    "DESCRIPTION": (
        "The bank's public API for connected applications. **Start with the "
        "[first-token guide](/developers/guides/first-token/)**: registering an app, the authorization-code "
        "flow with PKCE (S256), the token endpoint, a first call and a refresh, in Python and curl. "
        "Authenticate with the access token (`Authorization: Bearer …`, or `DPoP …` for apps that move money: "
        "[FAPI 2.0 guide](/developers/guides/fapi/)); each operation lists the scopes it needs. Amounts are "
        'strings with two decimals: `{"value": "12.50", "currency": "EUR"}`. Errors are RFC 9457 problem '
        "details with a stable `code`, each explained at [/developers/problems/](/developers/problems/). "
        "Creating POSTs accept an `Idempotency-Key` header. "
        "Every response carries `X-Request-ID` (quote it to support) and, when authenticated, the rate limits "
        "it was counted against (`RateLimit-Policy`, `RateLimit`). Customers read about connections at "
        "/help/oauth/. [Versions, deprecations and the changelog](/developers/guides/versioning/)."
    ),
    "VERSION": "1.0.0",
    "SERVERS": [{"url": OAUTH2_ISSUER, "description": "This bank (paths start with /api/v1/)"}],
    "CONTACT": {"name": "Developer support", "url": f"{OAUTH2_ISSUER}/developers/"},
    "TAGS": [
        {"name": "me", "description": "The connected customer."},
        {"name": "monetary-accounts", "description": "Accounts, their payments, draft payments and payment requests."},
        {"name": "cards", "description": "The customer's cards."},
        {"name": "notification-filters", "description": "Callbacks: what the bank tells your app, and where."},
    ],
    # The documentation is for reading: no "Try it out" and no "Authorize" (the template hides it). A
    # token is got by an app's own server; the first-token guide shows how.
    "SWAGGER_UI_SETTINGS": {"supportedSubmitMethods": [], "deepLinking": True},
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "OAUTH2_FLOWS": ["authorizationCode"],
    "OAUTH2_AUTHORIZATION_URL": "/o/authorize/",
    "OAUTH2_TOKEN_URL": "/o/token/",
    "OAUTH2_REFRESH_URL": "/o/token/",
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "bank.models.RequestStatus",
        "CardStatusEnum": "bank.models.CardStatus",
        "DraftStatusEnum": "bank.models.DraftStatus",
        "AccountTypeEnum": "bank.models.AccountType",
        "CardTypeEnum": "bank.models.CardType",
        "PointerTypeEnum": "bank.models.CounterpartyType",
    },
}


# Logs go to stdout: plain lines locally, one JSON object per line where LOG_FORMAT=json (production).
# oauthlib logs authorization codes and tokens at DEBUG: it never logs below WARNING here, whatever
# LOG_LEVEL says (tests/security/test_web.py greps the logs for secrets).
def logging_config(log_format: str) -> dict[str, object]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "filters": {
            "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
            "request_id": {"()": "bank.core.request_ids.RequestIdFilter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
                "filters": ["request_id"],
            },
            "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "filters": ["require_debug_false"]},
        },
        "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
        "loggers": {
            # Django's own default sends "django" to a second console handler too: every line twice.
            "django": {"handlers": ["mail_admins"], "level": "INFO"},
            "oauthlib": {"level": "WARNING"},
            "oauth2_provider": {"level": "INFO"},
            "axes": {"level": "WARNING"},  # one line per login attempt otherwise; the audit log has them
            "httpx": {"level": "WARNING"},  # one line per callback otherwise; the deliveries have them
        },
    }


LOGGING = logging_config(os.environ.get("LOG_FORMAT", "plain"))
