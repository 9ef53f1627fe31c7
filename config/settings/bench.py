"""Benchmarks only (bench/suite.py): the production settings, plus the floor views that measure the
framework's own cost and a header with each request's SQL query count. Never deployed."""

from .production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.floors.QueryCountMiddleware", *MIDDLEWARE]
