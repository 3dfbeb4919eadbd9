"""Refusal statistics on a large table: every grouping, one region, one year.

Generates N refusals (default 1,000,000) over 3 years across all regions and facilities, with
realistic mixes by hour of day and by reason, into a fresh database (SQLite file by default,
or --url postgresql+psycopg://... to an empty database), then times
``reporting.service.refusal_stats`` per grouping for one region over one year.

    .venv/bin/python -m bench.stats [--rows 1000000] [--region zuidwest] [--url ...]
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
    "medical": 45,
    "non_medical": 30,
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
                    "request_type": requests[i],
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
        conn.exec_driver_sql(
            "VACUUM ANALYZE refusal" if engine.dialect.name == "postgresql" else "ANALYZE"
        )
    engine.dispose()


async def measure(url: str, region: str, year: int, repeat: int) -> dict[str, list[float]]:
    db = Database(url)
    times: dict[str, list[float]] = {}
    try:
        for group_by in GROUPINGS:
            for _ in range(repeat):
                async with db.session() as session:
                    t0 = time.perf_counter()
                    body = await refusal_stats(
                        session=session,
                        region=region,
                        start=date(year, 1, 1),
                        end=date(year, 12, 31),
                        group_by=group_by,  # type: ignore[arg-type]
                    )
                    times.setdefault(group_by, []).append((time.perf_counter() - t0) * 1000)
            print(
                f"  {group_by:<13} total={body['total']} groups={len(body['groups'])}", flush=True
            )
    finally:
        await db.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--region", default="zuidwest")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'stats.db'}"
    setup.migrate(url)

    async def seed() -> None:
        db = Database(url)
        await setup.seed(db=db, demo_users=False)
        await db.dispose()

    asyncio.run(seed())
    t0 = time.perf_counter()
    generate(url, args.rows)
    print(
        f"generated {args.rows} refusals in {time.perf_counter() - t0:.0f} s ({url.split(':')[0]})"
    )
    times = asyncio.run(measure(url, args.region, args.year, args.repeat))
    print(f"\n{'group_by':<13} {'median ms':>10} {'max ms':>8}")
    for group_by, values in times.items():
        print(f"{group_by:<13} {statistics.median(values):>10.1f} {max(values):>8.1f}")


if __name__ == "__main__":
    main()
