"""Refusal statistics for a region and period.

Every grouping is a plain ``GROUP BY`` over columns the record carries from the start (the
local-time buckets of ``occurred_at``), filtered through the index on (region, occurred_on):
the same SQL on SQLite and PostgreSQL, and no date functions that differ between them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.sql import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.auth.service import InputError
from capacity.refusals.models import SHOWN_AVAILABLE, Decision, Outcome, Refusal

GroupBy = Literal[
    "facility", "reason", "request_type", "category", "week", "month", "hour", "weekday"
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MAX_RANGE = timedelta(days=5 * 366)
T = Refusal.__table__.c  # type: ignore[attr-defined]

GROUP_COLUMNS: dict[str, Any] = {
    "facility": T.facility_id,
    "reason": T.reason,
    "request_type": T.request_type,
    "category": T.category,
    "week": T.occurred_week,
    "month": T.occurred_month,
    "hour": T.occurred_hour,
    "weekday": T.occurred_weekday,
}


def check_range(start: date, end: date) -> None:
    """``from`` after ``to`` or a range over 5 years is a 422."""
    if start > end:
        raise InputError("from", "from lies after to")
    if end - start > MAX_RANGE:
        raise InputError("to", "the range may span at most 5 years")


def in_range(region: str, start: date, end: date) -> list[ColumnElement[bool]]:
    return [T.region == region, T.occurred_on >= start, T.occurred_on <= end]


def _rate(refused: int, accepted: int) -> float | None:
    """Refused / (refused + accepted); None where no accepted transfer was recorded."""
    return round(refused / (refused + accepted), 4) if accepted else None


_shown = func.sum(case((T.shown_status.in_(SHOWN_AVAILABLE), 1), else_=0))


async def _summary(session: AsyncSession, where: list[Any]) -> dict[str, Any]:
    query = (
        select(
            T.decision,
            func.count(),
            _shown,
            func.count(T.episode.distinct()),
            func.sum(case((T.episode.is_(None), 1), else_=0)),
        )
        .where(*where)
        .group_by(T.decision)
    )
    rows = {r[0]: r for r in (await session.exec(query)).all()}  # type: ignore[call-overload]
    refused = rows.get(Decision.refused.value)
    accepted = rows[Decision.accepted.value][1] if Decision.accepted.value in rows else 0
    total = refused[1] if refused else 0
    return {
        "total": total,
        "shown_available": int(refused[2] or 0) if refused else 0,
        "searches": int(refused[3] + (refused[4] or 0)) if refused else 0,
        "accepted": accepted,
        "refusal_rate": _rate(total, accepted),
    }


def _key(group_by: str, value: Any) -> str:
    if group_by == "hour":
        return f"{int(value):02d}"
    if group_by == "weekday":
        return WEEKDAYS[int(value)]
    return str(value)


async def _groups(session: AsyncSession, where: list[Any], group_by: str) -> list[dict[str, Any]]:
    column = GROUP_COLUMNS[group_by]
    query = (
        select(column, T.decision, func.count(), _shown).where(*where).group_by(column, T.decision)
    )
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: {"count": 0, "shown_available": 0, "accepted": 0}
    )
    for value, decision, n, shown in (await session.exec(query)).all():  # type: ignore[call-overload]
        if value is None:  # an accepted transfer has no refusal reason
            continue
        cell = counts[_key(group_by, value)]
        if decision == Decision.accepted.value:
            cell["accepted"] += n
        else:
            cell["count"] += n
            cell["shown_available"] += int(shown or 0)
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


async def _outcomes(session: AsyncSession, where: list[Any]) -> dict[str, Any]:
    """Outcomes per search: records of one episode count once (the latest outcome given)."""
    query = (
        select(
            T.id,
            T.episode,
            T.outcome,
            T.placed_outside_region,
            T.calls_until_placement,
            T.minutes_until_placement,
            T.outcome_at,
        )
        .where(*where, T.outcome.is_not(None))
        .order_by(T.outcome_at, T.id)
    )
    latest: dict[Any, Any] = {}
    for row in (await session.exec(query)).all():  # type: ignore[call-overload]
        latest[row.episode or f"#{row.id}"] = row
    kinds = {o.value: 0 for o in Outcome}
    for row in latest.values():
        kinds[row.outcome] += 1
    calls = [
        r.calls_until_placement for r in latest.values() if r.calls_until_placement is not None
    ]
    minutes = [
        r.minutes_until_placement for r in latest.values() if r.minutes_until_placement is not None
    ]
    return {
        "recorded": len(latest),
        **kinds,
        "placed_outside_region": sum(1 for r in latest.values() if r.placed_outside_region),
        "median_calls_until_placement": statistics.median(calls) if calls else None,
        "median_minutes_until_placement": statistics.median(minutes) if minutes else None,
    }


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
        **await _summary(session, where),
        "outcomes": await _outcomes(session, where),
        "groups": await _groups(session, where, group_by),
    }
