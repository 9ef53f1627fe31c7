"""Transfer storm: randomised internal transfers through the HTTP API, from many concurrent clients,
against two bank server processes that share one PostgreSQL database. Half of the transfers are sent
again with the same Idempotency-Key (to the other server). After every batch: money is conserved,
no balance is below its limit, and check_ledger is clean. Any 5xx is a failure.

    make storm                  # the full run: 10,000 transfers, 16 clients, 20 accounts
    .venv/bin/python -m bench.transfer_storm --transfers 10000 --clients 16

tests/reliability/test_transfer_storm.py runs a scaled-down version in CI with the same code.
"""

import argparse
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

from bench.servers import BIN, free_port, running

OPENING_BALANCE = Decimal("1000.00")


@dataclass(frozen=True)
class Customer:
    token: str
    accounts: list[tuple[int, str]]  # (id, iban)


@dataclass
class Outcome:
    statuses: Counter[int] = field(default_factory=Counter)
    replays: int = 0
    replay_mismatches: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, detail: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{status} {detail[:200]}")


def prepare(customers: int = 5, accounts_each: int = 4) -> list[Customer]:
    """Customers with funded accounts and a payments:internal connection to all of them (in the
    database that Django is set up for)."""
    from django.contrib.auth import get_user_model

    from bank.services.accounts import account_deposit, account_open
    from bench.seed import api_token

    staff = get_user_model().objects.create_user("storm-staff", "", uuid.uuid4().hex, is_staff=True)
    prepared = []
    for number in range(customers):
        user = get_user_model().objects.create_user(f"storm{number}", f"storm{number}@example.com", uuid.uuid4().hex)
        opened = []
        for index in range(accounts_each):
            account = account_open(owner=user, type="BANK", description=f"Account {index}", actor=user)
            account_deposit(account=account, amount=OPENING_BALANCE, description="Storm funding", actor=staff)
            opened.append(account)
        token = api_token(user, opened, scope="accounts:read payments:read payments:internal")
        prepared.append(Customer(token=token, accounts=[(a.pk, a.iban) for a in opened]))
    return prepared


def invariants(expected_total: Decimal) -> list[str]:
    """Money conserved, no balance below its limit, the ledger consistent."""
    from django.db.models import Sum

    from bank.models import MonetaryAccount
    from bank.services.ledger import ledger_problems

    problems = ledger_problems()
    total = MonetaryAccount.objects.aggregate(total=Sum("balance"))["total"]
    if total != expected_total:
        problems.append(f"money not conserved: {total} instead of {expected_total}")
    return problems


def _client_loop(
    number: int, urls: list[str], customers: list[Customer], count: int, outcome: Outcome, seed: int
) -> None:
    rng = random.Random(seed * 1000 + number)
    with httpx.Client(timeout=30, headers={"X-Forwarded-Proto": "https"}) as client:
        for index in range(count):
            customer = rng.choice(customers)
            (source, _), (_, target_iban) = rng.sample(customer.accounts, 2)
            body = {
                "amount": {"value": f"{rng.randint(1, 30000) / 100:.2f}", "currency": "EUR"},
                "counterparty_alias": {"type": "IBAN", "value": target_iban, "name": "Own account"},
                "description": f"storm {number}-{index}",
            }
            headers = {"Authorization": f"Bearer {customer.token}", "Idempotency-Key": uuid.uuid4().hex}
            server = rng.randrange(len(urls))
            path = f"/api/v1/monetary-accounts/{source}/payments/"
            first = client.post(urls[server] + path, json=body, headers=headers)
            outcome.record(first.status_code, first.text)
            if index % 2 == 0:  # the client "did not hear" the answer: it retries, on the other server
                again = client.post(urls[(server + 1) % len(urls)] + path, json=body, headers=headers)
                outcome.record(again.status_code, again.text)
                with outcome.lock:
                    outcome.replays += 1
                    if first.status_code == 201 and (
                        again.status_code != 201
                        or again.content != first.content
                        or again.headers.get("Idempotent-Replayed") != "true"
                    ):
                        outcome.replay_mismatches.append(f"{first.status_code}/{again.status_code}")


def storm(
    urls: list[str],
    customers: list[Customer],
    *,
    transfers: int,
    clients: int,
    batches: int,
    check: Callable[[], list[str]],
    seed: int = 1,
) -> tuple[Outcome, list[str], float]:
    """Run `transfers` transfers in `batches`, `clients` threads at a time; `check` after each batch."""
    outcome = Outcome()
    problems: list[str] = []
    started = time.perf_counter()
    per_client = transfers // (clients * batches)
    for batch in range(batches):
        threads = [
            threading.Thread(target=_client_loop, args=(number, urls, customers, per_client, outcome, seed + batch))
            for number in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        problems += [f"after batch {batch + 1}: {problem}" for problem in check()]
    return outcome, problems, time.perf_counter() - started


@contextmanager
def two_servers(env: dict[str, str], workers: int = 2) -> Iterator[list[str]]:
    """Two gunicorn instances of the bank on their own ports, one database."""
    env = {**env, "API_RATE_PER_CONNECTION": "100000/min", "API_WRITE_RATE_PER_CONNECTION": "100000/min"}
    with ExitStack() as stack:
        urls = []
        for _ in range(2):
            port = free_port()
            stack.enter_context(
                running(
                    [str(BIN / "gunicorn"), "config.wsgi:application", "--config", "config/gunicorn.py"],
                    env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)},
                    ready_url=f"http://127.0.0.1:{port}/healthz",
                    echo_log=False,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def report(outcome: Outcome, problems: list[str], seconds: float, transfers: int, clients: int) -> str:
    requests = sum(outcome.statuses.values())
    lines = [
        f"{transfers:,} transfers ({requests:,} requests with {outcome.replays:,} idempotent retries) by "
        f"{clients} clients against 2 server processes in {seconds:.1f} s ({requests / seconds:.0f} requests/s)",
        "Statuses: " + ", ".join(f"{status}: {count:,}" for status, count in sorted(outcome.statuses.items())),
        f"Replay mismatches: {len(outcome.replay_mismatches)}; server errors: {len(outcome.server_errors)}; "
        f"invariant problems: {len(problems)}",
    ]
    return "\n".join(lines + problems[:10] + outcome.server_errors[:10])


def main() -> None:
    from bench.common import fresh_database, machine, migrate, production_env, use_django

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()

    env = production_env(fresh_database("bank_bench_storm"))
    migrate(env)
    use_django(env)
    customers = prepare()
    total = OPENING_BALANCE * sum(len(c.accounts) for c in customers)
    with two_servers(env) as urls:
        outcome, problems, seconds = storm(
            urls,
            customers,
            transfers=args.transfers,
            clients=args.clients,
            batches=args.batches,
            check=lambda: invariants(total),
        )
    print(report(outcome, problems, seconds, args.transfers, args.clients))
    print(f"Machine: {machine()}")
    if problems or outcome.server_errors or outcome.replay_mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
