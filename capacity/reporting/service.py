"""Refusal statistics for a region and period.

Counts come from ``refusal_daily`` (``reporting.models.RefusalDaily``): per region, dimension,
local day, bucket and decision, kept by triggers in the same transaction as each record, so a
region-year is a few hundred to ~17,000 small rows instead of every record. What cannot be
summed per day (distinct episodes, the latest outcome of each search, medians) is read from
``refusal`` through partial indexes that hold every column asked for. The same SQL runs on
SQLite and PostgreSQL (bench/README.md has the figures).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, literal_column, null, select, text, union_all
from sqlalchemy.sql import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.errors import InputError
from capacity.i18n import messages
from capacity.refusals.models import Decision, Outcome, Refusal
from capacity.reporting.models import RefusalDaily

GroupBy = Literal[
    "facility", "reason", "request_type", "category", "week", "month", "hour", "weekday"
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MAX_RANGE = timedelta(days=5 * 366)
NOT_RECORDED = "unknown"  # the group key of records without a request type
T = Refusal.__table__.c  # type: ignore[attr-defined]
D = RefusalDaily.__table__.c  # type: ignore[attr-defined]

# grouping -> (dimension rows of refusal_daily, the column holding the group's key)
GROUP_SOURCES: dict[str, tuple[str, Any]] = {
    "facility": ("facility", D.bucket),
    "reason": ("reason", D.bucket),
    "request_type": ("request_type", D.bucket),
    "category": ("category", D.bucket),
    "hour": ("hour", D.bucket),
    "week": ("all", D.occurred_week),
    "month": ("all", D.occurred_month),
    "weekday": ("all", D.occurred_weekday),
}


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def check_range(start: date, end: date) -> None:
    """``from`` after ``to``, a range over 5 years or beyond 2000-2100 is a 422."""
    if start < FIRST_DAY:
        raise InputError("from", messages.FROM_TOO_EARLY(first=FIRST_DAY))
    if end > LAST_DAY:
        raise InputError("to", messages.TO_TOO_LATE(last=LAST_DAY))
    if start > end:
        raise InputError("from", messages.FROM_AFTER_TO())
    if end - start > MAX_RANGE:
        raise InputError("to", messages.RANGE_TOO_LONG())


def in_range(region: str, start: date, end: date) -> list[ColumnElement[bool]]:
    """The records of one region and period (local dates, ``end`` inclusive)."""
    return [T.region == region, T.occurred_on >= start, T.occurred_on <= end]


def _days(region: str, dim: str, start: date, end: date) -> list[ColumnElement[bool]]:
    return [D.region == region, D.dim == dim, D.occurred_on >= start, D.occurred_on <= end]


def _rate(refused: int, accepted: int) -> float | None:
    """Refused / (refused + accepted); None where no accepted transfer was recorded."""
    return round(refused / (refused + accepted), 4) if accepted else None


async def _searches(session: AsyncSession, where: list[Any]) -> int:
    """Distinct episode tokens among the refusals (read from ``ix_refusal_searches`` only)."""
    # literal predicates, so that both planners match the partial index
    episodes = (
        select(T.episode)
        .where(*where, text("decision = 'refused'"), text("episode IS NOT NULL"))
        .distinct()
        .subquery()
    )
    query = select(func.count()).select_from(episodes)
    return int((await session.exec(query)).one()[0])  # type: ignore[call-overload]


async def _summary(session: AsyncSession, region: str, start: date, end: date) -> dict[str, Any]:
    query = (
        select(D.decision, func.sum(D.n), func.sum(D.n_shown), func.sum(D.n_no_episode))
        .where(*_days(region, "all", start, end))
        .group_by(D.decision)
    )
    rows = {r[0]: r for r in (await session.exec(query)).all()}  # type: ignore[call-overload]
    _, total, shown, no_episode = rows.get(Decision.refused.value, (None, 0, 0, 0))
    accepted = int(rows[Decision.accepted.value][1]) if Decision.accepted.value in rows else 0
    searches = 0
    if total:
        searches = await _searches(session, in_range(region, start, end)) + int(no_episode)
    return {
        "total": int(total),
        "shown_available": int(shown),
        "searches": searches,
        "accepted": accepted,
        "refusal_rate": _rate(total, accepted),
    }


def _key(group_by: str, value: Any) -> str | None:
    """The group's key; None for records the grouping leaves out (accepted: no reason)."""
    if group_by == "hour":
        return f"{int(value):02d}"
    if group_by == "weekday":
        return WEEKDAYS[int(value)]
    if value == "":
        return NOT_RECORDED if group_by == "request_type" else None
    return str(value)


