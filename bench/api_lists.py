"""Payment-list latency: the first page and a page 1,000 pages deep, over 100,000 payments on the
listed account (issue: "a deep cursor page as fast as the first"; no COUNT on lists).

The bank runs under gunicorn with production settings on a fresh PostgreSQL database, seeded in
SQL so that the ledger balances; this process sends sequential GETs over loopback with a bearer
token. Bounded: a few hundred requests.

    make bench-lists            # or: .venv/bin/python -m bench.api_lists --transfers 100000
"""

import argparse
import time

import httpx

from bench import common


def timed(client: httpx.Client, path: str, pages: dict[str, dict[str, str]], count: int) -> dict[str, list[float]]:
    """Each page `count` times, interleaved (so that warm-up and noise fall on all alike)."""
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for round_number in range(count + 10):
        for name, params in pages.items():
            started = time.perf_counter()
            response = client.get(path, params=params)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            assert len(response.json()["results"]) == int(params["page_size"]), name
            if round_number >= 10:  # after a warm-up
                samples[name].append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=100_000, help="each is one payment on each account")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    env = common.production_env(common.fresh_database("bank_bench_lists"))
    common.migrate(env)
    common.use_django(env)
    from bank.models import Payment
    from bench.seed import api_token, bench_customer, seed_transfers

    user, source, target = bench_customer()
    started = time.perf_counter()
    seed_transfers(source, target, 2 * args.transfers)
    seeded_in = time.perf_counter() - started
    on_source = Payment.objects.filter(monetary_account=source).count()
    page_size, depth = 50, 1000
    deep_position = (
        Payment.objects.filter(monetary_account=source).order_by("-id").values_list("id", flat=True)[page_size * depth]
    )
    token = api_token(user, [source, target])
    path = f"/api/v1/monetary-accounts/{source.pk}/payments/"
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}

    pages = {
        "first": {"page_size": str(page_size)},
        f"{depth:,} pages deep": {"page_size": str(page_size), "cursor": common.cursor_at(deep_position)},
    }
    with common.bank_server(env) as url, httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        samples = timed(client, path, pages, args.requests)

    print(
        f"Payment list, {args.requests} sequential requests each (interleaved), page_size {page_size}; "
        f"{2 * args.transfers:,} payments seeded in {seeded_in:.1f} s ({on_source:,} on the listed account)"
    )
    print(f"Machine: {common.machine()}")
    print()
    print("| page | p50 ms | p90 ms | p99 ms | mean ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, measured in samples.items():
        p = common.percentiles(measured)
        print(f"| {name} | {p['p50']:.1f} | {p['p90']:.1f} | {p['p99']:.1f} | {p['mean']:.1f} |")
    first, deep = (common.percentiles(measured)["p50"] for measured in samples.values())
    print(f"\nDeep page p50 / first page p50: {deep / first:.2f}")


if __name__ == "__main__":
    main()
