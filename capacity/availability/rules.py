"""How a raw figure becomes a colour: thresholds, staleness and stops (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from capacity.availability.models import Status, Thresholds
from capacity.facilities.models import CATEGORY_ORDER
from capacity.settings import Settings


class RegionOverrides(Protocol):
    green_min: int | None
    orange_min: int | None
    freshness_limit_minutes: int | None


def thresholds(region: RegionOverrides, settings: Settings) -> Thresholds:
    """The region's own thresholds where it set them, else the service defaults.

    ``region`` is a ``Region`` row or anything with its three override columns.
    """
    return Thresholds(
        green_min=region.green_min or settings.green_min,
        orange_min=region.orange_min or settings.orange_min,
        freshness_limit_minutes=region.freshness_limit_minutes or settings.freshness_limit_minutes,
    )


def colour(available: int, rules: Thresholds | dict[str, Any]) -> Status:
    green = rules["green_min"] if isinstance(rules, dict) else rules.green_min
    orange = rules["orange_min"] if isinstance(rules, dict) else rules.orange_min
    if available >= green:
        return Status.green
    if available >= orange:
        return Status.orange
    return Status.red


def active_stop(stop: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """A stop whose ``until`` has passed has ended, even before the scheduler records it."""
    if stop is None or stop.get("until_ts") is None:
        return stop
    return stop if stop["until_ts"] > now.timestamp() else None


def iso_ts(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def render(raw: dict[str, Any], rules: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One facility's entry of the regional picture, as the contract shows it.

    A stop overrides every colour; a figure older than the freshness limit is stale and
    ``unknown``, never green.
    """
    limit = timedelta(minutes=rules["freshness_limit_minutes"]).total_seconds()
    stop = active_stop(raw.get("stop"), now)
    now_ts = now.timestamp()
    categories: dict[str, Any] = {}
    figures = raw["categories"]
    for category in CATEGORY_ORDER:
        fig = figures.get(category.value)
        if fig is None:
            continue
        stale = bool(fig.get("stale")) or now_ts - fig["ts"] > limit
        if stop is not None:
            status = Status.stop
        elif stale:
            status = Status.unknown
        else:
            status = colour(fig["available"], rules)
        categories[category.value] = {
            "available": fig["available"],
            "staffed": fig["staffed"],
            "status": status.value,
            "updated_at": fig["updated_at"],
            "stale": stale,
            # When the figure turns stale unless confirmed: the ward's screen warns from then
            # on, also between two messages of the stream.
            "stale_at": iso_ts(fig["ts"] + limit),
            "updated_by": fig.get("updated_by"),
            "updated_by_label": fig.get("key_label"),
            "measured_at": fig.get("measured_at"),
        }
    return {
        "facility_id": raw["facility_id"],
        "version": raw["version"],
        "updated_by": raw.get("updated_by"),
        "stop": None
        if stop is None
        else {"reason": stop["reason"], "since": stop["since"], "until": stop["until"]},
        "categories": categories,
    }
