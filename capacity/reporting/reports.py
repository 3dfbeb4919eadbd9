"""The monthly ROAZ report: one region, one calendar month, small cells suppressed.

The report may be shared beyond analysts, so every count from 1 to 4 is replaced by
``{"suppressed": true}``, and so is, in every row or column with a total, a second cell
wherever the total would otherwise give the hidden one back (``suppression``); a rate or median
built on a suppressed count or on fewer than 5 records is suppressed too. ``null`` means "not
applicable" (a refusal rate without accepted transfers, a median without values). Hours
(capacity over time) count no people and are kept. ``render`` turns the content into HTML,
CSV and XLSX with names and Dutch (or English) labels.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.errors import InputError, NotFound
from capacity.facilities.models import Facility, Region
from capacity.i18n import messages
from capacity.refusals.models import RefusalReason
from capacity.refusals.service import LOCAL
from capacity.reporting import history
from capacity.reporting.models import RefusalReport
from capacity.reporting.service import GroupBy, facility_reason, refusal_groups, refusal_stats
from capacity.reporting.suppression import SMALL, SUPPRESSED, protect
from capacity.settings import Settings

GROUPINGS: list[GroupBy] = [
    "facility",
    "reason",
    "request_type",
    "category",
    "week",
    "weekday",
    "hour",
]
VERSION = 2  # 1: null meant suppressed; 2: {"suppressed": true} does, null means not applicable
MEASURES = {"count": "total", "shown_available": "shown_available", "accepted": "accepted"}
OUTCOME_PARTS = ["placed", "home_birth", "birth_en_route", "unknown"]
REASONS = [r.value for r in RefusalReason]
# counts of version-1 content, where null meant suppressed
COUNTS = {
    "total",
    "shown_available",
    "searches",
    "accepted",
    "count",
    "recorded",
    "placed",
    "placed_outside_region",
    "home_birth",
    "birth_en_route",
    "unknown",
}


def month_range(month: str) -> tuple[date, date]:
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError as exc:
        raise InputError("month", messages.MONTH_FORMAT()) from exc
    if not 2000 <= first.year <= 2100:
        raise InputError("month", messages.MONTH_RANGE())
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def _rate(count: Any, accepted: Any, rate: float | None, hidden: bool) -> Any:
    """A rate hides with either of its counts, except where it does not apply (no transfers):
    otherwise the rate and the shown count give the hidden one back."""
    if not hidden and accepted == 0:
        return None
    return SUPPRESSED if hidden else rate


def assemble(
    *,
    summary: dict[str, Any],
    outcomes: dict[str, Any],
    groups: dict[str, list[dict[str, Any]]],
    cross: dict[tuple[str, str], int],
    names: dict[str, str],
) -> dict[str, Any]:
    """Suppress the month's figures: counts under 5, then their complements (``suppression``).

    The lines (a total and its parts) are every grouping's column of refusals, shown-available
    and accepted against the summary, the facility x reason table's rows and columns against
    the facility and reason counts, and the outcomes against the searches with an outcome.
    """
    groups = {g: [dict(row) for row in rows] for g, rows in groups.items()}
    present = {row["key"] for row in groups["facility"]}
    for facility in names:  # every facility of the region has its row, with or without refusals
        if facility not in present:
            groups["facility"].append(
                {
                    "key": facility,
                    "count": 0,
                    "shown_available": 0,
                    "accepted": 0,
                    "refusal_rate": None,
                }
            )
    groups["facility"].sort(key=lambda row: (names.get(row["key"], row["key"]).lower(), row["key"]))
    facilities = [row["key"] for row in groups["facility"]]

    values: dict[Any, int] = {("summary", k): summary[k] for k in MEASURES.values()}
    values[("summary", "searches")] = summary["searches"]
    values.update({("outcomes", k): outcomes[k] for k in ["recorded", *OUTCOME_PARTS]})
    values[("outcomes", "placed_outside_region")] = outcomes["placed_outside_region"]
    lines: list[Any] = []
    for g, rows in groups.items():
        for measure, total in MEASURES.items():
            parts = [(g, row["key"], measure) for row in rows]
            values.update({(g, row["key"], measure): row[measure] for row in rows})
            if g == "reason" and measure == "accepted":
                continue  # an accepted transfer has no reason
            lines.append((("summary", total), parts))
    for f in facilities:
        for r in REASONS:
            values[("cross", f, r)] = cross.get((f, r), 0)
        lines.append((("facility", f, "count"), [("cross", f, r) for r in REASONS]))
    for r in REASONS:
        values.setdefault(("reason", r, "count"), 0)
        lines.append((("reason", r, "count"), [("cross", f, r) for f in facilities]))
    lines.append((("outcomes", "recorded"), [("outcomes", k) for k in OUTCOME_PARTS]))
    hidden = protect(values, lines)
    shown = lambda key: SUPPRESSED if key in hidden else values[key]  # noqa: E731

    out_groups = {}
    for g, rows in groups.items():
        out = []
        for row in rows:
            cells = {m: shown((g, row["key"], m)) for m in MEASURES}
            either = (g, row["key"], "count") in hidden or (g, row["key"], "accepted") in hidden
            cells["refusal_rate"] = _rate(
                row["count"], row["accepted"], row["refusal_rate"], either
            )
            out.append({"key": row["key"], **cells})
        out_groups[g] = out
    out_summary = {k: shown(("summary", k)) for k in [*MEASURES.values(), "searches"]}
    out_summary = {k: out_summary[k] for k in ("total", "shown_available", "searches", "accepted")}
    out_summary["refusal_rate"] = _rate(
        summary["total"],
        summary["accepted"],
        summary["refusal_rate"],
        ("summary", "total") in hidden or ("summary", "accepted") in hidden,
    )
    out_outcomes: dict[str, Any] = {
        k: shown(("outcomes", k)) for k in ["recorded", *OUTCOME_PARTS, "placed_outside_region"]
    }
    few = outcomes["recorded"] < SMALL or ("outcomes", "recorded") in hidden
    for k in ("median_calls_until_placement", "median_minutes_until_placement"):
        out_outcomes[k] = None if outcomes[k] is None else SUPPRESSED if few else outcomes[k]
    return {
        "summary": out_summary,
        "outcomes": out_outcomes,
        "groups": out_groups,
        "facility_reason": {
            "reasons": REASONS,
            "rows": [
                {"key": f, "cells": {r: shown(("cross", f, r)) for r in REASONS}}
                for f in facilities
            ],
        },
    }


async def build(
    *,
    session: AsyncSession,
    settings: Settings,
    region: str,
    month: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report's content: the month's statistics (suppressed) and capacity hours.

    A month that has not begun is a 422 (``month``); one in progress is marked ``in_progress``.
    """
    now = now or datetime.now(UTC)
    start, end = month_range(month)
    today = now.astimezone(LOCAL).date()
    if start > today:
        raise InputError("month", messages.MONTH_NOT_BEGUN(month=month))
    region_row = await session.get(Region, region)
    if region_row is None:
        raise NotFound(messages.UNKNOWN_REGION(region=region))
    query = select(Facility.id, Facility.name).where(col(Facility.region) == region)
    names = {f: n for f, n in (await session.exec(query)).all()}
    base = await refusal_stats(session=session, region=region, start=start, end=end)
    groups: dict[str, list[dict[str, Any]]] = {}
    for group_by in GROUPINGS:
        groups[group_by] = await refusal_groups(
            session=session, region=region, start=start, end=end, group_by=group_by
        )
    cross = await facility_reason(session=session, region=region, start=start, end=end)
    capacity = list(
        await history.capacity_over_time(
            session=session,
            settings=settings,
            region=region,
            start=start,
            end=end,
            period="total",
            now=now,
        )
    )
    missing = {row["key"] for row in groups["facility"]} - set(names)
    if missing:  # a facility since moved to another region: still named
        query = select(Facility.id, Facility.name).where(col(Facility.id).in_(missing))
        names.update({f: n for f, n in (await session.exec(query)).all()})
    content = assemble(
        summary=base, outcomes=base["outcomes"], groups=groups, cross=cross, names=names
    )
    hours: dict[str, dict[str, Any]] = {}
    for r in capacity:
        own = hours.setdefault(r["facility_id"], {"hours_stop": 0.0, "hours_full": None})
        own["hours_stop"] = max(own["hours_stop"], r["hours_stop"])
        if r["category"] == "delivery_room":
            own["hours_full"] = r["hours_red"]
    for row in content["groups"]["facility"]:
        row.update({"hours_stop": None, "hours_full": None, **hours.get(row["key"], {})})
    return {
        "version": VERSION,
        "region": region,
        "region_name": region_row.name,
        "month": month,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "in_progress": end >= today,
        "generated_at": now.astimezone(UTC).replace(microsecond=0).isoformat(),
        "suppressed_below": SMALL,
        "facility_names": names,
        **content,
        "capacity": [
            {**r, "facility_name": names.get(r["facility_id"], r["facility_id"])}
            for r in capacity
            if r["hours_red"] or r["hours_stop"] or r["hours_stale"]
        ],
    }


