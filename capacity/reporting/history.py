"""Capacity over time: hours each facility's categories spent red, in a stop, or stale.

Rebuilt from the append-only ``capacity_change`` history. A category is
- ``stop`` while a stop of its facility is in force (for every category the facility offers);
- ``stale`` from the moment its last figure passed the region's freshness limit until the next
  figure (derived from the figures' times, so it holds even when the scheduler ran late);
- ``red`` while its last fresh figure coloured red under the region's current thresholds.
Hours are split over periods at local (Europe/Amsterdam) midnights; nothing counts after now.

Finished days are read from ``capacity_daily`` (time per facility, category, state and free
beds, kept by the ``capacity-daily`` job), the rest from the history; both come from the same
walk (``Walk``) and are summed in whole microseconds, so the two give the same hours. The walk
runs on a worker thread: a long range must not hold up the event loop (and midwives' reads).
"""

from __future__ import annotations

import asyncio
import bisect
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import anyio.to_thread
from sqlalchemy import String, and_, case, cast, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.availability import rules
from capacity.availability.models import CapacityChange, ChangeKind
from capacity.errors import InputError, NotFound
from capacity.facilities.models import Category, Facility, Region
from capacity.i18n import messages
from capacity.refusals.service import LOCAL
from capacity.reporting.models import CapacityDaily, CapacityDailyState
from capacity.reporting.service import check_range
from capacity.settings import Settings
from capacity.storage.db import Database

Period = Literal["day", "week", "month", "total"]
C = CapacityChange.__table__.c  # type: ignore[attr-defined]
D = CapacityDaily.__table__.c  # type: ignore[attr-defined]
S = CapacityDailyState.__table__.c  # type: ignore[attr-defined]
FIGURES = ChangeKind.figures.value
STOP_DECLARED = ChangeKind.stop_declared.value
STOP_KINDS = [ChangeKind.stop_declared, ChangeKind.stop_lifted, ChangeKind.stop_expired]
STOP_VALUES = frozenset(k.value for k in STOP_KINDS)
COLUMNS = ["facility_id", "category", "period", "hours_red", "hours_stop", "hours_stale"]
MAX_DAYS = 400  # period=day: at most this many days (one row per facility, category and day)
US = timedelta(microseconds=1)
US_PER_HOUR = 3_600_000_000
BATCH = 2000  # rows handled per hop to the worker thread
# a key of time spent: (facility, category or "" for a stop, state, free beds or -1)
Key = tuple[str, str, str, int]


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def turn(settings: Settings) -> AsyncIterator[None]:
    """One of ``settings.heavy_reads`` places of this process for an expensive answer."""
    loop = asyncio.get_running_loop()
    if loop not in _turns:
        _turns[loop] = asyncio.Semaphore(settings.heavy_reads)
    async with _turns[loop]:
        yield


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL).astimezone(UTC)


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def periods(start: date, end: date, period: Period) -> list[tuple[str, datetime]]:
    """(key, UTC start) of each period in [start, end]; each ends where the next begins."""
    if period == "total":
        return [(f"{start.isoformat()}..{end.isoformat()}", _midnight(start))]
    out: list[tuple[str, datetime]] = []
    day = start
    while day <= end:
        if period == "day":
            key, nxt = day.isoformat(), day + timedelta(days=1)
        elif period == "week":
            key, nxt = week_key(day), day + timedelta(days=8 - day.isoweekday())
        else:
            key = month_key(day)
            nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        out.append((key, _midnight(day)))
        day = nxt
    return out


def red_below(thresholds: Any) -> int:
    """A figure is red below this many free beds (``rules.colour``: neither green nor orange)."""
    return min(thresholds.green_min, thresholds.orange_min)


class Hours:
    """Accumulates microseconds per (facility, category, state, free beds) and period."""

    def __init__(self, bounds: list[tuple[str, datetime]], end: datetime):
        self.keys = [k for k, _ in bounds]
        self.starts = [s for _, s in bounds]
        self.end = end
        self.us: dict[Key, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, key: Key, t0: datetime, t1: datetime) -> None:
        t0, t1 = max(t0, self.starts[0]), min(t1, self.end)
        if t0 >= t1:
            return
        i = max(bisect.bisect_right(self.starts, t0) - 1, 0)
        per = self.us[key]
        while t0 < t1:
            edge = self.starts[i + 1] if i + 1 < len(self.starts) else self.end
            part_end = min(t1, edge)
            per[i] += (part_end - t0) // US
            t0, i = part_end, i + 1


