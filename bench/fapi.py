"""What FAPI 2.0 costs (targets: DPoP adds under 0.5 ms to an API request at p50; the token endpoint
with private_key_jwt + DPoP stays under 15 ms at p50).

- **DPoP at the API**: `GET /api/v1/me/` with a plain bearer token and with a DPoP-bound token and a
  fresh proof, interleaved request by request on the same server, and the difference of the
  medians; and the proof check alone (`proof_verify`, signature and the shared replay check in
  Redis), timed in this process.
- **Token endpoint**: the code exchange and the refresh with a client assertion and a DPoP proof,
  next to the same grants with a client secret.

The client signs its assertions and proofs before each timer starts: only the bank's work is timed.
The bank runs under gunicorn with production settings on a fresh database, over loopback, one request
at a time. Bounded: a few hundred requests of each kind.

    make bench-fapi            # or: .venv/bin/python -m bench.fapi --requests 300
"""

import argparse
import time
from datetime import timedelta
from typing import Any

import httpx

from bench.common import bank_server, fresh_database, machine, migrate, percentiles, production_env, use_django
from bench.fapi_client import ASSERTION_TYPE, Key, client_assertion, dpop_proof
from bench.seed import REDIRECT_URI

FAPI_CLIENT_ID = "bench-fapi"
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


def prepare(key: Key) -> tuple[Any, Any, Any, Any]:
    """A customer connected to a bearer app and to a FAPI app (whose keys are `key`)."""
    from bench import token_endpoint
    from bench.seed import bench_application
    from connections import scopes
    from connections.models import TokenEndpointAuthMethod
    from connections.services.connections import connection_grant

    user: Any
    user, _bearer_app, bearer_connection = token_endpoint.prepare("fapi-bench")
    application = bench_application(client_id=FAPI_CLIENT_ID, scopes=" ".join(scopes.ALL), name="Bench FAPI")
    application.token_endpoint_auth_method = TokenEndpointAuthMethod.PRIVATE_KEY_JWT
    application.jwks = key.jwks
    application.dpop_bound_access_tokens = application.require_pushed_authorization_requests = True
    application.save()
    connection = connection_grant(
        user=user,
        application=application,
        scopes=["accounts:read", "payments:read"],
        accounts=list(user.owned_accounts.all()),
    )
    return user, application, connection, bearer_connection


def time_request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, response


def api_requests(client: httpx.Client, url: str, bearer: str, bound: str, dpop_key: Key, count: int) -> tuple:
    """`count` timed calls of each kind, interleaved, after a warm-up."""
    me = f"{url.replace('http://', 'https://')}/api/v1/me/"  # the URL as the client knows it (TLS at the proxy)
    bearer_ms: list[float] = []
    dpop_ms: list[float] = []
    for n in range(count + 20):
        proof = dpop_proof(dpop_key, htm="GET", htu=me, token=bound)
        plain, _ = time_request(client, "GET", "/api/v1/me/", headers={"Authorization": f"Bearer {bearer}"})
        bound_ms, _ = time_request(
            client, "GET", "/api/v1/me/", headers={"Authorization": f"DPoP {bound}", "DPoP": proof}
        )
        if n >= 20:
            bearer_ms.append(plain)
            dpop_ms.append(bound_ms)
    return bearer_ms, dpop_ms


def proof_checks(dpop_key: Key, token: str, count: int) -> list[float]:
    """The proof check alone, as the API runs it, in this process (Redis for the replay check)."""
    from connections.oauth.dpop import proof_verify

    url = "https://bank.example/api/v1/me/"
    samples = []
    for _ in range(count + 20):
        proof = dpop_proof(dpop_key, htm="GET", htu=url, token=token)
        started = time.perf_counter()
        proof_verify(proof, method="GET", url=url, access_token=token)
        samples.append((time.perf_counter() - started) * 1000)
    return samples[20:]


