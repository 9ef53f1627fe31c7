"""The API's reads against their floors, side by side: the bank and a minimal Django + DRF app of its
own (bench/minimal/, its own settings, no middleware) over the same PostgreSQL rows, both under
gunicorn with 2 sync workers, driven by `wrk -t2 -c8` in rounds that interleave the endpoints so
that a slow moment of the machine falls on all of them alike. Reports the median of the rounds.

    make bench-api          # about 3 minutes on 2 cores
    .venv/bin/python -m bench.api_floor --rounds 3 --duration 5 --payments 10000

The DPoP-bound rows send a fresh proof with every request: proofs are signed before each run (they
live 60 s), each wrk thread takes its own half, none is used twice (the bank refuses a replayed one).

Floors, for the same rows and the same serializers and pagination:
- DRF: a list view with no authentication, no permission, no throttle;
- toolkit: the naive protection django-oauth-toolkit offers, `OAuth2Authentication` + `TokenHasScope`.
The bank's endpoints make every check on every request (no token cache): the token, its connection,
the customer, the shared accounts, the scope, the rate limit in Redis, the request id, the call log.
"""

import argparse
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from bench.common import bank_server, machine, seeded_bank
from bench.fapi_client import Key, dpop_proof
from bench.servers import BIN, free_port, running
from bench.suite import Load, wrk

REDIS_URL = "redis://127.0.0.1:6379/12"
PROOFS_PER_RUN_SECOND = 1500  # more than any run serves, so that no request goes without a proof

# Each wrk thread sends the proofs of its own lines of the file (args[1]), one per request.
DPOP_SCRIPT = """
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args)
  proofs, n, i = {}, 0, 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[2]) == id then table.insert(proofs, line) end
    n = n + 1
  end
end
function request()
  i = i + 1
  wrk.headers["DPoP"] = proofs[i] or "exhausted"
  return wrk.format("GET")
end
"""


def dpop_load(url: str, token: str, key: "Key", *, duration: int) -> Load:
    """wrk with a DPoP-bound token and a fresh proof per request, for the URL as the client knows it."""
    htu = url.replace("http://", "https://")  # TLS ends at the proxy (X-Forwarded-Proto: https)
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as proofs:
        for _ in range(PROOFS_PER_RUN_SECOND * duration):
            proofs.write(dpop_proof(key, htm="GET", htu=htu, token=token) + "\n")
        proofs.flush()
        return wrk(
            url,
            [f"Authorization: DPoP {token}"],
            duration=duration,
            connections=8,
            lua=DPOP_SCRIPT,
            lua_args=(proofs.name, "2"),
        )


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

    seeded = seeded_bank("bank_bench_api_floor", redis_url=REDIS_URL, payments=args.payments)
    env, user, source, target, bearer = seeded.env, seeded.user, seeded.source, seeded.target, seeded.bearer
    from bench.seed import bench_application
    from bench.tokens import issue_token
    from connections.services.connections import connection_grant

    dpop_key, reads = Key(), "accounts:read payments:read"
    bound_app = bench_application(client_id="bench-dpop", scopes=reads)
    bound_connection = connection_grant(
        user=user, application=bound_app, scopes=reads.split(), accounts=[source, target]
    )
    bound = issue_token(bound_connection, lifetime=timedelta(hours=2), dpop_jkt=dpop_key.thumbprint)

    with bank_server(env, workers=2) as bank, minimal_server(env, workers=2) as minimal:
        endpoints = {
            "accounts: DRF floor (minimal app)": (f"{minimal}/drf/accounts/{user.pk}/", []),
            "accounts: toolkit floor (minimal app)": (f"{minimal}/toolkit/accounts/", [bearer]),
            "accounts: the bank (bearer)": (f"{bank}/api/v1/monetary-accounts/", [bearer]),
            "payments: DRF floor (minimal app)": (f"{minimal}/drf/payments/{source.pk}/", []),
            "payments: toolkit floor (minimal app)": (f"{minimal}/toolkit/payments/{source.pk}/", [bearer]),
            "payments: the bank (bearer)": (f"{bank}/api/v1/monetary-accounts/{source.pk}/payments/", [bearer]),
            "accounts: the bank (DPoP-bound)": (f"{bank}/api/v1/monetary-accounts/", []),
            "payments: the bank (DPoP-bound)": (f"{bank}/api/v1/monetary-accounts/{source.pk}/payments/", []),
        }

        def measure(name: str, url: str, headers: list[str], duration: int) -> Load:
            if "DPoP" in name:
                return dpop_load(url, bound, dpop_key, duration=duration)
            return wrk(url, headers, duration=duration, connections=8)

        for name, (url, headers) in endpoints.items():  # warm every worker's connections and caches
            measure(name, url, headers, 1)
        rounds: dict[str, list[Load]] = {name: [] for name in endpoints}
        for _ in range(args.rounds):
            for name, (url, headers) in endpoints.items():
                rounds[name].append(measure(name, url, headers, args.duration))

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
