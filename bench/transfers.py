"""Transfers under contention (`make bench-transfers`, part of `make bench`): the bank's
`POST /api/v1/monetary-accounts/{id}/payments/` (bearer token, Idempotency-Key, the whole ledger,
audit event and outbox) against a bare locked transfer (bench/floors.py: two row locks, two balance
updates, nothing else) between the same accounts, in three shapes, 16 clients each:

- one pair: every transfer between the same two accounts;
- a shop: 16 accounts paying one hot account (the locks are per account, so one customer's 16
  accounts stand for 16 customers: a payment through the API goes between one's own accounts);
- spread: random transfers among 20 accounts.

Both run under gunicorn (production settings, 2 x cores + 1 workers) on one fresh database, driven
by `wrk -t2 -c16` over loopback, bounded in time. Afterwards the ledger must balance.

    .venv/bin/python -m bench.transfers --duration 8
"""

import argparse
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from bench.common import bank_server, machine, percentiles, use_django
from bench.suite import Load, bench_env, wrk

CLIENTS = 16
SAMPLES = 300

SCRIPT = """
local requests = {%(requests)s}
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) counter = 0; run = args[1]; math.randomseed(id) end
function request()
  counter = counter + 1
  local r = requests[%(pick)s]
  wrk.headers["Idempotency-Key"] = run .. "-" .. id .. "-" .. counter
  return wrk.format("POST", r[1], nil, r[2])
end
"""
PICK = {"round robin": "(counter + id * 7) % #requests + 1", "random": "math.random(#requests)"}


@dataclass(frozen=True)
class Shape:
    name: str
    pairs: list[tuple[Any, Any]]  # (source, target) accounts
    pick: str  # how each request chooses its pair: a key of PICK


def lua(requests: list[tuple[str, str]], pick: str) -> str:
    table = ", ".join(f"{{{json.dumps(path)}, {json.dumps(body)}}}" for path, body in requests)
    return SCRIPT % {"requests": table, "pick": PICK[pick]}


def bank_requests(pairs: list[tuple[Any, Any]]) -> list[tuple[str, str]]:
    return [
        (
            f"/api/v1/monetary-accounts/{source.pk}/payments/",
            json.dumps(
                {
                    "amount": {"value": "0.01", "currency": "EUR"},
                    "counterparty_alias": {"type": "IBAN", "value": target.iban, "name": "Me"},
                }
            ),
        )
        for source, target in pairs
    ]


def floor_requests(pairs: list[tuple[Any, Any]]) -> list[tuple[str, str]]:
    return [(f"/bench/floor/transfer/{source.pk}/{target.pk}/", "") for source, target in pairs]


