"""Memory under load: the resident memory of each gunicorn worker after each kind of load, and over a
soak of mixed traffic (API reads, payments with idempotency keys, the customer's pages), sampled
between rounds, with the slope of a least-squares line through the samples after the first round.

    make bench-soak                     # 10 minutes of mixed traffic
    .venv/bin/python -m bench.soak --minutes 10 --round 20

The bank runs under gunicorn with production settings (2 sync workers) on a fresh PostgreSQL database
and Redis; `wrk` drives it over loopback. Bounded by --minutes. Memory is VmRSS from /proc of the
worker processes (children of the gunicorn master); a worker that restarts shows as a new pid.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.common import bank_server, machine, seeded_bank
from bench.suite import session_cookie, wrk

REDIS_URL = "redis://127.0.0.1:6379/11"


def workers_of(port: int) -> dict[int, int]:
    """pid → resident memory (KiB) of the gunicorn workers serving `port`."""
    bound = f"GUNICORN_BIND=127.0.0.1:{port}".encode()
    processes: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if bound not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            status = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        processes[int(entry.name)] = (int(status["PPid"]), int(status.get("VmRSS", "0 kB").split()[0]))
    masters = {pid for pid, (parent, _) in processes.items() if parent not in processes}
    return {pid: rss for pid, (parent, rss) in processes.items() if parent in masters}


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per minute."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [t for t, _ in samples], [m for _, m in samples]
    return statistics.linear_regression(xs, ys).slope * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--round", type=int, default=20, help="seconds of load between samples")
    args = parser.parse_args()

    seeded = seeded_bank("bank_bench_soak", redis_url=REDIS_URL, payments=10_000)
    env, source, target, bearer = seeded.env, seeded.source, seeded.target, seeded.bearer
    cookie = session_cookie(seeded.user)
    payment = json.dumps(
        {
            "amount": {"value": "0.01", "currency": "EUR"},
            "counterparty_alias": {"type": "IBAN", "value": target.iban, "name": "Savings"},
        }
    )
    with bank_server(env, workers=2) as url:
        port = int(url.rsplit(":", 1)[1])
        kinds = {
            "GET accounts (bearer)": (f"{url}/api/v1/monetary-accounts/", [bearer], None),
            "GET payments (bearer)": (f"{url}/api/v1/monetary-accounts/{source.pk}/payments/", [bearer], None),
            "POST payments (bearer, idempotency key)": (
                f"{url}/api/v1/monetary-accounts/{source.pk}/payments/",
                ["Content-Type: application/json", bearer],
                payment,
            ),
            "home page (session)": (f"{url}/", [cookie], None),
            "My app connections (session)": (f"{url}/profile/settings/security/app-connections/", [cookie], None),
        }
        started = workers_of(port)
        print(f"\nMachine: {machine()}; gunicorn 2 sync workers, production settings\n")
        print("| after | requests/s | non-2xx | " + " | ".join(f"worker {pid} MiB" for pid in started) + " |")
        print("| --- | ---: | ---: |" + " ---: |" * len(started))
        print("| start (idle) | — | — | " + " | ".join(mib(rss) for rss in started.values()) + " |")
        for name, (target_url, headers, body) in kinds.items():
            load = wrk(target_url, headers, duration=10, connections=8, body=body)
            now = workers_of(port)
            memory = " | ".join(mib(now.get(pid, 0)) for pid in started)
            print(f"| {name}, 10 s | {load.rps:,.0f} | {load.errors} | {memory} |")

        print(f"\nSoak: {args.minutes:g} minutes of mixed traffic, sampled every {args.round} s")
        samples: dict[int, list[tuple[float, float]]] = {pid: [] for pid in started}
        begin = time.monotonic()
        rounds, errors = 0, 0
        while time.monotonic() - begin < args.minutes * 60:
            target_url, headers, body = list(kinds.values())[rounds % len(kinds)]
            errors += wrk(target_url, headers, duration=args.round, connections=8, body=body).errors
            rounds += 1
            for pid, rss in workers_of(port).items():
                samples.setdefault(pid, []).append((time.monotonic() - begin, rss / 1024))
        print(f"{rounds} rounds, {errors} non-2xx answers")
        print("| worker | first MiB | last MiB | slope MiB/min (after the first round) | samples |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for pid, points in samples.items():
            if points:
                steady = points[1:] if len(points) > 2 else points
                print(
                    f"| {pid}{'' if pid in started else ' (new)'} | {points[0][1]:.1f} | {points[-1][1]:.1f} "
                    f"| {slope_per_minute(steady):+.3f} | {len(points)} |"
                )


if __name__ == "__main__":
    main()
