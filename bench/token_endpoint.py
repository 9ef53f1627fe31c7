"""Token endpoint benchmark (issue: p50 under 15 ms): the authorization-code exchange (PKCE S256,
confidential client with HTTP Basic) and the refresh grant, each timed request by request.

The bank runs under gunicorn with production settings on a fresh PostgreSQL database; this process
prepares codes directly in the database (as the consent screen would) and sends the token requests
over loopback with a keep-alive HTTP client, one at a time. Bounded: a few hundred requests.

    make bench-token            # or: .venv/bin/python -m bench.token_endpoint --requests 300
"""

import argparse
import base64
import hashlib
import secrets
import time
from datetime import timedelta

import httpx

from bench.common import bank_server, fresh_database, machine, migrate, percentiles, production_env, use_django
from bench.seed import REDIRECT_URI

CLIENT_ID, CLIENT_SECRET = "bench-client", secrets.token_urlsafe(64)


def prepare(username: str = "bench") -> tuple[object, object, object]:
    from django.contrib.auth import get_user_model

    from bank.services.accounts import account_open
    from bench.seed import bench_application
    from connections import scopes
    from connections.services.connections import connection_grant

    user = get_user_model().objects.create_user(username, f"{username}@example.com", secrets.token_urlsafe(16))
    account = account_open(owner=user, type="BANK", description="Main", actor=user)
    application = bench_application(client_id=CLIENT_ID, secret=CLIENT_SECRET, scopes=" ".join(scopes.ALL))
    connection = connection_grant(
        user=user, application=application, scopes=["accounts:read", "payments:read"], accounts=[account]
    )
    return user, application, connection


def new_codes(user: object, application: object, connection: object, count: int) -> list[tuple[str, str]]:
    """`count` fresh codes with their PKCE verifiers, as the consent screen would create them."""
    from django.utils import timezone

    from connections.models import Grant

    pairs = []
    grants = []
    for _ in range(count):
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        code = secrets.token_urlsafe(30)
        grants.append(
            Grant(
                application=application,
                user=user,
                code=code,
                expires=timezone.now() + timedelta(seconds=60),
                redirect_uri=REDIRECT_URI,
                scope="accounts:read payments:read",
                code_challenge=challenge,
                code_challenge_method="S256",
                connection=connection,
            )
        )
        pairs.append((code, verifier))
    Grant.objects.bulk_create(grants)
    return pairs


def measure(client: httpx.Client, user: object, application: object, connection: object, requests: int) -> tuple:
    """`requests` timed code exchanges, then `requests` timed refreshes (ms), after a warm-up."""
    auth = (CLIENT_ID, CLIENT_SECRET)
    exchange_ms: list[float] = []
    refresh_tokens: list[str] = []
    warmup = 20
    batch = 50  # codes live 60 s: make them just before they are used
    while len(exchange_ms) < requests + warmup:
        for code, verifier in new_codes(user, application, connection, batch):
            started = time.perf_counter()
            response = client.post(
                "/o/token/",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
                auth=auth,
            )
            exchange_ms.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            refresh_tokens.append(response.json()["refresh_token"])
    refresh_ms: list[float] = []
    for refresh_token in refresh_tokens[warmup : warmup + requests]:
        started = time.perf_counter()
        response = client.post(
            "/o/token/", data={"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=auth
        )
        refresh_ms.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return exchange_ms[warmup : warmup + requests], refresh_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per grant type")
    args = parser.parse_args()

    env = production_env(fresh_database("bank_bench_token"))
    migrate(env)
    use_django(env)
    user, application, connection = prepare()
    # The load balancer terminates TLS and says so; production settings trust this header.
    headers = {"X-Forwarded-Proto": "https"}
    with bank_server(env) as url, httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        exchange_ms, refresh_ms = measure(client, user, application, connection, args.requests)

    print(f"Token endpoint, {args.requests} sequential requests each, gunicorn 2 workers, production settings")
    print(f"Machine: {machine()}")
    print()
    print("| grant | p50 ms | p90 ms | p99 ms | mean ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, samples in (("authorization_code (PKCE S256)", exchange_ms), ("refresh_token (rotating)", refresh_ms)):
        p = percentiles(samples)
        print(f"| {name} | {p['p50']:.1f} | {p['p90']:.1f} | {p['p99']:.1f} | {p['mean']:.1f} |")


if __name__ == "__main__":
    main()
