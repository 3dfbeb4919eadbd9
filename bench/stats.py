"""Refusal statistics on a large table: every grouping, one region, one year.

Generates N refusals (default 1,000,000) over 3 years across all regions and facilities, with
realistic mixes by hour of day and by reason, into fresh databases (a temporary SQLite file,
plus each --url, e.g. postgresql+psycopg://... to an empty database; the same rows in each),
through the real schema (the refusal_daily triggers run on every insert), then times
``reporting.service.refusal_stats`` per grouping for one region over one year, taking turns
between the databases so that a busy machine slows them alike.

    .venv/bin/python -m bench.stats [--rows 1000000] [--region zuidwest] [--url ...] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert

from capacity import setup
from capacity.refusals.models import Refusal
from capacity.refusals.service import buckets
from capacity.reporting.service import refusal_stats
from capacity.storage.db import Database

GROUPINGS = ["facility", "reason", "request_type", "category", "week", "month", "hour", "weekday"]
# calls for a transfer by local hour: fewer in the small hours, most in the day and evening
HOURS = [3, 3, 2, 2, 2, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 4, 4, 3]
REASONS = {
    "no_nurse": 40,
    "no_bed": 30,
    "stop": 10,
    "neonatal_full": 8,
    "no_obstetrician": 7,
    "other": 5,
}
REQUESTS = {
    "": 10,  # not recorded (the 3-tap flow makes the request type optional)
    "medical": 40,
    "non_medical": 25,
    "acute": 10,
    "antenatal_transfer": 10,
    "neonatal_transfer": 5,
}
SHOWN = {"red": 45, "orange": 20, "green": 10, "stop": 15, "unknown": 10}


def _pick(mix: dict[str, int], n: int, rng: random.Random) -> list[str]:
    return rng.choices(list(mix), weights=list(mix.values()), k=n)


def generate(url: str, rows: int, seed: int = 7) -> None:
    """Fill the refusal table (bulk insert of plain rows, 20,000 at a time)."""
    rng = random.Random(seed)
    engine = create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        facilities = conn.exec_driver_sql("SELECT id, region FROM facility").all()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = 3 * 365 * 86400
    table = Refusal.__table__  # type: ignore[attr-defined]
    done = 0
    while done < rows:
        n = min(20_000, rows - done)
        reasons, requests, shown = (
            _pick(REASONS, n, rng),
            _pick(REQUESTS, n, rng),
            _pick(SHOWN, n, rng),
        )
        batch = []
        for i in range(n):
            facility_id, region = rng.choice(facilities)
            day = start + timedelta(seconds=rng.randrange(span))
            hour = rng.choices(range(24), weights=HOURS)[0]
            at = day.replace(hour=hour, minute=rng.randrange(60))
            accepted = rng.random() < 0.25
            episode = f"ep-{rng.getrandbits(48):012x}" if rng.random() < 0.7 else None
            outcome = rng.random() < 0.3
            batch.append(
                {
                    "occurred_at": at,
                    "facility_id": facility_id,
                    "region": region,
                    "category": "delivery_room" if rng.random() < 0.8 else "maternity_bed",
                    "request_type": requests[i] or None,
                    "reason": None if accepted else reasons[i],
                    "decision": "accepted" if accepted else "refused",
                    "episode": episode,
                    "gestational_age_band": ">=37",
                    "indication": None,
                    "recorded_at": at,
                    "recorded_by": 1,
                    "shown_status": shown[i],
                    "shown_stale": shown[i] == "unknown",
                    "outcome": "placed" if outcome else None,
                    "calls_until_placement": rng.randint(1, 8) if outcome else None,
                    "minutes_until_placement": rng.randint(5, 120) if outcome else None,
                    "outcome_at": at if outcome else None,
                    **buckets(at),
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(table), batch)
        done += n
    # VACUUM sets PostgreSQL's visibility map, which index-only scans need (autovacuum would)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()


async def measure(
    urls: list[str], region: str, year: int, repeat: int
) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per database and grouping; the databases take turns on each run."""
    dbs = [Database(url) for url in urls]
    times: dict[str, dict[str, list[float]]] = {url: {} for url in urls}
    try:
        for group_by in GROUPINGS:
            for _ in range(repeat):
                for url, db in zip(urls, dbs, strict=True):
                    async with db.session() as session:
                        t0 = time.perf_counter()
                        body = await refusal_stats(
                            session=session,
                            region=region,
                            start=date(year, 1, 1),
                            end=date(year, 12, 31),
                            group_by=group_by,  # type: ignore[arg-type]
                        )
                        ms = (time.perf_counter() - t0) * 1000
                    times[url].setdefault(group_by, []).append(ms)
            print(
                f"  {group_by:<13} total={body['total']} groups={len(body['groups'])}", flush=True
            )
    finally:
        for db in dbs:
            await db.dispose()
    return times


def prepare(url: str, rows: int) -> None:
    setup.migrate(url)

    async def seed() -> None:
        db = Database(url)
        await setup.seed(db=db, demo_users=False)
        await db.dispose()

    asyncio.run(seed())
    t0 = time.perf_counter()
    generate(url, rows)
    print(f"generated {rows} refusals in {time.perf_counter() - t0:.0f} s ({url.split(':')[0]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--region", default="zuidwest")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", action="append", default=[], help="an empty database")
    parser.add_argument("--no-sqlite", action="store_true", help="only the --url databases")
    args = parser.parse_args()
    sqlite = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'stats.db'}"
    urls = args.url if args.no_sqlite else [sqlite, *args.url]
    for url in urls:
        prepare(url, args.rows)
    times = asyncio.run(measure(urls, args.region, args.year, args.repeat))
    names = [url.split(":")[0] for url in urls]
    print(f"\nmedian (max) ms of {args.repeat} runs")
    print(f"{'group_by':<13} " + " ".join(f"{n:>24}" for n in names))
    for group_by in GROUPINGS:
        cells = [
            f"{statistics.median(times[u][group_by]):.1f} ({max(times[u][group_by]):.1f})"
            for u in urls
        ]
        print(f"{group_by:<13} " + " ".join(f"{c:>24}" for c in cells))


if __name__ == "__main__":
    main()
