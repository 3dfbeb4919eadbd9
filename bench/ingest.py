"""Ingest benchmark: N concurrent writers PUT figures for random facilities for a fixed time.

Each writer acts as a hospital system with its facility's API key. Prints accepted updates/s,
p50/p99/max latency and errors. Starts its own service unless --url is given.

    .venv/bin/python bench/ingest.py --writers 16 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

import aiohttp
import httpx

from bench._service import percentile, service, token


def make_keys(url: str) -> dict[str, tuple[str, list[str]]]:
    """One API key per facility, created by the demo admin: facility -> (key, categories)."""
    admin = {"Authorization": f"Bearer {token(url, 'admin')}"}
    facilities = httpx.get(f"{url}/api/v1/facilities", headers=admin, timeout=10).json()
    keys = {}
    for facility in facilities:
        response = httpx.post(
            f"{url}/api/v1/facilities/{facility['id']}/keys", headers=admin, json={}, timeout=10
        )
        response.raise_for_status()
        keys[facility["id"]] = (response.json()["key"], facility["categories"])
    return keys


async def writer(
    session: aiohttp.ClientSession,
    url: str,
    keys: dict[str, tuple[str, list[str]]],
    stop_at: float,
    warm_until: float,
    latencies: list[float],
    errors: dict[str, int],
    seed: int,
) -> None:
    rng = random.Random(seed)
    ids = list(keys)
    while time.monotonic() < stop_at:
        facility = rng.choice(ids)
        key, categories = keys[facility]
        chosen = rng.sample(categories, k=rng.randint(1, min(2, len(categories))))
        body = {"categories": {}}
        for category in chosen:
            staffed = rng.randint(2, 20)
            body["categories"][category] = {
                "available": rng.randint(0, staffed),
                "staffed": staffed,
            }
        started = time.monotonic()
        try:
            async with session.put(
                f"{url}/api/v1/facilities/{facility}/capacity",
                data=json.dumps(body),
                headers={"X-API-Key": key, "Content-Type": "application/json"},
            ) as response:
                await response.read()
                status = response.status
        except aiohttp.ClientError as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            continue
        elapsed = time.monotonic() - started
        if started < warm_until:
            continue
        if status == 200:
            latencies.append(elapsed)
        else:
            errors[str(status)] = errors.get(str(status), 0) + 1


async def drive(url: str, writers: int, seconds: float, warmup: float) -> dict[str, object]:
    keys = make_keys(url)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    start = time.monotonic()
    warm_until, stop_at = start + warmup, start + warmup + seconds
    connector = aiohttp.TCPConnector(limit=writers)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(
            *(
                writer(session, url, keys, stop_at, warm_until, latencies, errors, seed)
                for seed in range(writers)
            )
        )
    return {
        "writers": writers,
        "seconds": seconds,
        "accepted_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 2),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument("--writers", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--workers", type=int, default=1, help="server processes when starting one")
    parser.add_argument("--database-url", help="CAPACITY_DATABASE_URL for the started service")
    args = parser.parse_args()

    def run(url: str) -> None:
        for n in args.writers:
            print(json.dumps(asyncio.run(drive(url, n, args.seconds, args.warmup))), flush=True)

    if args.url:
        run(args.url)
        return
    env = {"CAPACITY_DATABASE_URL": args.database_url} if args.database_url else {}
    with service(workers=args.workers, env=env) as (url, _pid):
        run(url)


if __name__ == "__main__":
    main()
