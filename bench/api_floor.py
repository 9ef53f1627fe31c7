"""The API's reads against their floors, side by side: the bank and a minimal Django + DRF app of its
own (bench/minimal/, its own settings, no middleware) over the same PostgreSQL rows, both under
gunicorn with 2 sync workers, driven by `wrk -t2 -c8` in rounds that interleave the endpoints so
that a slow moment of the machine falls on all of them alike. Reports the median of the rounds.

    make bench-api          # about 3 minutes on 2 cores
    .venv/bin/python -m bench.api_floor --rounds 3 --duration 5 --payments 10000

Floors, for the same rows and the same serializers and pagination:
- DRF: a list view with no authentication, no permission, no throttle;
- toolkit: the naive protection django-oauth-toolkit offers, `OAuth2Authentication` + `TokenHasScope`.
The bank's endpoints make every check on every request (no token cache): the token, its connection,
the customer, the shared accounts, the scope, the rate limit in Redis, the request id, the call log.
"""

import argparse
import statistics
from collections.abc import Iterator
from contextlib import contextmanager

from bench.common import bank_server, fresh_database, machine, migrate, production_env, use_django
from bench.servers import BIN, free_port, running
from bench.suite import Load, wrk

REDIS_URL = "redis://127.0.0.1:6379/12"


@contextmanager
def minimal_server(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    port = free_port()
    command = [str(BIN / "gunicorn"), "bench.minimal.wsgi:application", "--workers", str(workers)]
    minimal_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.minimal.settings"}
    with running(
        [*command, "--bind", f"127.0.0.1:{port}"],
        env=minimal_env,
        ready_url=f"http://127.0.0.1:{port}/healthz",
        echo_log=False,
    ):
        yield f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--payments", type=int, default=10_000)
    args = parser.parse_args()

    env = production_env(
        fresh_database("bank_bench_api_floor"),
        REDIS_URL=REDIS_URL,
        API_RATE_PER_CONNECTION="10000000/min",
        API_WRITE_RATE_PER_CONNECTION="10000000/min",
    )
    migrate(env)
    use_django(env)
    from bench.seed import api_token, bench_customer, seed_transfers

    user, source, target = bench_customer()
    seed_transfers(source, target, args.payments)
    bearer = f"Authorization: Bearer {api_token(user, [source, target])}"

    with bank_server(env, workers=2) as bank, minimal_server(env, workers=2) as minimal:
        endpoints = {
            "accounts: DRF floor (minimal app)": (f"{minimal}/drf/accounts/{user.pk}/", []),
            "accounts: toolkit floor (minimal app)": (f"{minimal}/toolkit/accounts/", [bearer]),
            "accounts: the bank (bearer)": (f"{bank}/api/v1/monetary-accounts/", [bearer]),
            "payments: DRF floor (minimal app)": (f"{minimal}/drf/payments/{source.pk}/", []),
            "payments: toolkit floor (minimal app)": (f"{minimal}/toolkit/payments/{source.pk}/", [bearer]),
            "payments: the bank (bearer)": (f"{bank}/api/v1/monetary-accounts/{source.pk}/payments/", [bearer]),
        }
        for url, headers in endpoints.values():  # warm every worker's connections and caches
            wrk(url, headers, duration=1, connections=8)
        rounds: dict[str, list[Load]] = {name: [] for name in endpoints}
        for _ in range(args.rounds):
            for name, (url, headers) in endpoints.items():
                rounds[name].append(wrk(url, headers, duration=args.duration, connections=8))

    def median(name: str) -> Load:
        loads = rounds[name]
        return Load(
            rps=statistics.median(load.rps for load in loads),
            p50=statistics.median(load.p50 for load in loads),
            p99=statistics.median(load.p99 for load in loads),
            errors=sum(load.errors for load in loads),
        )

    print(f"\nMachine: {machine()}")
    print(f"gunicorn 2 sync workers each; wrk -t2 -c8, {args.duration} s per run, median of {args.rounds} rounds\n")
    print("| endpoint | requests/s | p50 ms | p99 ms | cost / DRF floor | cost / toolkit floor | non-2xx |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in endpoints:
        load = median(name)
        resource = name.split(":")[0]
        drf, toolkit = (
            median(f"{resource}: DRF floor (minimal app)"),
            median(f"{resource}: toolkit floor (minimal app)"),
        )
        print(
            f"| {name} | {load.rps:,.0f} | {load.p50:.1f} | {load.p99:.1f} | {drf.rps / load.rps:.2f} "
            f"| {toolkit.rps / load.rps:.2f} | {load.errors} |"
        )


if __name__ == "__main__":
    main()
