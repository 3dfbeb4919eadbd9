"""Reading the regional picture, and the scheduler's questions about what is due.

A read never writes: when Redis does not hold a region (restarted empty, evicted), the picture
is built from SQL in a read transaction and the region is queued for a rebuild by the process's
repairer, which takes the write lock in a task of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.availability import rules as rules_mod
from capacity.availability.models import CapacityFigure, Stop
from capacity.availability.pipeline import rebuild_region, repairs
from capacity.availability.state import iso, region_raws, rules_json, utcnow
from capacity.availability.store import CapacityStore
from capacity.errors import NotFound, Unavailable
from capacity.facilities.models import Facility, Region
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN


def _picture(
    region_id: str, seq: int, raws: dict[str, dict[str, Any]], rules: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "region": region_id,
        "seq": seq,
        "generated_at": iso(now),
        "facilities": [rules_mod.render(raw, rules, now) for _, raw in sorted(raws.items())],
    }


async def _from_sql(
    *, db: Database, settings: Settings, region_id: str, now: datetime
) -> dict[str, Any]:
    async with db.session() as session:
        region = await session.get(Region, region_id)
        if region is None:
            raise NotFound(messages.UNKNOWN_REGION(region=region_id))
        raws = await region_raws(session, region_id)
        return _picture(region_id, region.seq, raws, rules_json(region, settings), now)


async def region_capacity(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    region_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The regional picture of the contract, served from Redis (from SQL while Redis lacks it)."""
    now = now or utcnow()
    try:
        state = await store.read(region_id)
    except REDIS_DOWN as exc:
        raise Unavailable(messages.REDIS_UNREACHABLE()) from exc
    if state is None:
        repairs(db=db, store=store, settings=settings).request(region_id)
        return await _from_sql(db=db, settings=settings, region_id=region_id, now=now)
    return _picture(region_id, state.seq, state.facilities, state.rules, now)


async def facility_entry(
    *, db: Database, store: CapacityStore, settings: Settings, facility: Facility
) -> dict[str, Any]:
    """One facility's current entry (used when a request changed nothing)."""
    picture = await region_capacity(
        db=db, store=store, settings=settings, region_id=facility.region
    )
    for entry in picture["facilities"]:
        if entry["facility_id"] == facility.id:
            return dict(entry)
    raise NotFound(messages.UNKNOWN_FACILITY(facility=facility.id))


async def load_all(
    *, db: Database, store: CapacityStore, settings: Settings, every: bool = False
) -> int:
    """Make Redis match SQL for every region (at start, and when Redis came back empty); with
    ``every``, rebuild each region even where the seqs agree (Redis is another server now)."""
    async with db.session() as session:
        regions = list((await session.exec(select(Region))).all())
    rebuilt = 0
    for region in regions:
        redis_seq = await store.current_seq(region.id)
        if redis_seq == region.seq and not every:
            continue
        async with db.unit_of_work() as uow:
            await rebuild_region(
                session=uow.session,
                store=store,
                settings=settings,
                region_id=region.id,
                redis_seq=-1 if redis_seq is None else redis_seq,
            )
        rebuilt += 1
    await store.mark_loaded(iso(utcnow()))
    return rebuilt


async def due_for_expiry(
    *, session: AsyncSession, settings: Settings, now: datetime
) -> tuple[list[str], list[str]]:
    """Facilities with a figure past its freshness limit, and with a stop past its ``until``."""
    regions = {r.id: r for r in (await session.exec(select(Region))).all()}
    facilities = {f.id: f for f in (await session.exec(select(Facility))).all()}
    stale: set[str] = set()
    for figure in (
        await session.exec(select(CapacityFigure).where(CapacityFigure.stale == False))  # noqa: E712
    ).all():
        facility = facilities.get(figure.facility_id)
        if facility is None or not facility.active:
            continue
        limit = rules_json(regions[facility.region], settings)["freshness_limit_minutes"]
        if figure.fresh_since <= now - timedelta(minutes=limit):
            stale.add(figure.facility_id)
    ended = (
        await session.exec(
            select(Stop.facility_id).where(
                col(Stop.ended_at).is_(None), col(Stop.until).is_not(None), col(Stop.until) <= now
            )
        )
    ).all()
    # A deactivated facility's stop stays as it was (it takes no changes); it ends once the
    # facility is active again.
    ended_active = {f for f in ended if f in facilities and facilities[f].active}
    return sorted(stale), sorted(ended_active)
