"""The monthly ROAZ report: one region, one calendar month, small cells suppressed.

The report may be shared beyond analysts, so every count from 1 to 4 is replaced by null
(shown as "<5"); a rate or median built on a suppressed count or on fewer than 5 records is
suppressed too. Hours (capacity over time) count no people and are kept.
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.errors import InputError, NotFound
from capacity.facilities.models import Region
from capacity.i18n import messages
from capacity.refusals.service import LOCAL
from capacity.reporting import history
from capacity.reporting.models import RefusalReport
from capacity.reporting.service import GroupBy, refusal_groups, refusal_stats
from capacity.settings import Settings

SMALL = 5
GROUPINGS: list[GroupBy] = [
    "facility",
    "reason",
    "request_type",
    "category",
    "week",
    "weekday",
    "hour",
]
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
ROW_COLUMNS = ["section", "key", "measure", "value"]
BAR = 300  # px, the longest bar
# The page's only styles, in its one <style> element: the page stays a single file (the analyst's
# screen saves it to disk, where a linked stylesheet would be missing), and the policy it is
# served with allows exactly this element by its hash, nothing else: no scripts, no inline style
# attributes, nothing from elsewhere.
STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:auto}td,th{padding:2px 8px;text-align:left}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


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


def suppress(cells: dict[str, Any]) -> dict[str, Any]:
    """Counts under 5 become None; rates and medians on small or hidden counts too."""
    out = {
        k: (None if k in COUNTS and v is not None and 0 < v < SMALL else v)
        for k, v in cells.items()
    }
    if "refusal_rate" in out:
        count = out.get("count", out.get("total"))
        if count is None or out.get("accepted") is None:
            out["refusal_rate"] = None
    if "recorded" in out and (out["recorded"] or 0) < SMALL:
        out["median_calls_until_placement"] = None
        out["median_minutes_until_placement"] = None
    return out


async def build(
    *,
    session: AsyncSession,
    settings: Settings,
    region: str,
    month: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report's content: the month's statistics (suppressed) and capacity hours."""
    start, end = month_range(month)
    if await session.get(Region, region) is None:
        raise NotFound(messages.UNKNOWN_REGION(region=region))
    base = await refusal_stats(session=session, region=region, start=start, end=end)
    summary = {
        k: base[k] for k in ("total", "shown_available", "searches", "accepted", "refusal_rate")
    }
    groups = {}
    for group_by in GROUPINGS:
        found = await refusal_groups(
            session=session, region=region, start=start, end=end, group_by=group_by
        )
        groups[group_by] = [suppress(g) for g in found]
    capacity = await history.capacity_over_time(
        session=session,
        settings=settings,
        region=region,
        start=start,
        end=end,
        period="total",
        now=now,
    )
    return {
        "region": region,
        "month": month,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "suppressed_below": SMALL,
        "summary": suppress(summary),
        "outcomes": suppress(base["outcomes"]),
        "groups": groups,
        "capacity": [r for r in capacity if r["hours_red"] or r["hours_stop"] or r["hours_stale"]],
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
    if month_range(month)[0] > now.astimezone(LOCAL).date():
        raise InputError("month", messages.MONTH_NOT_BEGUN(month=month))
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


def rows(content: dict[str, Any]) -> list[list[Any]]:
    """The report as long rows: section, key, measure, value (None = suppressed)."""
    out: list[list[Any]] = []
    for section in ("summary", "outcomes"):
        out += [[section, "", k, v] for k, v in content[section].items()]
    for group_by, groups in content["groups"].items():
        for g in groups:
            out += [[group_by, g["key"], k, v] for k, v in g.items() if k != "key"]
    for r in content["capacity"]:
        key = f"{r['facility_id']}/{r['category']}"
        out += [["capacity", key, m, r[m]] for m in ("hours_red", "hours_stop", "hours_stale")]
    return out


def _bars(title: str, groups: list[dict[str, Any]]) -> str:
    # SVG bars: their width is an attribute, which a Content-Security-Policy does not govern (an
    # inline style attribute is refused under the service's policy, leaving bars 0 px wide).
    top = max([g["count"] or 0 for g in groups] + [1])
    lines = "".join(
        f"<tr><td>{html.escape(str(g['key']))}</td>"
        f"<td>{'&lt;5' if g['count'] is None else g['count']}</td>"
        f"<td><svg width={BAR} height=12 aria-hidden=true><rect class=bar fill=#c0392b "
        f"width={(g['count'] or 0) * BAR // top} height=12 /></svg></td></tr>"
        for g in groups
    )
    return f"<h2>{html.escape(title)}</h2><table>{lines}</table>"


def to_html(content: dict[str, Any]) -> str:
    """A self-contained page with bar charts (no scripts, printable)."""
    shown = lambda v: "&lt;5" if v is None else html.escape(str(v))  # noqa: E731
    summary = "".join(
        f"<tr><th>{k}</th><td>{shown(v)}</td></tr>" for k, v in content["summary"].items()
    )
    outcomes = "".join(
        f"<tr><th>{k}</th><td>{shown(v)}</td></tr>" for k, v in content["outcomes"].items()
    )
    charts = "".join(_bars(f"Refusals by {g}", content["groups"][g]) for g in GROUPINGS)
    capacity = "".join(
        f"<tr><td>{r['facility_id']}</td><td>{r['category']}</td><td>{r['hours_red']}</td>"
        f"<td>{r['hours_stop']}</td><td>{r['hours_stale']}</td></tr>"
        for r in content["capacity"]
    )
    return (
        "<!doctype html><meta charset=utf-8>"
        f"<title>Refusals {content['region']} {content['month']}</title>"
        f"<style>{STYLE}</style>"
        f"<h1>Refusals, region {html.escape(content['region'])}, {content['month']}</h1>"
        f"<p>Cells under {content['suppressed_below']} are suppressed (&lt;5).</p>"
        f"<table>{summary}</table><h2>Outcomes (per search)</h2><table>{outcomes}</table>{charts}"
        "<h2>Capacity: hours red, in a stop, stale</h2><table><tr><th>facility</th><th>category"
        f"</th><th>red</th><th>stop</th><th>stale</th></tr>{capacity}</table>"
    )
