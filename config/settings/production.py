"""Production: refuses to start without its secrets; HTTPS everywhere; no demo data."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_list, logging_config

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of at least 50 characters.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names that the bank serves.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must be set: guess limits, login lockouts, rate limits and replay checks must be shared "
        "by every process of the bank."
    )

# Passkeys belong to the public host: by default the host and origin of OAUTH2_ISSUER.
_issuer = urlsplit(OAUTH2_ISSUER)
PASSKEY_RP_ID = os.environ.get("PASSKEY_RP_ID", _issuer.hostname or "")
PASSKEY_ORIGINS = env_list("PASSKEY_ORIGINS", f"{_issuer.scheme}://{_issuer.netloc}")

BANK_DEMO_DATA_ALLOWED = False
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# Persistent connections (checked before reuse): a sync worker keeps one open instead of paying a
# connection per request. Size PostgreSQL's max_connections for workers times processes.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))

# One JSON object per log line on stdout, for the log collector.
LOGGING = logging_config(os.environ.get("LOG_FORMAT", "json"))

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
