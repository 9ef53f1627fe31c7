"""Read throughput with and without the read replica (bank/core/replica.py): the same bank, the same
data, first with every read on the primary, then with `DATABASE_REPLICA_URL` set, under gunicorn
with 2 sync workers, `wrk -t2 -c8`, rounds interleaved; medians reported.

    tools/replica/start                 # a streaming replica on 127.0.0.1:5433
    make bench-replica                  # or: .venv/bin/python -m bench.replica --rounds 3

On one machine the replica shares the CPU and the disk with the primary, so this measures what the
routing costs and that reads move, not the capacity a second database server adds.
"""

import argparse
import statistics
import time

import psycopg

from bench.common import bank_server, machine, seeded_bank
from bench.suite import Load, session_cookie, wrk

REPLICA_PORT = 5433


def replica_url(database_url: str) -> str:
    return database_url.replace(":5432/", f":{REPLICA_PORT}/")


def wait_for_replay(database_url: str, table: str, rows: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(replica_url(database_url)) as conn:
                found = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608  (a fixed table)
                if found and found[0] >= rows:
                    return
        except psycopg.OperationalError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not replay the seed: is tools/replica/start running?")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()

    seeded = seeded_bank("bank_bench_replica", redis_url="redis://127.0.0.1:6379/10", payments=10_000)
    env, database_url, source, bearer = seeded.env, seeded.database_url, seeded.source, seeded.bearer
    cookie = session_cookie(seeded.user)
    wait_for_replay(database_url, "bank_payment", 10_000)

    paths = {
        "GET payments (bearer)": (f"/api/v1/monetary-accounts/{source.pk}/payments/", [bearer]),
        "GET accounts (bearer)": ("/api/v1/monetary-accounts/", [bearer]),
        "home page (session)": ("/", [cookie]),
    }
    setups = {"primary only": env, "with the replica": {**env, "DATABASE_REPLICA_URL": replica_url(database_url)}}
    results: dict[tuple[str, str], list[Load]] = {}
    for _ in range(args.rounds):
        for setup, setup_env in setups.items():
            with bank_server(setup_env, workers=2) as url:
                for name, (path, headers) in paths.items():
                    load = wrk(url + path, headers, duration=args.duration, connections=8)
                    results.setdefault((name, setup), []).append(load)

    print(f"\nMachine: {machine()}; primary and replica on the same machine")
    print(f"gunicorn 2 sync workers; wrk -t2 -c8, {args.duration} s per run, median of {args.rounds} rounds\n")
    print(
        "| endpoint | primary only, requests/s | with the replica, requests/s | p50 ms (primary / replica) | non-2xx |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in paths:
        alone, routed = results[(name, "primary only")], results[(name, "with the replica")]
        errors = sum(load.errors for load in alone + routed)
        rps = [statistics.median(x.rps for x in loads) for loads in (alone, routed)]
        p50 = [statistics.median(x.p50 for x in loads) for loads in (alone, routed)]
        print(f"| {name} | {rps[0]:,.0f} | {rps[1]:,.0f} | {p50[0]:.1f} / {p50[1]:.1f} | {errors} |")


if __name__ == "__main__":
    main()