def token_requests(
    client: httpx.Client, url: str, key: Key, user: Any, application: Any, connection: Any, count: int
) -> tuple[list[float], list[float]]:
    """`count` timed code exchanges and refreshes with private_key_jwt and DPoP, after a warm-up."""
    from bench import token_endpoint

    token_url = f"{url.replace('http://', 'https://')}/o/token/"
    dpop_key = Key()

    def post(grant: dict[str, str]) -> tuple[float, httpx.Response]:
        """One token request as a FAPI client makes it: private_key_jwt and a fresh DPoP proof."""
        assertion = client_assertion(key, client_id=FAPI_CLIENT_ID, aud=token_url)
        data = {**grant, "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
        headers = {"DPoP": dpop_proof(dpop_key, htm="POST", htu=token_url)}
        return time_request(client, "POST", "/o/token/", data=data, headers=headers)

    exchange_ms: list[float] = []
    refresh_tokens: list[str] = []
    warmup, batch = 20, 50
    while len(exchange_ms) < count + warmup:
        for code, verifier in token_endpoint.new_codes(user, application, connection, batch):
            grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
            elapsed, response = post({**grant, "code_verifier": verifier})
            exchange_ms.append(elapsed)
            refresh_tokens.append(response.json()["refresh_token"])
    refresh_ms = [
        post({"grant_type": "refresh_token", "refresh_token": token})[0]
        for token in refresh_tokens[warmup : warmup + count]
    ]
    return exchange_ms[warmup : warmup + count], refresh_ms


def row(name: str, samples: list[float]) -> str:
    p = percentiles(samples)
    return f"| {name} | {p['p50']:.2f} | {p['p90']:.2f} | {p['p99']:.2f} | {p['mean']:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests of each kind")
    args = parser.parse_args()

    # The rate limits stay out of the way: this measures the work per request, not the limits.
    unlimited = {name: "100000/min" for name in ("OAUTH_TOKEN_RATE_PER_ADDRESS", "OAUTH_TOKEN_RATE_PER_CLIENT")}
    env = production_env(fresh_database("bank_bench_fapi"), API_RATE_PER_CONNECTION="100000/min", **unlimited)
    migrate(env)
    use_django(env)
    from bench import token_endpoint
    from bench.tokens import issue_token

    key, dpop_key = Key(), Key()
    user, application, connection, bearer_connection = prepare(key)
    bearer = issue_token(bearer_connection, lifetime=timedelta(hours=1))
    bound = issue_token(connection, lifetime=timedelta(hours=1), dpop_jkt=dpop_key.thumbprint)
    with bank_server(env) as url, httpx.Client(base_url=url, headers=BEHIND_TLS, timeout=10) as client:
        bearer_ms, dpop_ms = api_requests(client, url, bearer, bound, dpop_key, args.requests)
        fapi_exchange, fapi_refresh = token_requests(client, url, key, user, application, connection, args.requests)
        secret_exchange, secret_refresh = token_endpoint.measure(
            client, user, bearer_connection.application, bearer_connection, args.requests
        )
    verify_ms = proof_checks(dpop_key, bound, args.requests)

    delta = percentiles(dpop_ms)["p50"] - percentiles(bearer_ms)["p50"]
    print(f"FAPI 2.0 costs, {args.requests} sequential requests of each kind, gunicorn 2 workers, production settings")
    print(f"Machine: {machine()}")
    print()
    print("| request | p50 ms | p90 ms | p99 ms | mean ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(row("GET /api/v1/me/, Bearer", bearer_ms))
    print(row("GET /api/v1/me/, DPoP-bound token + proof", dpop_ms))
    print(row("proof_verify alone (in process, Redis replay check)", verify_ms))
    print(row("token: authorization_code, client secret", secret_exchange))
    print(row("token: authorization_code, private_key_jwt + DPoP", fapi_exchange))
    print(row("token: refresh_token, client secret", secret_refresh))
    print(row("token: refresh_token, private_key_jwt + DPoP", fapi_refresh))
    print()
    print(f"DPoP adds {delta:.2f} ms at p50 to an API request (target: under 0.5 ms).")


if __name__ == "__main__":
    main()
