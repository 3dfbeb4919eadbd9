"""Midwives' reads while analysts run the heaviest capacity-over-time query.

Fills a fresh database (a temporary SQLite file, or --url: an empty database, e.g.
postgresql+psycopg://...) with N capacity changes (default 1,500,000) of one region's facilities
over the last --days + 10 days, in time order, by bulk insert; runs the capacity-daily job once
(timed: the backfill a first scheduler run does); then starts `capacity serve` on it (loopback,
scheduler off) and measures
- one analyst's ``GET /api/v1/capacity-over-time?period=day`` over the longest range allowed
  (400 days up to today), alone, a few times;
- midwives' ``GET /api/v1/regions/{region}/capacity`` (2 midwives, each a request every 50 ms)
  alone, then while --analysts analysts loop the heavy query.
With --raw the same is measured a second time against a server that reads only the history
(``CAPACITY_HISTORY_DAILY=false``), on the same database in the same run: the ratio of the two
is what the daily table buys. With --before DIR (SQLite only) a third time against the code
before issue 10 point 9, an exported tree (``git archive aa3a818 | tar -x -C DIR``) served with
``PYTHONPATH=DIR`` on a copy of the database downgraded to revision 0006.

    .venv/bin/python -m bench.reads [--rows 1500000] [--days 400] [--analysts 4] [--seconds 20]
                                    [--raw] [--before DIR] [--url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from sqlalchemy import create_engine

from bench._service import percentile, service, token
from capacity import setup
from capacity.refusals.service import LOCAL
from capacity.reporting import history
from capacity.settings import Settings
from capacity.storage.db import Database

REGION = "zuidwest"
INSERT = (
    "INSERT INTO capacity_change (at, region, facility_id, seq, version, kind, category, "
    "available, staffed, status, actor) VALUES (?, ?, ?, 0, 0, ?, ?, ?, ?, ?, 'bench')"
)
FREE = [0, 1, 2, 3, 4, 5, 6, 8]
FREE_WEIGHTS = [14, 16, 16, 14, 12, 10, 10, 8]


def generate(url: str, rows: int, days: int, now: datetime, seed: int = 7) -> None:
    """Figures (and now and then a stop) of the region's facilities, evenly over the span."""
    rng = random.Random(seed)
    engine = create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    sqlite = engine.dialect.name == "sqlite"
    sql = INSERT if sqlite else INSERT.replace("?", "%s")
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT id, categories FROM facility WHERE region = 'zuidwest' ORDER BY id"
        ).all()
    keys = [
        (f, c) for f, cats in found for c in (json.loads(cats) if isinstance(cats, str) else cats)
    ]
    facilities = [f for f, _ in found]
    stopped = dict.fromkeys(facilities, False)
    start = now - timedelta(days=days + 10)
    step = (now - start) / rows
    done = 0
    while done < rows:
        n = min(50_000, rows - done)
        batch = []
        for i in range(done, done + n):
            at = start + step * i
            when: Any = at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at
            if rng.random() < 0.002:
                facility = rng.choice(facilities)
                kind = "stop_lifted" if stopped[facility] else "stop_declared"
                stopped[facility] = not stopped[facility]
                status = "stop" if stopped[facility] else None
                batch.append((when, REGION, facility, kind, None, None, None, status))
                continue
            facility, category = rng.choice(keys)
            free = rng.choices(FREE, FREE_WEIGHTS)[0]
            colour = "green" if free >= 2 else "orange" if free >= 1 else "red"
            batch.append((when, REGION, facility, "figures", category, free, 10, colour))
        with engine.begin() as conn:
            conn.connection.driver_connection.cursor().executemany(sql, batch)  # type: ignore[union-attr]
        done += n
    engine.dispose()