class Walk:
    """The state of one region's facilities, walked forward through its changes.

    A stop covers the facility (every category); outside a stop a category with a figure is
    ``fresh`` (with its free beds) until the figure passes the freshness limit, then ``stale``.
    Each span of a state is handed to ``hours`` when it ends.
    """

    def __init__(self, limit: timedelta, hours: Hours, facilities: set[str] | None = None):
        self.limit, self.hours, self.facilities = limit, hours, facilities
        self.stop: dict[str, bool] = {}
        self.stop_since: dict[str, datetime] = {}
        self.figure: dict[tuple[str, str], tuple[int, datetime]] = {}
        self.since: dict[tuple[str, str], datetime] = {}
        self.categories: dict[str, set[str]] = defaultdict(set)
        self.started = False

    def _close_figure(self, facility: str, category: str, now: datetime) -> None:
        t0 = self.since.get((facility, category))
        if not self.started or t0 is None or t0 >= now:
            return
        available, at = self.figure[(facility, category)]
        fresh_until = at + self.limit
        self.hours.add((facility, category, "fresh", available), t0, min(now, fresh_until))
        self.hours.add((facility, category, "stale", -1), max(t0, fresh_until), now)

    def _close(self, facility: str, now: datetime) -> None:
        """End the facility's current spans (its stop, or each category's figure) at ``now``."""
        if self.stop.get(facility):
            t0 = self.stop_since.get(facility)
            if self.started and t0 is not None and t0 < now:
                self.hours.add((facility, "", "stop", -1), t0, now)
        else:
            for category in self.categories[facility]:
                self._close_figure(facility, category, now)
        self.stop_since[facility] = now
        for category in self.categories[facility]:
            self.since[(facility, category)] = now

    def apply(self, row: Any) -> None:
        facility, kind = row.facility_id, row.kind
        if self.facilities is not None and facility not in self.facilities:
            return
        if kind == FIGURES and row.category is not None:
            category = row.category
            if not self.stop.get(facility):
                self._close_figure(facility, category, row.at)
            self.categories[facility].add(category)
            self.figure[(facility, category)] = (row.available, row.at)
            self.since[(facility, category)] = row.at
        elif kind in STOP_VALUES:
            self._close(facility, row.at)
            self.stop[facility] = kind == STOP_DECLARED

    def feed(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.apply(row)

    def _all(self) -> set[str]:
        return set(self.stop) | set(self.categories)

    def start(self, at: datetime) -> None:
        """Count from ``at`` on (the state before it came from ``_last_before``)."""
        for facility in self._all():
            self.stop_since[facility] = at
            for category in self.categories[facility]:
                self.since[(facility, category)] = at
        self.started = True

    def finish(self, at: datetime) -> None:
        for facility in self._all():
            self._close(facility, at)


HISTORY = (C.id, C.at, C.kind, C.facility_id, C.category, C.available)


def _latest(*where: Any) -> Any:
    query = select(C.id).where(*where).order_by(C.at.desc(), C.id.desc()).limit(1)
    return query.scalar_subquery()


async def _last_before(
    session: AsyncSession, region: str, facilities: Iterable[str], at: datetime
) -> list[Any]:
    """The last figure per facility and category, and the last stop change, before ``at``.

    "Last" in the order the history is walked (time, then id); each is one seek in
    ``ix_capacity_change_last``.
    """
    latest = []
    for facility in facilities:
        mine = (C.region == region, C.facility_id == facility, C.at < at)
        # stop changes carry no category: "IS NULL" lets the index give the order too (else
        # a planner may walk the region's whole history backwards looking for a rare kind)
        latest += [_latest(*mine, C.kind == k, C.category.is_(None)) for k in STOP_KINDS]
        latest += [_latest(*mine, C.kind == FIGURES, C.category == c.value) for c in Category]
    rows: list[Any] = []
    for i in range(0, len(latest), 400):  # bounded statements for regions with many facilities
        query = select(*HISTORY).where(C.id.in_(latest[i : i + 400]))
        rows += (await session.exec(query)).all()  # type: ignore[call-overload]
    return sorted(rows, key=lambda r: (r.at, r.id))


async def walk(
    session: AsyncSession,
    *,
    region: str,
    facilities: set[str] | None,
    limit: timedelta,
    hours: Hours,
    t_start: datetime,
    t_end: datetime,
) -> None:
    """Walk the region's history over [t_start, t_end) into ``hours``, off the event loop."""
    if facilities is None:
        query = select(col(Facility.id))
        before = list((await session.exec(query)).all())  # type: ignore[call-overload]
        before = [f if isinstance(f, str) else f[0] for f in before]
    else:
        before = sorted(facilities)
    timeline = Walk(limit, hours, facilities)
    timeline.feed(await _last_before(session, region, before, t_start))
    timeline.start(t_start)
    query = (
        select(*HISTORY)
        .where(C.region == region, C.at >= t_start, C.at < t_end)
        .order_by(C.at, C.id)
        .execution_options(yield_per=BATCH)
    )
    result = await session.stream(query)
    async for part in result.partitions(BATCH):
        await anyio.to_thread.run_sync(timeline.feed, part)
    await anyio.to_thread.run_sync(timeline.finish, t_end)


class Totals:
    """Microseconds red, in a stop and stale per (facility, category, period key)."""

    def __init__(self) -> None:
        self.us: dict[tuple[str, str, str], dict[str, int]] = defaultdict(
            lambda: {"red": 0, "stop": 0, "stale": 0}
        )

    def add_hours(self, hours: Hours, red_under: int, key_of: Sequence[str]) -> None:
        for (facility, category, state, available), per in hours.us.items():
            if state == "fresh" and available >= red_under:
                continue
            status = "red" if state == "fresh" else state
            for i, us in per.items():
                self.us[(facility, category, key_of[i])][status] += us


async def _daily(
    session: AsyncSession,
    totals: Totals,
    *,
    region: str,
    start: date,
    end: date,
    period: Period,
    red_under: int,
    total_key: str,
) -> None:
    """Add the finished days [start, end] from ``capacity_daily``, summed in SQL."""
    # the day as text: no date objects made per row on the event loop
    day = cast(D.day, String(10))
    key: Any = {"day": day, "week": D.week, "month": D.month}.get(period, literal(""))
    red = case((and_(D.state == "fresh", D.available < red_under), D.microseconds), else_=0)
    stop = case((D.state == "stop", D.microseconds), else_=0)
    stale = case((D.state == "stale", D.microseconds), else_=0)
    query = (
        select(
            D.facility_id,
            D.category,
            key.label("key"),
            func.sum(red),
            func.sum(stop),
            func.sum(stale),
        )
        .where(D.region == region, D.day >= start, D.day <= end)
        .group_by(D.facility_id, D.category, key)
    )
    query = query.execution_options(yield_per=BATCH)

    def add(part: Sequence[Any]) -> None:
        for facility, category, k, r, s, st in part:
            name = total_key if period == "total" else k.isoformat() if isinstance(k, date) else k
            cell = totals.us[(facility, category, name)]
            cell["red"] += int(r or 0)
            cell["stop"] += int(s or 0)
            cell["stale"] += int(st or 0)

    # in parts, added on the worker thread: the event loop only ever holds one part
    result = await session.stream(query)
    async for part in result.partitions(BATCH):
        await anyio.to_thread.run_sync(add, part)


async def capacity_over_time(
    *,
    session: AsyncSession,
    settings: Settings,
    region: str,
    start: date,
    end: date,
    period: Period = "month",
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Rows of hours red, in a stop and stale per facility, category and period."""
    check_range(start, end)
    if period == "day" and (end - start).days >= MAX_DAYS:
        raise InputError("to", messages.DAY_PERIOD_TOO_LONG(days=MAX_DAYS))
    region_row = await session.get(Region, region)
    if region_row is None:
        raise NotFound(messages.UNKNOWN_REGION(region=region))
    thresholds = rules.thresholds(region_row, settings)
    limit_minutes = thresholds.freshness_limit_minutes
    query = select(Facility).where(col(Facility.region) == region)
    facilities = (await session.exec(query)).all()  # type: ignore[call-overload]
    offered = {f.id: list(f.categories) for (f,) in facilities}
    red_under = red_below(thresholds)
    bounds = periods(start, end, period)
    key_of = [k for k, _ in bounds]
    totals = Totals()

    raw_from = start
    state = await session.get(CapacityDailyState, region) if settings.history_daily else None
    if state is not None and state.freshness_limit_minutes == limit_minutes:
        if start <= state.through:
            await _daily(
                session,
                totals,
                region=region,
                start=start,
                end=min(end, state.through),
                period=period,
                red_under=red_under,
                total_key=key_of[0],
            )
        raw_from = max(start, state.through + timedelta(days=1))

    t_start = _midnight(raw_from)
    t_end = min(_midnight(end + timedelta(days=1)), now or datetime.now(UTC))
    if raw_from <= end and t_end > t_start:
        raw_bounds = periods(raw_from, end, period)
        if period == "total":
            raw_bounds = [(key_of[0], t_start)]
        hours = Hours(raw_bounds, t_end)
        await walk(
            session,
            region=region,
            facilities=set(offered),
            limit=timedelta(minutes=limit_minutes),
            hours=hours,
            t_start=t_start,
            t_end=t_end,
        )
        totals.add_hours(hours, red_under, [k for k, _ in raw_bounds])

    def rows() -> Iterator[dict[str, Any]]:
        for facility in sorted(offered):
            for category in offered[facility]:
                for key in key_of:
                    own = totals.us.get((facility, category, key), {})
                    stop = totals.us.get((facility, "", key), {})
                    yield {
                        "facility_id": facility,
                        "category": category,
                        "period": key,
                        "hours_red": round(own.get("red", 0) / US_PER_HOUR, 2),
                        "hours_stop": round(stop.get("stop", 0) / US_PER_HOUR, 2),
                        "hours_stale": round(own.get("stale", 0) / US_PER_HOUR, 2),
                    }

    return rows()


# ---- the capacity-daily job -----------------------------------------------------------------


async def aggregate_region(
    *, db: Database, settings: Settings, region: str, now: datetime | None = None
) -> int:
    """Add the region's finished local days not yet in ``capacity_daily``; the days added.

    The first run (or one after the region's freshness limit changed) aggregates the whole
    history. Safe to run twice at once: the state row is claimed first in the write
    transaction (compare and set), so the second writer finds the days done and adds nothing.
    """
    now = now or datetime.now(UTC)
    last = now.astimezone(LOCAL).date() - timedelta(days=1)
    async with db.session() as session:
        region_row = await session.get(Region, region)
        if region_row is None:
            raise NotFound(messages.UNKNOWN_REGION(region=region))
        limit = rules.thresholds(region_row, settings).freshness_limit_minutes
        state = await session.get(CapacityDailyState, region)
        seen = (state.through, state.freshness_limit_minutes) if state is not None else None
        rebuild = state is None or state.freshness_limit_minutes != limit
        if rebuild:
            query = select(func.min(C.at)).where(C.region == region)
            first_at = (await session.exec(query)).one()[0]  # type: ignore[call-overload]
            first = first_at.astimezone(LOCAL).date() if first_at is not None else last
        else:
            assert state is not None
            first = state.through + timedelta(days=1)
        if first > last and not rebuild:
            return 0
        records: list[dict[str, Any]] = []
        if first <= last:
            hours = Hours(periods(first, last, "day"), _midnight(last + timedelta(days=1)))
            await walk(
                session,
                region=region,
                facilities=None,
                limit=timedelta(minutes=limit),
                hours=hours,
                t_start=_midnight(first),
                t_end=hours.end,
            )
            records = await anyio.to_thread.run_sync(_records, region, hours)
    async with db.write_session() as session:
        conn = await session.connection()
        try:
            if seen is None:
                await conn.execute(
                    insert(CapacityDailyState).values(
                        region=region, through=last, freshness_limit_minutes=limit, updated_at=now
                    )
                )
            else:
                claimed = await conn.execute(
                    update(CapacityDailyState)
                    .where(
                        S.region == region,
                        S.through == seen[0],
                        S.freshness_limit_minutes == seen[1],
                    )
                    .values(through=last, freshness_limit_minutes=limit, updated_at=now)
                )
                if claimed.rowcount != 1:  # another run got there first
                    await session.rollback()
                    return 0
            if rebuild:
                await conn.execute(delete(CapacityDaily).where(D.region == region))
            for i in range(0, len(records), 5000):
                await conn.execute(insert(CapacityDaily), records[i : i + 5000])
            await session.commit()
        except IntegrityError:  # another run inserted the state row first
            await session.rollback()
            return 0
    return (last - first).days + 1 if first <= last else 0


def _records(region: str, hours: Hours) -> list[dict[str, Any]]:
    days = [date.fromisoformat(k) for k in hours.keys]
    out = []
    for (facility, category, state, available), per in hours.us.items():
        for i, us in per.items():
            if us:
                out.append(
                    {
                        "region": region,
                        "day": days[i],
                        "facility_id": facility,
                        "category": category,
                        "state": state,
                        "available": available,
                        "week": week_key(days[i]),
                        "month": month_key(days[i]),
                        "microseconds": us,
                    }
                )
    return out


async def aggregate(*, db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Every region's finished days; the days added in all."""
    async with db.session() as session:
        query = select(col(Region.id)).order_by(col(Region.id))
        found = (await session.exec(query)).all()  # type: ignore[call-overload]
        regions = [r if isinstance(r, str) else r[0] for r in found]
    done = 0
    for region in regions:
        done += await aggregate_region(db=db, settings=settings, region=region, now=now)
    return done
