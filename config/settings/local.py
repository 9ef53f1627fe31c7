"""Local development: debug on, a fixed development key, demo data allowed."""

import os

from .base import *  # noqa: F403

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "local-development-only-not-a-secret"
BANK_DEMO_DATA_ALLOWED = True
BEARER_APPS_MAY_MOVE_MONEY = True  # the demo's bearer app, and the tests' bearer apps, move money
BANK_SANDBOX = env_bool("BANK_SANDBOX", True)  # developers make test customers at /developers/
CALLBACKS_ALLOW_LOOPBACK = True  # Budget Buddy listens on http://127.0.0.1:8001
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
