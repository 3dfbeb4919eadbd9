"""Bed-list benchmark: imports per second of a 300-bed CSV, against a real server.

Each hospital system posts its bed list with its facility's API key on a keep-alive connection.
Three modes, each timed over --imports posts and repeated --runs times (median, min, max):
``change`` (the list alternates between two versions: every post is a new change), ``confirm``
(the same list again: a confirmation, no new version) and ``parallel`` (--clients hospitals at
once, each alternating its own lists). Starts its own service unless --url is given.

    .venv/bin/python -m bench.beds --runs 5 --imports 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx

from bench._service import percentile, service, token

WARDS = [
    ("VK", "delivery_room", 30),
    ("KRAAM", "maternity_bed", 150),
    ("NEO", "neonatal_high_care", 60),
    ("MCU", "obstetric_high_care", 30),
    ("OK", None, 30),
]
LAST: dict[str, int] = {}  # the list (0 or 1) each hospital posted last
STATES = ["free", "occupied", "occupied", "closed", "blocked"]


def bed_list(shift: int) -> bytes:
    """300 beds (30 of them in an unmapped ward), statuses rotated by ``shift``."""
    lines = ["ward;room;bed;status"]
    for ward, _, count in WARDS:
        lines += [
            f"{ward};{i // 2 + 1};{i % 2 + 1};{STATES[(i + shift) % 5]}" for i in range(count)
        ]
    return ("\n".join(lines) + "\n").encode()


def prepare(url: str, count: int) -> list[tuple[str, str]]:
    """``count`` hospitals (no NICU needed) with the ward map and an API key: (facility, key)."""
    admin = {"Authorization": f"Bearer {token(url, 'admin')}"}
    facilities = httpx.get(f"{url}/api/v1/facilities", headers=admin, timeout=10).json()
    chosen = [f["id"] for f in facilities if "obstetric_high_care" in f["categories"]][:count]
    mapping = {"wards": [{"ward": w, "category": c} for w, c, _ in WARDS if c]}
    out = []
    for facility in chosen:
        httpx.put(
            f"{url}/api/v1/facilities/{facility}/wards", json=mapping, headers=admin, timeout=10
        ).raise_for_status()
        made = httpx.post(
            f"{url}/api/v1/facilities/{facility}/keys", json={}, headers=admin, timeout=10
        )
        made.raise_for_status()
        out.append((facility, made.json()["key"]))
    return out


async def post_many(
    url: str, facility: str, key: str, n: int, *, change: bool | None
) -> list[float]:
    """Post ``n`` lists one after another; the latency of each (s). Raises on any non-200."""
    lists = [bed_list(0), bed_list(1)]
    headers = {"X-API-Key": key, "Content-Type": "text/csv"}
    took = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for _ in range(n):
            started = time.perf_counter()
            if change is True:  # the other list than this hospital's last: always a change
                LAST[facility] = 1 - LAST.get(facility, 1)
            body = lists[LAST.get(facility, 0)] if change is True else lists[0]
            if change is not True:
                LAST[facility] = 0
            response = await http.post(
                f"/api/v1/facilities/{facility}/beds", content=body, headers=headers
            )
            took.append(time.perf_counter() - started)
            confirmed = response.status_code == 200 and response.json()["confirmed"]
            if response.status_code != 200 or (change is not None and confirmed == change):
                raise RuntimeError(f"{response.status_code} {response.text[:300]}")
    return took


async def one_run(
    url: str, hospitals: list[tuple[str, str]], mode: str, n: int
) -> dict[str, float]:
    started = time.perf_counter()
    if mode == "parallel":
        per = max(1, n // len(hospitals))
        parts = await asyncio.gather(
            *(post_many(url, f, k, per, change=True) for f, k in hospitals)
        )
        took = [t for part in parts for t in part]
    else:
        facility, key = hospitals[0]
        if mode == "confirm":
            await post_many(url, facility, key, 1, change=None)  # the list to confirm
        took = await post_many(url, facility, key, n, change=mode == "change")
    elapsed = time.perf_counter() - started
    return {
        "per_s": len(took) / elapsed,
        "p50_ms": percentile(took, 0.5) * 1e3,
        "p99_ms": percentile(took, 0.99) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: start one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--imports", type=int, default=40, help="posts per run")
    parser.add_argument("--clients", type=int, default=4, help="hospitals at once (parallel)")
    parser.add_argument("--modes", nargs="+", default=["change", "confirm", "parallel"])
    parser.add_argument("--workers", type=int, default=1, help="server processes when starting one")
    parser.add_argument("--database-url", help="CAPACITY_DATABASE_URL for the started service")
    args = parser.parse_args()

    def run(url: str) -> None:
        hospitals = prepare(url, args.clients)
        asyncio.run(one_run(url, hospitals, "change", 4))  # warm-up
        for mode in args.modes:
            runs = [
                asyncio.run(one_run(url, hospitals, mode, args.imports)) for _ in range(args.runs)
            ]
            rates = [r["per_s"] for r in runs]
            print(
                json.dumps(
                    {
                        "mode": mode,
                        "beds": 300,
                        "runs": args.runs,
                        "imports_per_run": args.imports,
                        "median_per_s": round(statistics.median(rates), 1),
                        "min_per_s": round(min(rates), 1),
                        "max_per_s": round(max(rates), 1),
                        "median_p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 1),
                        "median_p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 1),
                    }
                ),
                flush=True,
            )

    if args.url:
        run(args.url)
        return
    env = {"CAPACITY_DATABASE_URL": args.database_url} if args.database_url else {}
    with service(workers=args.workers, env=env) as (url, _):
        run(url)


if __name__ == "__main__":
    main()
