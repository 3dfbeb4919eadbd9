"""capacity_daily, which capacity over time reads for finished days, gives what the history gives.

Random histories (figures, stops declared, lifted and expired) around both DST changes of 2026,
aggregated by the capacity-daily job, then asked for every period with the daily table and
without it (``history_daily=False``: the history only), also after the thresholds and the
freshness limit changed.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from capacity.availability.models import CapacityChange
from capacity.facilities.models import Region
from capacity.refusals.service import LOCAL
from capacity.reporting import history
from capacity.reporting.models import CapacityDaily, CapacityDailyState
from capacity.settings import Settings
from capacity.storage.db import Database
from tests.conftest import ERASMUS
from tests.reporting import reference_history
from tests.reporting.data import IKAZIA

REGION = "zuidwest"
CATEGORIES = ["delivery_room", "maternity_bed", "nicu"]
NOW = datetime(2026, 11, 3, 14, 30, tzinfo=LOCAL).astimezone(UTC)  # an unfinished day


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL).astimezone(UTC)


def random_history(rng: random.Random, start: datetime, end: datetime, n: int) -> list[dict]:  # type: ignore[type-arg]
    """``n`` changes between start and end, some at exact local midnights (the DST edges)."""
    rows = []
    span = int((end - start).total_seconds())
    edges = [local(2026, 3, 29), local(2026, 3, 30), local(2026, 10, 25), local(2026, 10, 26)]
    midnights = [m for m in edges if start <= m < end]
    for _ in range(n):
        if midnights and rng.random() < 0.05:
            at = rng.choice(midnights)
        else:
            at = start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
        facility = rng.choice([ERASMUS, IKAZIA])
        roll = rng.random()
        if roll < 0.8:
            kind, category, available = "figures", rng.choice(CATEGORIES), rng.randint(0, 4)
        else:
            kind = rng.choice(["stop_declared", "stop_declared", "stop_lifted", "stop_expired"])
            category, available = None, None
        rows.append(
            {
                "at": at,
                "region": REGION,
                "facility_id": facility,
                "seq": 0,
                "version": 0,
                "kind": kind,
                "category": category,
                "available": available,
                "staffed": None if available is None else 5,
                "status": None,
                "actor": "test",
            }
        )
    return rows


async def answer(db: Database, settings: Settings, **kw: Any) -> list[dict[str, Any]]:
    async with db.session() as session:
        return list(
            await history.capacity_over_time(
                session=session, settings=settings, region=REGION, **{"now": NOW, **kw}
            )
        )


async def both(db: Database, settings: Settings, **kw: Any) -> list[dict[str, Any]]:
    """The answer from the daily table, asserted equal to the one from the history only."""
    daily = await answer(db, settings, **kw)
    raw = await answer(db, settings.model_copy(update={"history_daily": False}), **kw)
    assert daily == raw, kw
    return daily


async def set_region(db: Database, **values: Any) -> None:
    async with db.write_session() as session:
        await session.exec(update(Region).where(Region.id == REGION).values(**values))  # type: ignore[call-overload, arg-type]
        await session.commit()


async def state(db: Database) -> tuple[date, int] | None:
    async with db.session() as session:
        row = await session.get(CapacityDailyState, REGION)
        return None if row is None else (row.through, row.freshness_limit_minutes)


async def daily_rows(db: Database) -> list[Any]:
    async with db.session() as session:
        query = select(CapacityDaily.__table__).order_by(  # type: ignore[attr-defined]
            *CapacityDaily.__table__.primary_key.columns
        )  # type: ignore[attr-defined]
        return [tuple(r) for r in (await session.exec(query)).all()]  # type: ignore[call-overload]


@pytest.fixture
async def db(settings: Settings):  # type: ignore[no-untyped-def]
    database = Database(settings.database_url)
    yield database
    await database.dispose()


async def seed(db: Database, rows: list[dict]) -> None:  # type: ignore[type-arg]
    async with db.write_session() as session:
        await session.exec(insert(CapacityChange), params=rows)  # type: ignore[call-overload]
        await session.commit()


@pytest.mark.parametrize("seed_value", [1, 2, 3])
async def test_daily_table_gives_the_history_answer(db, settings, seed_value):
    rng = random.Random(seed_value)
    spring = random_history(rng, local(2026, 3, 20), local(2026, 4, 6), 400)
    autumn = random_history(rng, local(2026, 10, 18), NOW, 500)
    await seed(db, spring + autumn)
    # before the job ran everything comes from the history
    assert await both(db, settings, start=date(2026, 3, 25), end=date(2026, 4, 2), period="day")

    added = await history.aggregate_region(db=db, settings=settings, region=REGION, now=NOW)
    assert added > 200
    assert await state(db) == (date(2026, 11, 2), settings.freshness_limit_minutes)

    ranges = [
        (date(2026, 3, 28), date(2026, 3, 30)),  # the 23-hour day
        (date(2026, 10, 24), date(2026, 10, 26)),  # the 25-hour day
        (date(2026, 3, 1), date(2026, 4, 30)),
        (date(2026, 10, 20), date(2026, 11, 3)),  # finished days and today
        (date(2026, 10, 30), date(2026, 11, 30)),  # and days to come
        (date(2026, 1, 1), date(2026, 12, 31)),
    ]
    for start, end in ranges:
        for period in ("day", "week", "month", "total"):
            assert await both(db, settings, start=start, end=end, period=period)

    # thresholds change: the daily table keeps free beds, not colours
    for green, orange in [(3, 1), (4, 3), (1, 2)]:
        await set_region(db, green_min=green, orange_min=orange)
        rows = await both(
            db, settings, start=date(2026, 3, 20), end=date(2026, 11, 3), period="week"
        )
        assert any(r["hours_red"] for r in rows)

    # the freshness limit changes: the history answers until the job rebuilt the days
    await set_region(db, freshness_limit_minutes=90)
    before = await both(db, settings, start=date(2026, 10, 20), end=date(2026, 11, 3), period="day")
    assert await history.aggregate_region(db=db, settings=settings, region=REGION, now=NOW)
    assert await state(db) == (date(2026, 11, 2), 90)
    after = await both(db, settings, start=date(2026, 10, 20), end=date(2026, 11, 3), period="day")
    assert before == after
    assert await both(db, settings, start=date(2026, 3, 1), end=date(2026, 11, 3), period="month")


async def test_the_answers_are_those_of_the_old_walk(db, settings):
    """Against the code before the daily table (tests/reporting/reference_history.py), with
    the history in time order as the service writes it; hours may differ only by the rounding
    of float seconds (old) against whole microseconds (new)."""
    rng = random.Random(11)
    rows = random_history(rng, local(2026, 3, 20), local(2026, 4, 6), 300)
    rows += random_history(rng, local(2026, 10, 18), NOW, 400)
    await seed(db, sorted(rows, key=lambda r: r["at"]))
    await history.aggregate_region(db=db, settings=settings, region=REGION, now=NOW)
    for green, orange, limit in [(2, 1, 240), (4, 3, 240), (1, 2, 45)]:
        await set_region(db, green_min=green, orange_min=orange, freshness_limit_minutes=limit)
        for start, end, period in [
            (date(2026, 3, 25), date(2026, 4, 2), "day"),
            (date(2026, 10, 20), date(2026, 11, 3), "day"),
            (date(2026, 3, 1), date(2026, 11, 30), "week"),
            (date(2026, 1, 1), date(2026, 12, 31), "month"),
        ]:
            new = await both(db, settings, start=start, end=end, period=period)
            async with db.session() as session:
                old = list(
                    await reference_history.capacity_over_time(
                        session=session,
                        settings=settings,
                        region=REGION,
                        start=start,
                        end=end,
                        period=period,  # type: ignore[arg-type]
                        now=NOW,
                    )
                )
            assert len(new) == len(old)
            for a, b in zip(new, old, strict=True):
                assert a.keys() == b.keys()
                assert [a[k] for k in a if not k.startswith("hours")] == [
                    b[k] for k in b if not k.startswith("hours")
                ]
                assert all(abs(a[k] - b[k]) <= 0.011 for k in a if k.startswith("hours")), (a, b)
            assert sum(r["hours_red"] + r["hours_stale"] for r in new) > 0


async def test_dst_days_have_23_and_25_hours(db, settings):
    """A stop over all of March and October fills each day with its own length."""
    stop = {"region": REGION, "facility_id": ERASMUS, "seq": 0, "version": 0, "actor": "t"}
    await seed(
        db,
        [
            {**stop, "at": local(2026, 3, 1), "kind": "stop_declared"},
            {**stop, "at": local(2026, 4, 1), "kind": "stop_lifted"},
            {**stop, "at": local(2026, 10, 1), "kind": "stop_declared"},
            {**stop, "at": local(2026, 11, 1), "kind": "stop_expired"},
        ],
    )
    await history.aggregate_region(db=db, settings=settings, region=REGION, now=NOW)
    for start, end, expected in [
        (date(2026, 3, 28), date(2026, 3, 30), [24, 23, 24]),
        (date(2026, 10, 24), date(2026, 10, 26), [24, 25, 24]),
    ]:
        rows = await both(db, settings, start=start, end=end, period="day")
        mine = [r["hours_stop"] for r in rows if r["facility_id"] == ERASMUS]
        assert mine[:3] == expected
        assert await both(db, settings, start=start, end=end, period="total")
    month = await both(db, settings, start=date(2026, 3, 1), end=date(2026, 3, 31), period="month")
    assert next(r for r in month if r["facility_id"] == ERASMUS)["hours_stop"] == 31 * 24 - 1


async def test_job_is_idempotent_and_two_at_once_add_the_days_once(db, settings):
    rng = random.Random(9)
    await seed(db, random_history(rng, local(2026, 10, 1), NOW, 600))
    other = Database(settings.database_url)  # a second scheduler process
    try:
        results = await asyncio.gather(
            history.aggregate_region(db=db, settings=settings, region=REGION, now=NOW),
            history.aggregate_region(db=other, settings=settings, region=REGION, now=NOW),
        )
    finally:
        await other.dispose()
    assert sorted(results) == [0, 33]  # 1 October .. 2 November, once
    once = await daily_rows(db)
    assert once
    assert await history.aggregate_region(db=db, settings=settings, region=REGION, now=NOW) == 0
    assert await daily_rows(db) == once
    # the next night adds only the day that ended
    later = NOW + timedelta(days=1)
    assert await history.aggregate_region(db=db, settings=settings, region=REGION, now=later) == 1
    async with db.session() as session:
        query = select(func.max(CapacityDaily.day)).where(CapacityDaily.region == REGION)  # type: ignore[arg-type]
        assert (await session.exec(query)).one()[0] in (date(2026, 11, 3), date(2026, 11, 2))  # type: ignore[call-overload]
    assert await state(db) == (date(2026, 11, 3), settings.freshness_limit_minutes)
    span = {"start": date(2026, 10, 1), "end": date(2026, 11, 4), "now": later}
    assert await both(db, settings, **span, period="day")


async def test_period_day_is_bounded(client, login):
    analyst = await login("analyst-zuidwest")
    params = {"region": REGION, "period": "day", "from": "2025-01-01"}
    too_long = await client.get(
        "/api/v1/capacity-over-time", params={**params, "to": "2026-02-05"}, headers=analyst
    )
    assert too_long.status_code == 422
    assert too_long.json()["message"].startswith("to: ")  # the field named, where it came from
    assert too_long.json()["detail"][0]["loc"] == ["query", "to"]
    longest = await client.get(
        "/api/v1/capacity-over-time", params={**params, "to": "2026-02-04"}, headers=analyst
    )
    assert longest.status_code == 200, longest.text
    assert {r["period"] for r in longest.json()["rows"]} >= {"2025-01-01", "2026-02-04"}
    weeks = await client.get(
        "/api/v1/capacity-over-time",
        params={**params, "to": "2026-12-31", "period": "week"},
        headers=analyst,
    )
    assert weeks.status_code == 200
