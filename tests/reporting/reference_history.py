"""Reference: capacity over time as computed before issue 10 point 9 (commit aa3a818), kept
unchanged as the oracle the new answer (daily table or history walk) is compared with.


Rebuilt from the append-only ``capacity_change`` history. A category is
- ``stop`` while a stop of its facility is in force (for every category the facility offers);
- ``stale`` from the moment its last figure passed the region's freshness limit until the next
  figure (derived from the figures' times, so it holds even when the scheduler ran late);
- ``red`` while its last fresh figure coloured red under the region's current thresholds.
Hours are split over periods at local (Europe/Amsterdam) midnights; nothing counts after now.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.availability import rules
from capacity.availability.models import CapacityChange, ChangeKind, Status
from capacity.errors import NotFound
from capacity.facilities.models import Facility, Region
from capacity.refusals.service import LOCAL
from capacity.reporting.service import check_range
from capacity.settings import Settings

Period = Literal["day", "week", "month", "total"]
C = CapacityChange.__table__.c  # type: ignore[attr-defined]
STOP_KINDS = [ChangeKind.stop_declared, ChangeKind.stop_lifted, ChangeKind.stop_expired]
COLUMNS = ["facility_id", "category", "period", "hours_red", "hours_stop", "hours_stale"]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL).astimezone(UTC)


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
            year, week, weekday = day.isocalendar()
            key, nxt = f"{year}-W{week:02d}", day + timedelta(days=8 - weekday)
        else:
            key = f"{day.year}-{day.month:02d}"
            nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        out.append((key, _midnight(day)))
        day = nxt
    return out


class Hours:
    """Accumulates seconds per (facility, category, period, status)."""

    def __init__(self, bounds: list[tuple[str, datetime]], end: datetime):
        self.keys = [k for k, _ in bounds]
        self.starts = [s for _, s in bounds]
        self.end = end
        self.seconds: dict[tuple[str, str, str], dict[str, float]] = defaultdict(
            lambda: {"red": 0.0, "stop": 0.0, "stale": 0.0}
        )

    def add(self, facility: str, category: str, status: str, t0: datetime, t1: datetime) -> None:
        t0, t1 = max(t0, self.starts[0]), min(t1, self.end)
        i = max(bisect.bisect_right(self.starts, t0) - 1, 0)
        while t0 < t1:
            edge = self.starts[i + 1] if i + 1 < len(self.starts) else self.end
            part_end = min(t1, edge)
            self.seconds[(facility, category, self.keys[i])][status] += (
                part_end - t0
            ).total_seconds()
            t0, i = part_end, i + 1


class Timeline:
    """The state of one region's facilities, walked forward through its changes."""

    def __init__(
        self, offered: dict[str, list[str]], thresholds: Any, limit: timedelta, hours: Hours
    ):
        self.offered, self.thresholds, self.limit, self.hours = offered, thresholds, limit, hours
        self.stop: dict[str, bool] = {}
        self.figure: dict[tuple[str, str], tuple[int, datetime]] = {}
        self.since: dict[tuple[str, str], datetime] = {}

    def _close(self, facility: str, category: str, now: datetime) -> None:
        key = (facility, category)
        t0 = self.since.get(key)
        self.since[key] = now
        if t0 is None or t0 >= now:
            return
        if self.stop.get(facility):
            self.hours.add(facility, category, "stop", t0, now)
            return
        figure = self.figure.get(key)
        if figure is None:
            return
        available, at = figure
        fresh_until = at + self.limit
        if rules.colour(available, self.thresholds) is Status.red:
            self.hours.add(facility, category, "red", t0, min(now, fresh_until))
        self.hours.add(facility, category, "stale", max(t0, fresh_until), now)

    def apply(self, row: Any) -> None:
        facility = row.facility_id
        if facility not in self.offered:
            return
        if row.kind == ChangeKind.figures and row.category is not None:
            self._close(facility, row.category, row.at)
            self.figure[(facility, row.category)] = (row.available, row.at)
        elif row.kind in STOP_KINDS:
            for category in self.offered[facility]:
                self._close(facility, category, row.at)
            self.stop[facility] = row.kind == ChangeKind.stop_declared

    def start(self, at: datetime) -> None:
        for facility, categories in self.offered.items():
            for category in categories:
                self.since[(facility, category)] = at

    def finish(self, at: datetime) -> None:
        for facility, categories in self.offered.items():
            for category in categories:
                self._close(facility, category, at)


async def _last_before(session: AsyncSession, region: str, at: datetime) -> list[Any]:
    """The last figure per facility and category, and the last stop change, before ``at``."""
    figures = (
        select(func.max(C.id))
        .where(C.region == region, C.at < at, C.kind == ChangeKind.figures)
        .group_by(C.facility_id, C.category)
    )
    stops = (
        select(func.max(C.id))
        .where(C.region == region, C.at < at, C.kind.in_(STOP_KINDS))
        .group_by(C.facility_id)
    )
    query = select(C).where(C.id.in_(figures.union_all(stops))).order_by(C.at, C.id)
    return list((await session.exec(query)).all())  # type: ignore[call-overload]


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
    region_row = await session.get(Region, region)
    if region_row is None:
        raise NotFound(f"unknown region {region!r}")
    thresholds = rules.thresholds(region_row, settings)
    query = select(Facility).where(col(Facility.region) == region)
    facilities = (await session.exec(query)).all()  # type: ignore[call-overload]
    offered = {f.id: list(f.categories) for (f,) in facilities}
    t_start = _midnight(start)
    t_end = min(_midnight(end + timedelta(days=1)), now or datetime.now(UTC))
    bounds = periods(start, end, period)
    hours = Hours(bounds, t_end)
    timeline = Timeline(
        offered, thresholds, timedelta(minutes=thresholds.freshness_limit_minutes), hours
    )
    for row in await _last_before(session, region, t_start):
        timeline.apply(row)
    timeline.start(t_start)
    query = (
        select(C)
        .where(C.region == region, C.at >= t_start, C.at < t_end)
        .order_by(C.at, C.id)
        .execution_options(yield_per=2000)
    )
    async for row in await session.stream(query):
        timeline.apply(row)
    if t_end > t_start:
        timeline.finish(t_end)

    def rows() -> Iterator[dict[str, Any]]:
        for facility in sorted(offered):
            for category in offered[facility]:
                for key, _ in bounds:
                    sec = hours.seconds.get((facility, category, key), {})
                    yield {
                        "facility_id": facility,
                        "category": category,
                        "period": key,
                        **{
                            f"hours_{s}": round(sec.get(s, 0.0) / 3600, 2)
                            for s in ("red", "stop", "stale")
                        },
                    }

    return rows()