async def _groups(
    session: AsyncSession, region: str, start: date, end: date, group_by: str
) -> list[dict[str, Any]]:
    dim, column = GROUP_SOURCES[group_by]
    query = (
        select(column, D.decision, func.sum(D.n), func.sum(D.n_shown))
        .where(*_days(region, dim, start, end))
        .group_by(column, D.decision)
    )
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: {"count": 0, "shown_available": 0, "accepted": 0}
    )
    for value, decision, n, shown in (await session.exec(query)).all():  # type: ignore[call-overload]
        key = _key(group_by, value)
        if key is None or not n:
            continue
        cell = counts[key]
        if decision == Decision.accepted.value:
            cell["accepted"] += int(n)
        else:
            cell["count"] += int(n)
            cell["shown_available"] += int(shown)
    if group_by == "hour":
        keys = [f"{h:02d}" for h in range(24)]
    elif group_by == "weekday":
        keys = WEEKDAYS
    elif group_by in ("week", "month"):
        keys = sorted(counts)
    else:
        keys = sorted(counts, key=lambda k: (-counts[k]["count"], k))
    return [
        {"key": k, **counts[k], "refusal_rate": _rate(counts[k]["count"], counts[k]["accepted"])}
        for k in keys
    ]


def _median(histogram: list[tuple[int, int]]) -> float | int | None:
    values = [v for v, n in histogram for _ in range(n)]
    return statistics.median(values) if values else None


async def _outcomes(session: AsyncSession, where: list[Any]) -> dict[str, Any]:
    """Outcomes per search: records of one episode count once (the latest outcome given).

    The latest record per search is picked in SQL (a window over ``ix_refusal_outcomes``);
    only histograms come back: per outcome, per call count and per minute count.
    """
    search = (T.episode, case((T.episode.is_(None), T.id), else_=null()))
    latest = (
        select(
            T.outcome,
            T.placed_outside_region,
            T.calls_until_placement,
            T.minutes_until_placement,
            func.row_number()
            .over(partition_by=search, order_by=(T.outcome_at.desc(), T.id.desc()))
            .label("rank"),
        )
        .where(*where, text("outcome IS NOT NULL"))
        .cte("latest")
    )
    first = latest.c["rank"] == 1

    def histogram(kind: str, value: Any, label: Any, *extra: Any) -> Any:
        return (
            select(literal_column(f"'{kind}'"), label, value, func.count())
            .where(first, *extra)
            .group_by(label, value)
        )

    outside_flag = case((latest.c.placed_outside_region.is_(True), 1), else_=0)
    query = union_all(
        histogram("o", outside_flag, latest.c.outcome),
        histogram(
            "c",
            latest.c.calls_until_placement,
            null().cast(T.outcome.type),
            latest.c.calls_until_placement.is_not(None),
        ),
        histogram(
            "m",
            latest.c.minutes_until_placement,
            null().cast(T.outcome.type),
            latest.c.minutes_until_placement.is_not(None),
        ),
    )
    kinds = {o.value: 0 for o in Outcome}
    outside = 0
    calls: list[tuple[int, int]] = []
    minutes: list[tuple[int, int]] = []
    for kind, label, value, n in (await session.exec(query)).all():  # type: ignore[call-overload]
        if kind == "o":
            kinds[label] += n
            outside += n if value else 0
        elif kind == "c":
            calls.append((int(value), n))
        elif kind == "m":
            minutes.append((int(value), n))
    return {
        "recorded": sum(kinds.values()),
        **kinds,
        "placed_outside_region": outside,
        "median_calls_until_placement": _median(sorted(calls)),
        "median_minutes_until_placement": _median(sorted(minutes)),
    }


async def refusal_groups(
    *, session: AsyncSession, region: str, start: date, end: date, group_by: GroupBy
) -> list[dict[str, Any]]:
    """Only the groups of ``refusal_stats`` (the monthly report asks for every grouping)."""
    check_range(start, end)
    return await _groups(session, region, start, end, group_by)


async def refusal_stats(
    *, session: AsyncSession, region: str, start: date, end: date, group_by: GroupBy = "facility"
) -> dict[str, Any]:
    """Totals, searches, refusal rate, outcomes and the groups of one region and period."""
    check_range(start, end)
    where = in_range(region, start, end)
    return {
        "region": region,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group_by": group_by,
        **await _summary(session, region, start, end),
        "outcomes": await _outcomes(session, where),
        "groups": await _groups(session, region, start, end, group_by),
    }


async def facility_reason(
    *, session: AsyncSession, region: str, start: date, end: date
) -> dict[tuple[str, str], int]:
    """Refusals per (facility, reason) of one region and period (refusals without a reason
    are left out); read from ``ix_refusal_region_occurred_on``."""
    check_range(start, end)
    query = (
        select(T.facility_id, T.reason, func.count())
        .where(*in_range(region, start, end), T.decision == Decision.refused.value)
        .where(T.reason.is_not(None))
        .group_by(T.facility_id, T.reason)
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return {(f, r): int(n) for f, r, n in rows}
