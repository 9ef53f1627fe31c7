"""Tests: fast password hashing, demo data allowed, PostgreSQL when DATABASE_URL is set."""

import os

from .base import *  # noqa: F403

SECRET_KEY = "test-only-not-a-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "connections.hashers.ClientSecretHasher",
]
BANK_DEMO_DATA_ALLOWED = True
# Tests run in transactions a replica never sees: only the replica's own tests turn it on.
REPLICA_READS = False
BEARER_APPS_MAY_MOVE_MONEY = True  # the demo's bearer app, and the tests' bearer apps, move money
CALLBACKS_ALLOW_LOOPBACK = True  # the tests' receivers listen on 127.0.0.1
# Tasks run at once, in the process that enqueues them (after commit); the worker's own tests run
# the database backend with `manage.py db_worker`.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")}}
os.environ.setdefault("DJANGO_TEST", "1")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Generous limits so that tests meet them only where they mean to (tests/api/test_throttling.py).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"connection": "100000/min", "connection_writes": "100000/min"},
}
