"""What every benchmark needs: a fresh PostgreSQL database, the bank under gunicorn with production
settings on loopback, and a report that says on what it ran."""

import base64
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg

from bench.servers import BIN, ROOT, clean_env, free_port, running

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-" + "k" * 60
BENCH_REDIS_URL = "redis://127.0.0.1:6379/13"  # benchmarks' own Redis database


def fresh_database(name: str) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    settings = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": BENCH_REDIS_URL,
        # The benchmarks' apps move money with bearer tokens (bench/fapi.py measures what DPoP adds).
        "BEARER_APPS_MAY_MOVE_MONEY": "1",
    }
    return clean_env(**{**settings, **extra})


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)


def use_django(env: dict[str, str]) -> None:
    """Set this process up with the server's settings, to prepare data directly in the database."""
    os.environ.update(env)
    import django

    django.setup()


@contextmanager
def bank_server(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    port = free_port()
    with running(
        [str(BIN / "gunicorn"), "config.wsgi:application", "--config", "config/gunicorn.py"],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)},
        ready_url=f"http://127.0.0.1:{port}/healthz",
        echo_log=False,
    ):
        yield f"http://127.0.0.1:{port}"


def cursor_at(position: int) -> str:
    """DRF's cursor for "rows after this id" (what a client holds after walking the pages)."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49], "p90": cut[89], "p99": cut[98], "mean": statistics.fmean(ordered)}


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with psycopg.connect(ADMIN_URL) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    postgres = row[0] if row else "?"
    return (
        f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}; Python {platform.python_version()}, "
        f"Django {version('django')}, DRF {version('djangorestframework')}, "
        f"django-oauth-toolkit {version('django-oauth-toolkit')}, gunicorn {version('gunicorn')}, "
        f"PostgreSQL {postgres}"
    )


@dataclass(frozen=True)
class Seeded:
    """A bank ready to measure: its settings, its database, the bench customer's two accounts and a
    bearer token for both."""

    env: dict[str, str]
    database_url: str
    user: Any
    source: Any
    target: Any
    bearer: str  # the Authorization header


def seeded_bank(database: str, *, redis_url: str, payments: int) -> Seeded:
    """A fresh database under production settings (no API rate limit in the way), migrated, with the
    bench customer and `payments` payments between their accounts; this process set up to match."""
    database_url = fresh_database(database)
    env = production_env(
        database_url,
        REDIS_URL=redis_url,
        API_RATE_PER_CONNECTION="10000000/min",
        API_WRITE_RATE_PER_CONNECTION="10000000/min",
    )
    migrate(env)
    use_django(env)
    from bench.seed import api_token, bench_customer, seed_transfers

    user, source, target = bench_customer()
    seed_transfers(source, target, payments)
    bearer = f"Authorization: Bearer {api_token(user, [source, target])}"
    return Seeded(env, database_url, user, source, target, bearer)
