"""The steps every capacity change takes, and the repair of a region Redis no longer follows.

Inside one unit of work: lock the region, raise its ``seq`` and the facility's ``version``, write
the rows, flush, apply the change to Redis (one Lua script, in ``seq`` order because the lock is
held), and let the unit of work commit. From the moment the apply is sent, any failure (no answer
from Redis, a refused commit) leaves the Redis picture in doubt: the region is then rebuilt from
SQL by the process's repairer, which retries until Redis takes it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.availability import rules as rules_mod
from capacity.availability.models import CapacityChange, ChangeKind
from capacity.availability.state import facility_message, load_raw, region_raws, rules_json
from capacity.availability.store import CapacityStore
from capacity.errors import NotFound, Unavailable
from capacity.facilities.models import Facility, Region
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database, UnitOfWork
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)


async def lock_region(session: AsyncSession, region_id: str) -> None:
    """Take the region's row lock (PostgreSQL) before reading what a change depends on."""
    await session.exec(update(Region).where(col(Region.id) == region_id).values(seq=Region.seq))


async def bump(session: AsyncSession, facility: Facility) -> tuple[int, int]:
    """Raise the region's seq (taking its row lock) and the facility's version."""
    seq = (
        await session.exec(
            update(Region)
            .where(col(Region.id) == facility.region)
            .values(seq=col(Region.seq) + 1)
            .returning(col(Region.seq))
        )
    ).scalar_one()
    version = (
        await session.exec(
            update(Facility)
            .where(col(Facility.id) == facility.id)
            .values(version=col(Facility.version) + 1)
            .returning(col(Facility.version))
        )
    ).scalar_one()
    facility.version = version
    return int(seq), int(version)


def change_row(
    facility: Facility,
    *,
    seq: int,
    version: int,
    now: datetime,
    kind: ChangeKind,
    actor: str,
    **fields: Any,
) -> CapacityChange:
    """A history row of one of the facility's changes."""
    return CapacityChange(
        at=now,
        region=facility.region,
        facility_id=facility.id,
        seq=seq,
        version=version,
        kind=kind,
        actor=actor,
        **fields,
    )


async def rebuild_region(
    *,
    session: AsyncSession,
    store: CapacityStore,
    settings: Settings,
    region_id: str,
    redis_seq: int = -1,
) -> int:
    """Write the region's whole picture from SQL into Redis under a seq newer than both sides.

    Clients see a ``reset`` entry in the stream and receive a fresh snapshot. The caller's unit
    of work commits the new seq.
    """
    region = await session.get(Region, region_id)
    if region is None:
        raise NotFound(messages.UNKNOWN_REGION(region=region_id))
    while True:
        sql_seq = (await session.exec(select(Region.seq).where(Region.id == region_id))).one()
        seq = max(sql_seq, redis_seq) + 1
        await session.exec(update(Region).where(col(Region.id) == region_id).values(seq=seq))
        raws = {
            fid: orjson.dumps(raw) for fid, raw in (await region_raws(session, region_id)).items()
        }
        result = await store.rebuild(
            region=region_id,
            seq=seq,
            facilities=raws,
            rules=orjson.dumps(rules_json(region, settings)),
        )
        if result.applied:
            region.seq = seq
            log.info("rebuilt region %s in Redis at seq %s", region_id, seq)
            return seq
        redis_seq = result.current  # Redis went past us meanwhile (another process): go above


async def rebuild_in(
    *, uow: UnitOfWork, store: CapacityStore, settings: Settings, region_id: str
) -> int:
    """Rebuild a region inside the caller's unit of work (a facility added, changed or moved);
    should that not commit, the region is rebuilt again from what SQL kept."""
    repairer = repairs(db=uow.db, store=store, settings=settings)
    uow.on_failure(lambda: repairer.request(region_id))
    try:
        return await rebuild_region(
            session=uow.session, store=store, settings=settings, region_id=region_id
        )
    except REDIS_DOWN as exc:
        raise Unavailable(messages.REDIS_UNREACHABLE_UNCHANGED()) from exc


