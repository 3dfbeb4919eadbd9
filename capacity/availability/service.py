"""Accepting capacity figures and stops, and serving the regional picture.

The order of a change is fixed: in one SQL transaction the region's ``seq`` and the facility's
``version`` are raised (the UPDATE holds the region row lock; on SQLite the write transaction
holds the database lock), the figures, history and audit rows are written, then the change is
applied to Redis while that lock is still held, and then the transaction commits. Holding the
lock across the Redis step is what keeps Redis and the stream in ``seq`` order across processes.
If Redis is unreachable the transaction rolls back (503, nothing half-written); if the commit
fails after Redis took the change, the region is rebuilt from SQL under a newer ``seq``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.auth.service import InputError, shown_actor
from capacity.availability import rules as rules_mod
from capacity.availability.conflict import check_version
from capacity.availability.models import (
    CapacityChange,
    CapacityFigure,
    CapacityUpdate,
    ChangeKind,
    Status,
    Stop,
    StopIn,
)
from capacity.availability.store import CapacityStore
from capacity.availability.writer import FigureWriter
from capacity.facilities.models import Facility, Region
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

MAX_STOP_DAYS = 31


class Unavailable(Exception):
    """A part the service needs (database or Redis) is down; the change was not accepted (503)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# ---- building raw facility state from SQL ------------------------------------------------------


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
) -> dict[str, Any]:
    """What Redis keeps for one facility; ``rules.render`` turns it into the public entry.

    ``figures`` and ``stop`` are ORM objects or plain rows with the same column names;
    ``updated_by`` is who made the last change, as ``auth.service.shown_actor`` shows it.
    """
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
                "ts": f.updated_at.timestamp(),
                "stale": bool(f.stale),
            }
            for f in figures
            if str(f.category) in offered
        },
    }


async def _active_stop(session: AsyncSession, facility_id: str) -> Stop | None:
    query = select(Stop).where(Stop.facility_id == facility_id, col(Stop.ended_at).is_(None))
    return (await session.exec(query.order_by(col(Stop.id).desc()))).first()


async def _figures(session: AsyncSession, facility_id: str) -> list[CapacityFigure]:
    query = select(CapacityFigure).where(CapacityFigure.facility_id == facility_id)
    return list((await session.exec(query)).all())


async def _last_actor(session: AsyncSession, facility_id: str) -> str | None:
    """Who made the facility's last accepted change, from the history (survives a rebuild)."""
    query = select(CapacityChange.actor).where(CapacityChange.facility_id == facility_id)
    actor = (await session.exec(query.order_by(col(CapacityChange.id).desc()).limit(1))).first()
    return None if actor is None else shown_actor(actor, facility_id)


async def load_raw(session: AsyncSession, facility: Facility) -> dict[str, Any]:
    return facility_raw(
        facility_id=facility.id,
        version=facility.version,
        offered=set(facility.categories),
        figures=await _figures(session, facility.id),
        stop=await _active_stop(session, facility.id),
        updated_by=await _last_actor(session, facility.id),
    )


def facility_message(region: str, seq: int, entry: dict[str, Any]) -> bytes:
    """The live stream's ``facility`` message, encoded once for every client.

    ``at`` is when the change was accepted: the hub measures its fan-out lag from it.
    """
    return orjson.dumps(
        {"type": "facility", "region": region, "seq": seq, "at": iso(utcnow()), "facility": entry}
    )


def rules_json(region: Region, settings: Settings) -> dict[str, Any]:
    return rules_mod.thresholds(region, settings).model_dump()


# ---- the change pipeline -------------------------------------------------------------------


async def _bump(session: AsyncSession, facility: Facility) -> tuple[int, int]:
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


async def rebuild_region(
    *,
    session: AsyncSession,
    store: CapacityStore,
    settings: Settings,
    region_id: str,
    redis_seq: int = -1,
) -> int:
    """Write the region's whole picture from SQL into Redis under a seq newer than both sides.

    Clients see a ``reset`` entry in the stream and receive a fresh snapshot.
    """
    region = await session.get(Region, region_id)
    if region is None:
        raise LookupError(region_id)
    sql_seq = (await session.exec(select(Region.seq).where(Region.id == region_id))).one()
    seq = max(sql_seq, redis_seq) + 1
    await session.exec(update(Region).where(col(Region.id) == region_id).values(seq=seq))
    facilities = (
        await session.exec(
            select(Facility).where(Facility.region == region_id, Facility.active == True)  # noqa: E712
        )
    ).all()
    raws = {f.id: orjson.dumps(await load_raw(session, f)) for f in facilities}
    result = await store.rebuild(
        region=region_id, seq=seq, facilities=raws, rules=orjson.dumps(rules_json(region, settings))
    )
    if not result.applied:  # Redis went past us in the meantime (another process): go above it
        return await rebuild_region(
            session=session,
            store=store,
            settings=settings,
            region_id=region_id,
            redis_seq=result.current,
        )
    region.seq = seq
    log.info("rebuilt region %s in Redis at seq %s", region_id, seq)
    return seq


