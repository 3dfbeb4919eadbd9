"""A facility's raw state as Redis keeps it, built from SQL rows, and the stream's message."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.auth.models import ApiKey, ApiKeyFacility
from capacity.auth.service import shown_actor
from capacity.availability import rules as rules_mod
from capacity.availability.models import CapacityChange, CapacityFigure, Stop
from capacity.facilities.models import Facility, Region
from capacity.settings import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _stop_raw(stop: Any) -> dict[str, Any] | None:
    if stop is None:
        return None
    return {
        "reason": str(stop.reason),
        "since": iso(stop.since),
        "until": iso(stop.until) if stop.until else None,
        "until_ts": stop.until.timestamp() if stop.until else None,
    }


def facility_raw(
    *,
    facility_id: str,
    version: int,
    offered: set[str],
    figures: Iterable[Any],
    stop: Any,
    updated_by: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What Redis keeps for one facility; ``rules.render`` turns it into the public entry.

    ``figures`` and ``stop`` are ORM objects or plain rows with the same column names;
    ``updated_by`` is who made the last change, as ``auth.service.shown_actor`` shows it; each
    figure keeps its own author (the account or key that last set it; a stale mark is no change
    of the figure, so it keeps its author). A figure set by an API key carries the key's label
    (``key_label`` on the row, or ``labels``: actor -> label).
    """
    labels = labels or {}
    return {
        "facility_id": facility_id,
        "version": version,
        "updated_by": updated_by,
        "stop": _stop_raw(stop),
        "categories": {
            str(f.category): {
                "available": f.available,
                "staffed": f.staffed,
                "updated_at": iso(f.updated_at),
                # The freshness clock: from when the figure was measured, if the sender said.
                "ts": (getattr(f, "measured_at", None) or f.updated_at).timestamp(),
                "measured_at": iso(f.measured_at) if getattr(f, "measured_at", None) else None,
                "stale": bool(f.stale),
                "updated_by": shown_actor(f.updated_by, facility_id),
                "key_label": getattr(f, "key_label", None) or labels.get(f.updated_by),
            }
            for f in figures
            if str(f.category) in offered
        },
    }


async def active_stop(session: AsyncSession, facility_id: str) -> Stop | None:
    query = select(Stop).where(Stop.facility_id == facility_id, col(Stop.ended_at).is_(None))
    return (await session.exec(query.order_by(col(Stop.id).desc()))).first()


async def figures(session: AsyncSession, facility_id: str) -> list[CapacityFigure]:
    query = select(CapacityFigure).where(CapacityFigure.facility_id == facility_id)
    return list((await session.exec(query)).all())


async def _last_actor(session: AsyncSession, facility_id: str) -> str | None:
    """Who made the facility's last accepted change, from the history (survives a rebuild)."""
    query = select(CapacityChange.actor).where(CapacityChange.facility_id == facility_id)
    actor = (await session.exec(query.order_by(col(CapacityChange.id).desc()).limit(1))).first()
    return None if actor is None else shown_actor(actor, facility_id)


async def _key_labels(session: AsyncSession, facility_id: str) -> dict[str, str]:
    """The facility's API keys' labels by the actor their changes are recorded under."""
    grouped = select(ApiKeyFacility.api_key_id).where(ApiKeyFacility.facility_id == facility_id)
    query = select(ApiKey.id, ApiKey.label).where(
        or_(col(ApiKey.facility_id) == facility_id, col(ApiKey.id).in_(grouped))
    )
    return {f"key:{i}": label for i, label in (await session.exec(query)).all() if label}


async def load_raw(session: AsyncSession, facility: Facility) -> dict[str, Any]:
    return facility_raw(
        labels=await _key_labels(session, facility.id),
        facility_id=facility.id,
        version=facility.version,
        offered=set(facility.categories),
        figures=await figures(session, facility.id),
        stop=await active_stop(session, facility.id),
        updated_by=await _last_actor(session, facility.id),
    )


async def region_raws(session: AsyncSession, region_id: str) -> dict[str, dict[str, Any]]:
    """Every active facility's raw state in a region, from SQL."""
    query = select(Facility).where(Facility.region == region_id, Facility.active == True)  # noqa: E712
    return {f.id: await load_raw(session, f) for f in (await session.exec(query)).all()}


def facility_message(region: str, seq: int, entry: dict[str, Any]) -> bytes:
    """The live stream's ``facility`` message, encoded once for every client.

    ``at`` is when the change was accepted: the hub measures its fan-out lag from it.
    """
    return orjson.dumps(
        {"type": "facility", "region": region, "seq": seq, "at": iso(utcnow()), "facility": entry}
    )


def rules_json(region: Region, settings: Settings) -> dict[str, Any]:
    return rules_mod.thresholds(region, settings).model_dump()
