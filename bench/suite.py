"""The performance suite (`make bench`): the bank under gunicorn with production settings on
PostgreSQL and Redis, seeded with 10,000 customers and up to 1,000,000 payments, driven by `wrk`
from a separate process over loopback, each run bounded in time. In the same run it measures the
floors (bench/floors.py) that show what the framework itself costs, and reports for each endpoint
requests per second, p50 and p99, SQL queries per request, and the ratio to its floor. It also
plots list latency against data size (1k → 1M payments) into docs/performance-lists.png.

    make bench                         # about 6 minutes on 2 cores
    .venv/bin/python -m bench.suite --duration 8 --sizes 1000,10000,100000,1000000
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from bench import common

ROOT = Path(__file__).resolve().parent.parent
BEHIND_TLS = "X-Forwarded-Proto: https"
REDIS_URL = "redis://127.0.0.1:6379/14"

POST_SCRIPT = """
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) counter = 0; run = args[1] end
function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = run .. "-" .. id .. "-" .. counter
  return wrk.format("POST")
end
"""


@dataclass(frozen=True)
class Load:
    rps: float
    p50: float
    p99: float
    errors: int


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str,
    headers: list[str],
    *,
    duration: int,
    connections: int,
    body: str | None = None,
    lua: str | None = None,
    lua_args: tuple[str, ...] = (),
) -> Load:
    """wrk's figures for `url`: a GET, a POST of `body` with a fresh Idempotency-Key per request, or
    what the Lua script `lua` makes of each request (with `lua_args`)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for header in [BEHIND_TLS, *headers]:
        command += ["-H", header]
    if body is not None:
        lua = f"wrk.method = 'POST'\nwrk.body = {json.dumps(body)}\n" + POST_SCRIPT
        lua_args = (uuid.uuid4().hex[:8],)
    script = None
    if lua is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(lua)
        script.close()
        command += ["-s", script.name]
    command.append(url)
    if lua_args:
        command += ["--", *lua_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if script:
        Path(script.name).unlink()
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    except (AttributeError, ValueError) as exc:
        raise RuntimeError(f"could not read wrk's output for {url}:\n{output}") from exc
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(rps=rps, p50=p50, p99=p99, errors=int(errors.group(1)) if errors else 0)


def bench_env(database: str) -> dict[str, str]:
    """The environment of a bank under the bench settings (the floors mounted, the header of SQL
    statements, no rate limit in the way) on a fresh, migrated `database`, with an empty Redis."""
    env = common.production_env(
        common.fresh_database(database),
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        REDIS_URL=REDIS_URL,
        API_RATE_PER_CONNECTION="10000000/min",
        API_WRITE_RATE_PER_CONNECTION="10000000/min",
    )
    redis.Redis.from_url(REDIS_URL).flushdb()
    common.migrate(env)
    return env


def queries(url: str, headers: list[str], method: str = "GET", body: str | None = None) -> int:
    header_map = dict(h.split(": ", 1) for h in [BEHIND_TLS, *headers])
    if body is not None:
        header_map["Idempotency-Key"] = uuid.uuid4().hex
    response = httpx.request(method, url, headers=header_map, content=body, timeout=10)
    assert response.status_code < 400, (url, response.status_code, response.text[:300])
    return int(response.headers["X-Queries"])


def seed_customers(count: int) -> None:
    """`count` customers with one bank account each, in bulk (they make the tables realistic)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from bank.models import MonetaryAccount
    from bank.services.accounts import iban_generate

    password = make_password(None)  # unusable: nobody logs in as them
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"customer{n}", email=f"customer{n}@example.com", password=password)
        for n in range(count)
    )
    MonetaryAccount.objects.bulk_create(
        MonetaryAccount(owner=user, description="Main", iban=iban_generate()) for user in users
    )


def session_cookie(user: object) -> str:
    """A logged-in session for `user`, as the login page would create it (in the shared cache)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cache import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)  # type: ignore[attr-defined]
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()  # type: ignore[attr-defined]
    session.create()
    return f"Cookie: {settings.SESSION_COOKIE_NAME}={session.session_key}"


def connect_apps(user: Any, accounts: list[Any], count: int) -> None:
    from bench.seed import bench_application
    from connections.services.connections import connection_grant

    for number in range(count):
        application = bench_application(client_id=f"bench-app-{number}", scopes="accounts:read", name=f"App {number}")
        connection_grant(user=user, application=application, scopes=["accounts:read"], accounts=accounts)