def upgrade(content: dict[str, Any]) -> dict[str, Any]:
    """Content stored before version 2 (null meant suppressed) in version 2's terms."""
    if content.get("version") == VERSION:
        return content

    def fix(cells: dict[str, Any]) -> dict[str, Any]:
        return {k: SUPPRESSED if k in COUNTS and v is None else v for k, v in cells.items()}

    return {
        **content,
        "version": VERSION,
        "summary": fix(content["summary"]),
        "outcomes": fix(content["outcomes"]),
        "groups": {g: [fix(row) for row in rows] for g, rows in content["groups"].items()},
    }


async def generate(
    *,
    session: AsyncSession,
    settings: Settings,
    region: str,
    month: str,
    actor: str,
    now: datetime | None = None,
) -> RefusalReport:
    """Build and store the report (replacing an earlier one of the same month); flushes."""
    now = now or datetime.now(UTC)
    content = await build(session=session, settings=settings, region=region, month=month, now=now)
    query = select(RefusalReport).where(
        RefusalReport.region == region, RefusalReport.month == month
    )
    report = (await session.exec(query)).first() or RefusalReport(
        region=region, month=month, generated_at=now, generated_by=actor
    )
    report.content, report.generated_at, report.generated_by = content, now, actor
    session.add(report)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="report.generate",
        entity="refusal_report",
        entity_id=str(report.id),
        at=now,
        detail={"region": region, "month": month},
    )
    return report


async def list_reports(*, session: AsyncSession, region: str | None) -> list[RefusalReport]:
    query = select(RefusalReport).order_by(col(RefusalReport.month).desc(), RefusalReport.region)
    if region is not None:
        query = query.where(RefusalReport.region == region)
    return list((await session.exec(query)).all())