def analyze(url: str) -> None:
    """Planner statistics (and PostgreSQL's visibility map), as a running database has them."""
    engine = create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def prepare(url: str, rows: int, days: int) -> None:
    setup.migrate(url)

    async def seed() -> None:
        db = Database(url)
        await setup.seed(db=db, demo_users=True)
        await db.dispose()

    asyncio.run(seed())
    t0 = time.perf_counter()
    generate(url, rows, days, datetime.now(UTC))
    print(f"generated {rows:,} capacity changes in {time.perf_counter() - t0:.0f} s", flush=True)

    async def aggregate() -> int:
        db = Database(url)
        try:
            return await history.aggregate(db=db, settings=Settings(database_url=url))
        finally:
            await db.dispose()

    analyze(url)
    t0 = time.perf_counter()
    made = asyncio.run(aggregate())
    print(
        f"capacity-daily backfill: {made} region-days in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    analyze(url)


async def phase(
    url: str, midwife: str, analyst: str, params: dict[str, str], analysts: int, seconds: float
) -> tuple[list[float], list[float]]:
    """(midwife latencies, analyst latencies) in seconds over one phase."""
    stop = asyncio.Event()
    mid: list[float] = []
    ana: list[float] = []
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=url, timeout=900, limits=limits) as client:

        async def heavy() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                response = await client.get(
                    "/api/v1/capacity-over-time",
                    params=params,
                    headers={"Authorization": f"Bearer {analyst}"},
                )
                response.raise_for_status()
                ana.append(time.perf_counter() - t0)

        async def read() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                response = await client.get(
                    f"/api/v1/regions/{REGION}/capacity",
                    headers={"Authorization": f"Bearer {midwife}"},
                )
                response.raise_for_status()
                mid.append(time.perf_counter() - t0)
                await asyncio.sleep(0.05)

        heavies = [asyncio.create_task(heavy()) for _ in range(analysts)]
        if analysts:
            await asyncio.sleep(1)  # the analysts' queries are under way
        readers = [asyncio.create_task(read()) for _ in range(2)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*readers, *heavies)
    return mid, ana


def measure(url: str, args: argparse.Namespace, params: dict[str, str]) -> dict[str, Any]:
    midwife, analyst = token(url, "midwife"), token(url, f"analyst-{REGION}")
    out: dict[str, Any] = {}
    alone = []
    for _ in range(args.repeat):
        _, ana = asyncio.run(phase(url, midwife, analyst, params, 1, 0))
        alone += ana
    out["analyst_alone"] = alone
    out["midwife_alone"], _ = asyncio.run(phase(url, midwife, analyst, params, 0, args.seconds))
    mid, ana = asyncio.run(phase(url, midwife, analyst, params, args.analysts, args.seconds))
    out["midwife_loaded"], out["analyst_loaded"] = mid, ana
    return out


def ms(values: list[float], q: float | None = None) -> str:
    if not values:
        return "-"
    value = statistics.median(values) if q is None else percentile(values, q)
    return f"{value * 1000:,.0f}" if value >= 1 else f"{value * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--days", type=int, default=400, help="history before the last 10 days")
    parser.add_argument("--analysts", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20, help="per midwife phase")
    parser.add_argument("--repeat", type=int, default=3, help="heavy queries alone")
    parser.add_argument("--raw", action="store_true", help="also a server reading the history")
    parser.add_argument("--before", type=Path, help="a source tree of the code before")
    parser.add_argument("--url", help="an empty database instead of a temporary SQLite file")
    args = parser.parse_args()
    url = args.url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'reads.db'}"
    prepare(url, args.rows, args.days)
    today = datetime.now(UTC).astimezone(LOCAL).date()
    first = today - timedelta(days=history.MAX_DAYS - 1)
    params = {"region": REGION, "from": first.isoformat(), "to": today.isoformat()}
    params["period"] = "day"
    print(f"heavy query: capacity-over-time {params}", flush=True)
    env = {"CAPACITY_DATABASE_URL": url, "CAPACITY_SCHEDULER": "false"}
    modes = {"daily": {**env, "CAPACITY_HISTORY_DAILY": "true"}}
    if args.raw:
        modes["raw"] = {**env, "CAPACITY_HISTORY_DAILY": "false"}
    if args.before:
        path = url.split("///", 1)[1]
        shutil.copy(path, f"{path}.before")
        command.downgrade(setup.alembic_config(f"{url}.before"), "0006")
        modes["before"] = {
            **env,
            "CAPACITY_DATABASE_URL": f"{url}.before",
            "PYTHONPATH": str(args.before.resolve()),
        }
    results = {}
    for mode, mode_env in modes.items():
        with service(env=mode_env) as (base, _pid):
            print(f"measuring {mode} ...", flush=True)
            results[mode] = measure(base, args, params)
    print(
        f"\n{args.rows:,} changes, {args.analysts} analysts, {args.seconds:.0f} s per phase; "
        f"ms ({date.today()})"
    )
    head = (
        "| server | heavy query alone (median) | midwife p50 / p99 alone | "
        "midwife p50 / p99 with analysts | heavy query with analysts (median, n) |"
    )
    print(head)
    print("|---|---|---|---|---|")
    for mode, r in results.items():
        print(
            f"| {mode} | {ms(r['analyst_alone'])} | "
            f"{ms(r['midwife_alone'], 0.5)} / {ms(r['midwife_alone'], 0.99)} | "
            f"{ms(r['midwife_loaded'], 0.5)} / {ms(r['midwife_loaded'], 0.99)} | "
            f"{ms(r['analyst_loaded'])} ({len(r['analyst_loaded'])}) |"
        )


if __name__ == "__main__":
    main()
