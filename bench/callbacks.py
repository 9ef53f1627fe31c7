"""Callbacks: how fast a committed change reaches the app, how many deliveries one worker makes a
second, and what the outbox adds to a transfer (targets: p50 under 1 s from commit to delivery with
one worker; the outbox one insert, under 10% of a transfer's time).

- **Commit to delivery**: the bank (gunicorn, production settings), the scheduler (relaying the
  outbox every 0.2 s) and one `db_worker` (polling every 0.2 s, as `make run` and docs/deploy.md run
  them); an app pays between the customer's accounts
  through the API, one transfer at a time, with a PAYMENT filter at a receiver on loopback. Latency
  is the time from the event's commit (its `created`) to the receiver's arrival, for each leg.
- **Deliveries per second per worker**: with the worker stopped, transfers queue up their events;
  then one worker starts and the time until every callback has arrived is measured.
- **The outbox in a transfer**: `payment_create` in this process, timed with and without the event
  (the event's insert replaced by nothing), interleaved, and its queries counted.

    make bench-callbacks        # or: .venv/bin/python -m bench.callbacks --transfers 200
"""

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest import mock

import httpx

from bench.common import bank_server, fresh_database, machine, migrate, percentiles, production_env, use_django
from bench.receiver import receiving
from bench.servers import ROOT

WORKER = [sys.executable, "manage.py", "db_worker", "--queue-name", "default", "--interval", "0.2"]
SCHEDULER = [sys.executable, "manage.py", "run_scheduler"]
SECRET = "whsec_YmVuY2gtY2FsbGJhY2stc2VjcmV0LTAxMjM0NTY3ODk="  # noqa: S105  (the benchmark app's)
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


def prepare(target: str) -> tuple[Any, Any, Any, str]:
    from bench.seed import bench_application, bench_customer
    from bench.tokens import issue_token
    from connections.models import NotificationFilter
    from connections.services.callbacks import signing_secret_set
    from connections.services.connections import connection_grant

    user, source, savings = bench_customer("callbacks")
    scope = ["accounts:read", "payments:read", "payments:internal"]
    application = bench_application(client_id="bench-callbacks", scopes=" ".join(scope))
    signing_secret_set(application=application, secret=SECRET)
    connection = connection_grant(user=user, application=application, scopes=scope, accounts=[source, savings])
    NotificationFilter.objects.create(connection=connection, category="PAYMENT", notification_target=target)
    return user, source, savings, issue_token(connection)