def plot(sizes: list[int], series: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    for name, values in series.items():
        axes.plot(sizes, values, marker="o", label=name)
    axes.set_xscale("log")
    axes.set_ylim(bottom=0)
    axes.set_xlabel("payments in the database")
    axes.set_ylabel("p50 latency (ms), wrk 4 connections")
    axes.set_title("List latency against data size")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", help="payments in the database")
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    env = bench_env("bank_bench_suite")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    common.use_django(env)
    from bank.models import Payment
    from bench import token_endpoint
    from bench.seed import api_token, bench_customer, seed_transfers

    started = time.perf_counter()
    seed_customers(args.customers)
    user, source, target = bench_customer()
    connect_apps(user, [source, target], 19)
    token = api_token(user, [source, target])  # the 20th connection
    cookie = session_cookie(user)
    bearer = f"Authorization: Bearer {token}"
    print(f"Seeded {args.customers:,} customers and 20 connections in {time.perf_counter() - started:.1f} s")

    listing = f"/api/v1/monetary-accounts/{source.pk}/payments/"
    growth: dict[str, list[float]] = {"payments, first page": [], "payments, 1,000 pages deep": [], "accounts": []}
    results: dict[str, tuple[Load, int]] = {}
    with common.bank_server(env) as url:
        for size in sizes:
            have = Payment.objects.count()
            if size > have:
                source.refresh_from_db()
                target.refresh_from_db()
                seeding = time.perf_counter()
                seed_transfers(source, target, size - have)
                print(f"{size:,} payments (seeded in {time.perf_counter() - seeding:.1f} s)")
            on_source = Payment.objects.filter(monetary_account=source).count()
            deep_index = min(50 * 1000, on_source - 51)
            deep = (
                Payment.objects.filter(monetary_account=source).order_by("-id").values_list("id", flat=True)[deep_index]
            )
            for name, path in (
                ("payments, first page", listing),
                ("payments, 1,000 pages deep", f"{listing}?cursor={common.cursor_at(deep)}"),
                ("accounts", "/api/v1/monetary-accounts/"),
            ):
                load = wrk(url + path, [bearer], duration=max(3, args.duration // 2), connections=4)
                growth[name].append(load.p50)

        deep_path = f"{listing}?cursor={common.cursor_at(deep)}"
        floor_list = f"/bench/floor/payments/{source.pk}/"
        transfer_body = json.dumps(
            {
                "amount": {"value": "0.01", "currency": "EUR"},
                "counterparty_alias": {"type": "IBAN", "value": target.iban, "name": "Savings"},
            }
        )
        gets = {
            "floor: plain Django JSON view": ("/bench/floor/json", []),
            "floor: DRF list, no auth, same rows": (floor_list, []),
            "GET monetary-accounts (bearer)": ("/api/v1/monetary-accounts/", [bearer]),
            "GET payments, first page (bearer)": (listing, [bearer]),
            "GET payments, 1,000 pages deep (bearer)": (deep_path, [bearer]),
            "home page, 20 connections (session)": ("/", [cookie]),
            "My app connections, 20 connections (session)": ("/profile/settings/security/app-connections/", [cookie]),
        }
        for name, (path, headers) in gets.items():
            load = wrk(url + path, headers, duration=args.duration, connections=4)
            results[name] = (load, queries(url + path, headers))
        json_header = ["Content-Type: application/json", bearer]
        results["floor: bare locked transfer, 16 clients"] = (
            wrk(
                url + f"/bench/floor/transfer/{source.pk}/{target.pk}/",
                [],
                duration=args.duration,
                connections=16,
                body="",
            ),
            queries(url + f"/bench/floor/transfer/{source.pk}/{target.pk}/", [], "POST", ""),
        )
        results["POST payments (idempotency key), 16 clients"] = (
            wrk(url + listing, json_header, duration=args.duration, connections=16, body=transfer_body),
            queries(url + listing, json_header, "POST", transfer_body),
        )
        token_user, application, connection = token_endpoint.prepare("token-bench")
        with httpx.Client(base_url=url, headers={"X-Forwarded-Proto": "https"}, timeout=10) as client:
            exchange_ms, refresh_ms = token_endpoint.measure(client, token_user, application, connection, 200)

    plot(sizes, growth, ROOT / "docs" / "performance-lists.png")

    def row(name: str, load: Load, count: int, floor: Load | None) -> str:
        ratio = f"{floor.rps / load.rps:.2f}" if floor else "—"  # time per request, relative to the floor
        return f"| {name} | {load.rps:,.0f} | {load.p50:.1f} | {load.p99:.1f} | {count} | {ratio} | {load.errors} |"

    drf_floor = results["floor: DRF list, no auth, same rows"][0]
    transfer_floor = results["floor: bare locked transfer, 16 clients"][0]
    print(f"\nMachine: {common.machine()}; {Payment.objects.count():,} payments, {args.customers:,} customers")
    print(f"wrk -t2, {args.duration} s per row, 4 connections unless stated; gunicorn 2 x cores + 1 workers\n")
    print("| endpoint | requests/s | p50 ms | p99 ms | SQL queries | cost / floor | non-2xx |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (load, count) in results.items():
        floor = None
        if name.startswith(("GET", "home", "My app")):
            floor = drf_floor
        elif name.startswith("POST"):
            floor = transfer_floor
        print(row(name, load, count, floor))
    for name, samples in (("token: code exchange", exchange_ms), ("token: refresh", refresh_ms)):
        p = common.percentiles(samples)
        print(f"| {name} (sequential) | {1000 / p['mean']:,.0f} | {p['p50']:.1f} | {p['p99']:.1f} | — | — | 0 |")
    print("\nList p50 (ms) by payments in the database:")
    print("| endpoint | " + " | ".join(f"{size:,}" for size in sizes) + " |")
    print("| --- |" + " ---: |" * len(sizes))
    for name, values in growth.items():
        print(f"| {name} | " + " | ".join(f"{value:.1f}" for value in values) + " |")


if __name__ == "__main__":
    main()
