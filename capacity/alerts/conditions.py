"""When a subscription's condition holds, read off a region's live picture (pure functions).

Each state rule maps a subscription and the region's raw state to ``None`` (does not hold) or
the facts of the alert. An event rule (a transfer request for my ward, issue 13.1) has no
condition: it calls ``service.fire_event`` with an event key of its own instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from capacity.alerts.models import AlertRule, AlertSubscription
from capacity.availability.rules import active_stop

Facts = dict[str, Any]
Condition = Callable[[AlertSubscription, dict[str, dict[str, Any]], datetime], Facts | None]


def _on_stop(
    sub: AlertSubscription, raws: dict[str, dict[str, Any]], now: datetime
) -> Facts | None:
    raw = raws.get(sub.facility_id or "")
    stop = active_stop(raw.get("stop"), now) if raw else None
    return None if stop is None else {"reason": stop["reason"], "since": stop["since"]}


def _stale(sub: AlertSubscription, raws: dict[str, dict[str, Any]], now: datetime) -> Facts | None:
    raw = raws.get(sub.facility_id or "")
    if raw is None:
        return None
    stale = sorted(c for c, fig in raw["categories"].items() if fig.get("stale"))
    return {"categories": stale} if stale else None


def free_beds(raws: dict[str, dict[str, Any]], category: str, now: datetime) -> int:
    """Free beds of a category in the region: facilities on stop or with a stale figure count 0."""
    free = 0
    for raw in raws.values():
        fig = raw["categories"].get(category)
        if fig is None or fig.get("stale") or active_stop(raw.get("stop"), now) is not None:
            continue
        free += int(fig["available"])
    return free


def _free_below(
    sub: AlertSubscription, raws: dict[str, dict[str, Any]], now: datetime
) -> Facts | None:
    free = free_beds(raws, str(sub.category), now)
    return {"free": free} if free < (sub.threshold or 1) else None


CONDITIONS: dict[AlertRule, Condition] = {
    AlertRule.facility_stop: _on_stop,
    AlertRule.facility_stale: _stale,
    AlertRule.region_free_below: _free_below,
}