def transfer(client: httpx.Client, source: Any, savings: Any, token: str) -> None:
    body = {
        "amount": {"value": "1.00", "currency": "EUR"},
        "counterparty_alias": {"type": "IBAN", "value": savings.iban, "name": "Me"},
    }
    response = client.post(
        f"/api/v1/monetary-accounts/{source.pk}/payments/", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()


def latencies(receiver: Any) -> list[float]:
    """Arrival minus commit, in ms, for every callback received."""
    import json

    from bank.models import Event

    created = {str(e.id): e.created.timestamp() for e in Event.objects.filter(type="payment.created")}
    return [(call.at - created[json.loads(call.body)["id"]]) * 1000 for call in receiver.received]


def outbox_cost(user: Any, source: Any, savings: Any, count: int) -> tuple[list[float], list[float], int, int]:
    """payment_create timed with the event and without it (ms), and the queries of each."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from bank.services.payments import payment_create

    def pay() -> None:
        payment_create(
            customer=user,
            source=source,
            amount=Decimal("0.01"),
            counterparty={"type": "IBAN", "value": savings.iban},
            actor=user,
        )

    with_ms: list[float] = []
    without_ms: list[float] = []
    for n in range(count + 20):
        started = time.perf_counter()
        pay()
        with_event = (time.perf_counter() - started) * 1000
        with without_events():
            started = time.perf_counter()
            pay()
            without_event = (time.perf_counter() - started) * 1000
        if n >= 20:
            with_ms.append(with_event)
            without_ms.append(without_event)
    with CaptureQueriesContext(db) as queries:
        pay()
    with_queries = len(queries.captured_queries)
    with without_events(), CaptureQueriesContext(db) as queries:
        pay()
    return with_ms, without_ms, with_queries, len(queries.captured_queries)


class _NoEvent:
    """In place of the ledger's event insert: the same statement, with `SELECT 1` for that part."""

    computed: dict[str, str] = {}

    def sql(self) -> str:
        return "SELECT 1"

    def values(self, row: object) -> list[object]:
        return []


@contextmanager
def without_events() -> Iterator[None]:
    """Payments posted without their callback events (the ledger inserts a payment's event in the
    statement that posts it)."""
    from bank.services import ledger

    ledger._post_sql.cache_clear()
    try:
        with mock.patch.object(ledger, "_EVENT_SQL", _NoEvent()):
            yield
    finally:
        ledger._post_sql.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=200, help="transfers for latency and for throughput")
    args = parser.parse_args()

    env = production_env(
        fresh_database("bank_bench_callbacks"),
        CALLBACKS_ALLOW_LOOPBACK="1",
        BEARER_APPS_MAY_MOVE_MONEY="1",
        API_RATE_PER_CONNECTION="100000/min",
        API_WRITE_RATE_PER_CONNECTION="100000/min",
    )
    migrate(env)
    use_django(env)
    from django.db import connection as db

    with receiving() as receiver:
        user, source, savings, token = prepare(receiver.url + "/bank")
        scheduler = subprocess.Popen(SCHEDULER, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with bank_server(env) as url, httpx.Client(base_url=url, headers=BEHIND_TLS, timeout=10) as client:
            worker = subprocess.Popen(WORKER, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                transfer(client, source, savings, token)  # the worker has started when this arrives
                receiver.wait_for(2, timeout=30)
                receiver.received.clear()
                for _ in range(args.transfers):
                    transfer(client, source, savings, token)
                    time.sleep(0.05)
                receiver.wait_for(2 * args.transfers, timeout=60)
                latency = latencies(receiver)
            finally:
                worker.terminate()
                worker.wait(timeout=20)

            receiver.received.clear()
            for _ in range(args.transfers):
                transfer(client, source, savings, token)
            worker = subprocess.Popen(WORKER, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                arrived = receiver.wait_for(2 * args.transfers, timeout=300)
                # From the first arrival to the last: the worker's start-up is not counted.
                drained = max(call.at for call in arrived) - min(call.at for call in arrived)
            finally:
                worker.terminate()
                worker.wait(timeout=20)
        scheduler.terminate()
        scheduler.wait(timeout=20)
    db.close()
    with_ms, without_ms, with_queries, without_queries = outbox_cost(user, source, savings, args.transfers)

    p = percentiles(latency)
    w, wo = percentiles(with_ms)["p50"], percentiles(without_ms)["p50"]
    print("Callbacks, production settings, gunicorn 2 workers, one db_worker polling every 0.2 s")
    print(f"Machine: {machine()}")
    print()
    print(f"Commit to delivery ({len(latency)} callbacks, {args.transfers} transfers one at a time):")
    print(f"  p50 {p['p50']:.0f} ms, p90 {p['p90']:.0f} ms, p99 {p['p99']:.0f} ms (target: p50 under 1 s)")
    print(f"Deliveries per second, one worker, {len(arrived)} queued callbacks: {(len(arrived) - 1) / drained:.0f}")
    print(
        f"The outbox in a transfer (payment_create, {args.transfers} each, p50): {w:.2f} ms with the event, "
        f"{wo:.2f} ms without: +{w - wo:.2f} ms ({(w - wo) / wo:.0%}); queries {with_queries} vs {without_queries} "
        "(each leg's event is inserted by the statement that posts the leg)"
    )


if __name__ == "__main__":
    main()
