"""A minimal Django project over the bank's database: the apps whose models it reads, DRF and the
toolkit, no middleware, no throttles, no sessions. `python -m bench.suite` serves it under gunicorn
beside the bank to measure what the framework alone costs for the same rows."""

import os

import dj_database_url

SECRET_KEY = "bench-minimal-not-a-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.minimal.urls"
WSGI_APPLICATION = "bench.minimal.wsgi.application"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "oauth2_provider",
    "bank",
    "connections",
]
MIDDLEWARE: list[str] = []
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=600)}
# Read by the bank's models and the modules its serializers import.
BANK_CURRENCY = "EUR"
BANK_IBAN_COUNTRY = "NL"
BANK_IBAN_BANK_CODE = "DEMO"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
OAUTH2_PROVIDER_APPLICATION_MODEL = "connections.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "connections.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "connections.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "connections.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "connections.IDToken"  # noqa: S105
OAUTH2_PROVIDER = {"SCOPES": {"accounts:read": "Read accounts", "payments:read": "Read payments"}}
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