async def _publish(
    *,
    session: AsyncSession,
    store: CapacityStore,
    settings: Settings,
    facility: Facility,
    seq: int,
    now: datetime,
) -> dict[str, Any]:
    """Apply the facility's new state to Redis (lock still held); returns its public entry."""
    region = await session.get(Region, facility.region)
    assert region is not None
    raw = await load_raw(session, facility)
    entry = rules_mod.render(raw, rules_json(region, settings), now)
    message = facility_message(facility.region, seq, entry)
    await session.flush()
    try:
        result = await store.apply(
            region=facility.region,
            seq=seq,
            facility_id=facility.id,
            raw=orjson.dumps(raw),
            message=message,
        )
        if not result.applied:
            log.warning(
                "Redis holds seq %s for %s, SQL gave %s: rebuilding the region",
                result.current,
                facility.region,
                seq,
            )
            await rebuild_region(
                session=session,
                store=store,
                settings=settings,
                region_id=facility.region,
                redis_seq=result.current,
            )
    except REDIS_DOWN as exc:
        raise Unavailable("the live picture (Redis) is unreachable; nothing was changed") from exc
    return entry


async def repair_region(
    *, db: Database, store: CapacityStore, settings: Settings, region: str
) -> None:
    """Rebuild a region whose Redis picture no longer follows SQL, in a transaction of its own.

    A failure is logged, not raised: the watcher rebuilds what is still out of step.
    """
    try:
        async with db.write_session() as session:
            await rebuild_region(
                session=session,
                store=store,
                settings=settings,
                region_id=region,
                redis_seq=max(await store.current_seq(region) or 0, 0),
            )
            await session.commit()
    except (SQLAlchemyError, *REDIS_DOWN):
        log.exception("repair of %s failed; the watcher will rebuild it", region)


async def _commit(
    *, session: AsyncSession, db: Database, store: CapacityStore, settings: Settings, region: str
) -> None:
    try:
        await session.commit()
    except SQLAlchemyError as exc:
        log.error("commit failed after Redis took the change; rebuilding %s", region)
        await session.rollback()
        await repair_region(db=db, store=store, settings=settings, region=region)
        raise Unavailable("the database did not accept the change; nothing was changed") from exc


async def _finish(
    *,
    session: AsyncSession,
    db: Database,
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
    """The end of every single change: its audit row, Redis, the commit; the new entry."""
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity="facility",
        entity_id=facility.id,
        at=now,
        detail={"seq": seq, "version": version, **detail},
    )
    entry = await _publish(
        session=session, store=store, settings=settings, facility=facility, seq=seq, now=now
    )
    await _commit(session=session, db=db, store=store, settings=settings, region=facility.region)
    return entry