def lock_window(
    client: httpx.Client, request: tuple[str, str], headers: dict[str, str]
) -> tuple[int, int, list[float]]:
    """`SAMPLES` transfers one after the other: the statements each ran in all and while holding its
    account rows, and how long it held them (ms)."""
    path, body = request
    queries: set[int] = set()
    statements: set[int] = set()
    samples: list[float] = []
    for _ in range(SAMPLES):
        response = client.post(path, content=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, (path, response.status_code, response.text[:300])
        queries.add(int(response.headers["X-Queries"]))
        statements.add(int(response.headers["X-Locked-Statements"]))
        samples.append(int(response.headers["X-Lock-Held-Us"]) / 1000)
    assert len(statements) == len(queries) == 1, (statements, queries)
    return queries.pop(), statements.pop(), samples


def customer_with_accounts(username: str, count: int) -> tuple[Any, list[Any]]:
    """A customer with `count` funded accounts, opened and funded through the bank's services."""
    from bank.services.accounts import account_deposit, account_open
    from bench.seed import bench_customer

    user, first, second = bench_customer(username)
    staff = type(user).objects.get(username=f"{username}-staff")
    accounts = [first, second]
    for number in range(count - 2):
        account = account_open(owner=user, type="BANK", description=f"Account {number + 3}", actor=user)
        account_deposit(account=account, amount=Decimal("100000.00"), description="Bench funding", actor=staff)
        accounts.append(account)
    account_deposit(account=second, amount=Decimal("100000.00"), description="Bench funding", actor=staff)
    return user, accounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    args = parser.parse_args()

    env = bench_env("bank_bench_transfers")
    use_django(env)
    from bank.models import Payment
    from bank.services.ledger import ledger_problems
    from bench.seed import api_token

    def shapes_of(owner: str) -> tuple[Any, list[Any], list[Shape]]:
        """The three shapes on accounts of their own (the floor's transfers write no payments)."""
        user, accounts = customer_with_accounts(owner, 2 + (CLIENTS + 1) + 20)
        pair, shop, payers, spread = accounts[:2], accounts[2], accounts[3 : 3 + CLIENTS], accounts[3 + CLIENTS :]
        return (
            user,
            accounts,
            [
                Shape("one pair", [(pair[0], pair[1])], "round robin"),
                Shape("a shop: 16 payers, one payee", [(payer, shop) for payer in payers], "round robin"),
                Shape("spread over 20 accounts", [(a, b) for a in spread for b in spread if a.pk != b.pk], "random"),
            ],
        )

    user, accounts, bank_shapes = shapes_of("bench")
    token = api_token(user, accounts)
    _, floor_accounts, floor_shapes = shapes_of("floor")

    rows: list[tuple[str, Load, Load]] = []
    json_bearer = ["Content-Type: application/json", f"Authorization: Bearer {token}"]
    with bank_server(env) as url:
        for shape, floor_shape in zip(bank_shapes, floor_shapes, strict=True):
            floor = wrk(
                url + "/bench/floor/json",  # each request's path and body come from the script
                [],
                duration=args.duration,
                connections=CLIENTS,
                lua=lua(floor_requests(floor_shape.pairs), shape.pick),
                lua_args=(uuid.uuid4().hex[:8],),
            )
            bank = wrk(
                url + "/api/v1/me/",
                json_bearer,
                duration=args.duration,
                connections=CLIENTS,
                lua=lua(bank_requests(shape.pairs), shape.pick),
                lua_args=(uuid.uuid4().hex[:8],),
            )
            rows.append((shape.name, floor, bank))
        with httpx.Client(base_url=url, headers={"X-Forwarded-Proto": "https"}, timeout=10) as client:
            held = {
                "bare locked transfer": lock_window(client, floor_requests(floor_shapes[0].pairs)[0], {}),
                "the bank's payment": lock_window(
                    client, bank_requests(bank_shapes[0].pairs)[0], dict(h.split(": ", 1) for h in json_bearer)
                ),
            }

    floor_rows = tuple(f"account {account.pk} (" for account in floor_accounts)
    problems = [problem for problem in ledger_problems() if not problem.startswith(floor_rows)]
    print(f"\nMachine: {machine()}; {Payment.objects.count():,} payments after the run")
    print(
        f"wrk -t2 -c{CLIENTS}, {args.duration} s per row; gunicorn 2 x cores + 1 workers; the floor: bench/floors.py\n"
    )
    print("| shape | floor requests/s | bank requests/s | bank / floor | bank p50 ms | bank p99 ms | non-2xx |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, floor, bank in rows:
        print(
            f"| {name} | {floor.rps:,.0f} | {bank.rps:,.0f} | {bank.rps / floor.rps:.2f} | {bank.p50:.1f} | "
            f"{bank.p99:.1f} | {bank.errors + floor.errors} |"
        )
    print(f"\nHow long one transfer holds its account rows: one client, {SAMPLES} transfers each; the statements")
    print("from the first that locks an account to the commit, and the time from that lock to the commit.\n")
    print("| transfer | SQL statements | under the lock | locks held p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (queries, statements, samples) in held.items():
        p = percentiles(samples)
        print(f"| {name} | {queries} | {statements} + commit | {p['p50']:.2f} | {p['p99']:.2f} |")
    print(f"\nLedger after the run: {problems or 'it balances'}")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