async def repair_region(
    *, db: Database, store: CapacityStore, settings: Settings, region: str
) -> None:
    """Rebuild one region in a unit of work of its own (after the caller's lock is released)."""
    async with db.unit_of_work() as uow:
        current = await store.current_seq(region)
        await rebuild_region(
            session=uow.session,
            store=store,
            settings=settings,
            region_id=region,
            redis_seq=max(current or 0, 0),
        )


class Repairs:
    """Regions whose Redis picture is in doubt; one task per process rebuilds them from SQL,
    retrying with backoff until Redis takes them."""

    def __init__(self, db: Database, store: CapacityStore, settings: Settings):
        self.db, self.store, self.settings = db, store, settings
        self.pending: set[str] = set()
        self.task: asyncio.Task[None] | None = None

    def request(self, region: str) -> None:
        """Queue ``region`` for a rebuild (never blocks; safe while the write lock is held)."""
        self.pending.add(region)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="capacity-repair")

    async def _run(self) -> None:
        delay = 0.2
        while self.pending:
            region = sorted(self.pending)[0]
            try:
                await repair_region(
                    db=self.db, store=self.store, settings=self.settings, region=region
                )
            except (SQLAlchemyError, Unavailable, NotFound, *REDIS_DOWN) as exc:
                log.warning("repair of %s failed (%s); retrying in %.1f s", region, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.pending.discard(region)
            delay = 0.2

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def repairs(*, db: Database, store: CapacityStore, settings: Settings) -> Repairs:
    """The process's repairer for this database, made on first use and closed with it."""
    made: Repairs | None = getattr(db, "repairs", None)
    if made is None or made.store is not store:
        made = Repairs(db, store, settings)
        db.repairs = made  # type: ignore[attr-defined]
        db.on_dispose.append(made.close)
    return made


async def publish(
    *,
    uow: UnitOfWork,
    store: CapacityStore,
    settings: Settings,
    facility: Facility,
    seq: int,
    now: datetime,
) -> dict[str, Any]:
    """Apply the facility's new state to Redis (region lock held); returns its public entry.

    From here on a failure leaves Redis in doubt, so the region is queued for a rebuild should
    the unit of work not commit.
    """
    session = uow.session
    region = await session.get(Region, facility.region)
    assert region is not None
    raw = await load_raw(session, facility)
    entry = rules_mod.render(raw, rules_json(region, settings), now)
    message = facility_message(facility.region, seq, entry)
    await session.flush()
    repairer = repairs(db=uow.db, store=store, settings=settings)
    uow.on_failure(lambda: repairer.request(facility.region))
    try:
        result = await store.apply(
            region=facility.region,
            seq=seq,
            facility_id=facility.id,
            raw=orjson.dumps(raw),
            message=message,
        )
    except REDIS_DOWN as exc:
        raise Unavailable(messages.REDIS_UNREACHABLE_UNCHANGED()) from exc
    if not result.applied:
        log.warning(
            "Redis holds seq %s for %s, SQL gave %s: rebuilding the region",
            result.current,
            facility.region,
            seq,
        )
        try:
            await rebuild_region(
                session=session,
                store=store,
                settings=settings,
                region_id=facility.region,
                redis_seq=result.current,
            )
        except REDIS_DOWN as exc:
            raise Unavailable(messages.REDIS_UNREACHABLE_UNCHANGED()) from exc
    return entry


async def finish(
    *,
    uow: UnitOfWork,
    store: CapacityStore,
    settings: Settings,
    facility: Facility,
    seq: int,
    version: int,
    now: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """The end of every single change: its audit row and the Redis apply; the new entry.

    The unit of work commits (or, failing, has the region repaired).
    """
    audit.record(
        session=uow.session,
        actor=actor,
        action=action,
        entity="facility",
        entity_id=facility.id,
        at=now,
        detail={"seq": seq, "version": version, **detail},
    )
    return await publish(
        uow=uow, store=store, settings=settings, facility=facility, seq=seq, now=now
    )
