"""Soak of the live stream: N clients and K changes/s for M minutes, one row per minute.

Starts its own Valkey and `capacity serve` (P processes, loopback only), connects N websocket
clients spread over W client processes (bench.fanout's minimal client), PUTs K changes/s as
``admin`` for M minutes, and prints per minute: changes accepted, messages delivered, p50/p99/max
latency from acceptance (the message's ``at``) to arrival, and the server's RSS and CPU. At the
end: delivered/expected, every error (failed PUTs, connections lost or refused, close codes),
and the RSS growth from minute 2 to the last minute (goal < 10 %).

    .venv/bin/python -m bench.soak --clients 5000 --rate 50 --minutes 10 --processes 2  # the soak
    .venv/bin/python -m bench.soak --clients 500 --rate 50 --minutes 2        # a quick check
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._service import token, usage
from bench.fanout import (
    FACILITY,
    REGION,
    Clients,
    capacity_put,
    capacity_server,
    drive,
    quantile,
    raise_file_limit,
    region_seq,
    table,
)
from capacity.storage.redis import EmbeddedValkey


async def soak_regions(url: str, admin: str, count: int) -> list[tuple[str, str]]:
    """``count`` regions, each with the facility its changes go to (the bench's own with one)."""
    if count == 1:
        return [(REGION, FACILITY)]
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        response = await http.get(
            "/api/v1/facilities", headers={"Authorization": f"Bearer {admin}"}
        )
        response.raise_for_status()
    first: dict[str, str] = {}
    for facility in sorted(response.json(), key=lambda f: f["id"]):
        first.setdefault(facility["region"], facility["id"])
    return sorted(first.items())[:count]


async def soak(args: argparse.Namespace, redis_url: str) -> None:
    with capacity_server(args.processes, redis_url) as (url, procs):
        midwife, admin = token(url, "midwife"), token(url, "admin")
        port = int(url.rsplit(":", 1)[1])
        clients = Clients(args.workers)
        try:
            regions = await soak_regions(url, admin, args.regions)
            connected = await clients.connect(
                [
                    (port, f"/ws/regions/{regions[i % len(regions)][0]}?token={midwife}")
                    for i in range(args.clients)
                ]
            )
            # Count every change after the clients' snapshots: with one region its seq now,
            # with several, 0 (nothing changes between the snapshots and the first PUT).
            since = await region_seq(url, admin) if args.regions == 1 else 0
            t0 = time.time()
            await clients.measure(since, t0)
            rows: list[dict[str, Any]] = []
            accepted_total = failed_total = 0
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                put = capacity_put(http, admin, tuple(f for _, f in regions))
                for minute in range(args.minutes):
                    cpu0, _ = usage(procs)
                    # Aligned to t0 so a change and its messages land in the same minute.
                    await asyncio.sleep(max(0.0, t0 + 60 * minute - time.time()))
                    accepted, failed = await drive(put, args.rate, 60 - 1 / args.rate)
                    cpu1, rss = usage(procs)
                    accepted_total += accepted
                    failed_total += failed
                    rows.append(
                        {
                            "minute": minute + 1,
                            "changes": accepted,
                            "failed PUTs": failed,
                            "server RSS MB": round(rss / 2**20, 1),
                            "server CPU": f"{100 * (cpu1 - cpu0) / 60:.0f}%",
                        }
                    )
                    print(rows[-1], flush=True)
            await asyncio.sleep(3.0)  # the last changes arrive
            delivered, minutes, closes, _ = await clients.report()
        finally:
            await clients.close()
    for row in rows:
        hist = minutes.get(row["minute"] - 1, {})
        row["delivered"] = sum(hist.values())
        row["p50 ms"] = round(quantile(hist, 0.50), 1)
        row["p99 ms"] = round(quantile(hist, 0.99), 1)
        row["max ms"] = round(quantile(hist, 1.0), 1)
    print(table(rows))
    # Each client receives the changes of its own region: 1/regions of them when spread.
    expected = connected * accepted_total // args.regions
    lost = args.clients - connected
    print(
        f"\nclients {connected}/{args.clients}; delivered {delivered}/{expected} "
        f"({100 * delivered / max(expected, 1):.2f}%); failed PUTs {failed_total}; "
        f"closes/errors {closes or 'none'}"
    )
    if len(rows) >= 2:
        base = rows[1]["server RSS MB"]
        growth = 100 * (rows[-1]["server RSS MB"] - base) / base
        last = rows[-1]["server RSS MB"]
        print(f"server RSS minute 2 -> {len(rows)}: {base} -> {last} MB ({growth:+.1f}%)")
    errors = failed_total + lost + sum(closes.values()) + (expected - delivered)
    print("errors: none" if errors == 0 else f"errors: {errors}")


async def main(args: argparse.Namespace) -> None:
    limit = raise_file_limit()
    print(
        f"file limit {limit}; {os.cpu_count()} CPUs; {args.clients} clients, {args.rate}/s, "
        f"{args.minutes} min, {args.regions} region(s), {args.processes} server process(es), "
        f"{args.workers} client processes",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="soak-valkey-") as data:
        valkey = EmbeddedValkey(Path(data), appendonly=False).start()
        try:
            await soak(args, valkey.url)
        finally:
            valkey.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=50.0, help="changes per second")
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--processes", type=int, default=2, help="server processes")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument(
        "--regions",
        type=int,
        default=10,
        help="spread clients and changes evenly over this many regions (1: all on zuidwest)",
    )
    try:
        import uvloop

        uvloop.run(main(parser.parse_args()))
    except ImportError:
        asyncio.run(main(parser.parse_args()))