def _change(
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


async def _facility_for_write(session: AsyncSession, facility_id: str) -> Facility:
    facility = await session.get(Facility, facility_id)
    if facility is None or not facility.active:
        raise LookupError(f"unknown facility {facility_id!r}")
    return facility


async def update_capacity(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    update_in: CapacityUpdate,
    actor: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Accept absolute figures for some categories; the others are left as they are.

    Every accepted request is a change: figures sent again unchanged are confirmed, so their
    ``updated_at`` refreshes and the facility's ``version`` and the region's ``seq`` rise.
    Written by the process's group-commit writer (``writer.py``).
    """
    return await figure_writer(db=db, store=store, settings=settings).submit(
        facility_id=facility_id, update_in=update_in, actor=actor, expected_version=expected_version
    )


def figure_writer(*, db: Database, store: CapacityStore, settings: Settings) -> FigureWriter:
    """The process's writer for this database, made on first use and closed with the database."""
    writer: FigureWriter | None = getattr(db, "figure_writer", None)
    if writer is None:
        writer = FigureWriter(db, store, settings)
        db.figure_writer = writer  # type: ignore[attr-defined]
        db.on_dispose.append(writer.close)
    return writer


async def declare_stop(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    stop_in: StopIn,
    actor: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Declare a stop (volmelding), or change the reason or end of the one in force."""
    now = utcnow()
    if stop_in.until is not None:
        if stop_in.until <= now:
            raise InputError("until", "until lies in the past; give a future time or null")
        if stop_in.until > now + timedelta(days=MAX_STOP_DAYS):
            raise InputError("until", f"until may lie at most {MAX_STOP_DAYS} days ahead")
    async with db.write_session() as session:
        facility = await _facility_for_write(session, facility_id)
        seq, version = await _bump(session, facility)
        # The bump returned the version after waiting for the region lock: compared there, a
        # conflict rolls the whole transaction back.
        check_version(
            expected_version, version - 1, facility_id=facility.id, region=facility.region
        )
        stop = await _active_stop(session, facility.id)
        if stop is None:
            stop = Stop(
                facility_id=facility.id, reason=stop_in.reason, since=now, declared_by=actor
            )
        stop.reason, stop.until = stop_in.reason, stop_in.until
        session.add(stop)
        session.add(
            _change(
                facility,
                seq=seq,
                version=version,
                now=now,
                kind=ChangeKind.stop_declared,
                actor=actor,
                stop_reason=stop_in.reason,
                stop_until=stop_in.until,
                status=Status.stop,
            )
        )
        return await _finish(
            session=session,
            db=db,
            store=store,
            settings=settings,
            facility=facility,
            seq=seq,
            version=version,
            now=now,
            actor=actor,
            action="stop.declare",
            detail=stop_in.model_dump(mode="json"),
        )


async def end_stop(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    actor: str,
    expired: bool = False,
    expected_version: int | None = None,
) -> dict[str, Any] | None:
    """Lift the stop in force; None when there was none (nothing changes then)."""
    async with db.write_session() as session:
        facility = await _facility_for_write(session, facility_id)
        stop = await _active_stop(session, facility.id)
        if stop is None:  # nothing to change, so nothing to lose: the version as read
            check_version(
                expected_version, facility.version, facility_id=facility.id, region=facility.region
            )
            return None
        seq, version = await _bump(session, facility)
        check_version(
            expected_version, version - 1, facility_id=facility.id, region=facility.region
        )
        now = utcnow()
        stop.ended_at, stop.ended_by = now, actor
        session.add(stop)
        kind = ChangeKind.stop_expired if expired else ChangeKind.stop_lifted
        session.add(
            _change(
                facility,
                seq=seq,
                version=version,
                now=now,
                kind=kind,
                actor=actor,
                stop_reason=stop.reason,
            )
        )
        return await _finish(
            session=session,
            db=db,
            store=store,
            settings=settings,
            facility=facility,
            seq=seq,
            version=version,
            now=now,
            actor=actor,
            action=f"stop.{'expire' if expired else 'lift'}",
            detail={"stop_id": stop.id},
        )


async def mark_stale(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    now: datetime,
) -> dict[str, Any] | None:
    """Record that the facility's figures passed their region's freshness limit (scheduler)."""
    async with db.write_session() as session:
        facility = await _facility_for_write(session, facility_id)
        region = await session.get(Region, facility.region)
        assert region is not None
        limit = timedelta(minutes=rules_json(region, settings)["freshness_limit_minutes"])
        due = [
            f
            for f in await _figures(session, facility.id)
            if not f.stale and f.updated_at <= now - limit
        ]
        if not due:
            return None
        seq, version = await _bump(session, facility)
        for figure in due:
            figure.stale = True
            session.add(figure)
            session.add(
                _change(
                    facility,
                    seq=seq,
                    version=version,
                    now=now,
                    kind=ChangeKind.stale,
                    actor="system:scheduler",
                    category=figure.category,
                    available=figure.available,
                    staffed=figure.staffed,
                    status=Status.unknown,
                )
            )
        return await _finish(
            session=session,
            db=db,
            store=store,
            settings=settings,
            facility=facility,
            seq=seq,
            version=version,
            now=now,
            actor="system:scheduler",
            action="capacity.stale",
            detail={"categories": [f.category for f in due]},
        )


# ---- reading -------------------------------------------------------------------------------


async def ensure_region(
    *, db: Database, store: CapacityStore, settings: Settings, region_id: str
) -> None:
    """Build the region's picture from SQL if Redis does not hold it (empty after a restart)."""
    async with db.write_session() as session:
        if await store.current_seq(region_id) is not None:
            return
        await rebuild_region(session=session, store=store, settings=settings, region_id=region_id)
        await session.commit()


async def load_all(*, db: Database, store: CapacityStore, settings: Settings) -> int:
    """Make Redis match SQL for every region (at start, and when Redis came back empty)."""
    async with db.session() as session:
        regions = list((await session.exec(select(Region))).all())
    rebuilt = 0
    for region in regions:
        redis_seq = await store.current_seq(region.id)
        if redis_seq == region.seq:
            continue
        async with db.write_session() as session:
            await rebuild_region(
                session=session,
                store=store,
                settings=settings,
                region_id=region.id,
                redis_seq=-1 if redis_seq is None else redis_seq,
            )
            await session.commit()
        rebuilt += 1
    await store.mark_loaded(iso(utcnow()))
    return rebuilt


async def region_capacity(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    region_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The regional picture of the contract, served from Redis."""
    try:
        state = await store.read(region_id)
        if state is None:
            await ensure_region(db=db, store=store, settings=settings, region_id=region_id)
            state = await store.read(region_id)
    except REDIS_DOWN as exc:
        raise Unavailable("the live picture (Redis) is unreachable") from exc
    if state is None:
        raise Unavailable("the live picture could not be built")
    now = now or utcnow()
    return {
        "region": region_id,
        "seq": state.seq,
        "generated_at": iso(now),
        "facilities": [
            rules_mod.render(raw, state.rules, now) for _, raw in sorted(state.facilities.items())
        ],
    }


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
    raise LookupError(facility.id)


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
        if figure.updated_at <= now - timedelta(minutes=limit):
            stale.add(figure.facility_id)
    ended = (
        await session.exec(
            select(Stop.facility_id).where(
                col(Stop.ended_at).is_(None), col(Stop.until).is_not(None), col(Stop.until) <= now
            )
        )
    ).all()
    return sorted(stale), sorted(set(ended))
