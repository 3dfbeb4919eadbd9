"""Changes to a facility's capacity: figures, stops, and the scheduler's stale marks and expiries.

Each runs inside the caller's unit of work (a request's, or the scheduler's own), locks the
region before reading what it depends on, and ends in ``pipeline.finish``. Figures pushed by
hospitals go through the process's group-commit writer (``writer.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.availability.conflict import check_version, deactivated
from capacity.availability.models import CapacityUpdate, ChangeKind, Status, Stop, StopIn
from capacity.availability.pipeline import bump, change_row, finish, lock_region
from capacity.availability.state import active_stop, figures, rules_json, utcnow
from capacity.availability.store import CapacityStore
from capacity.availability.writer import FigureWriter
from capacity.errors import Conflict, InputError, NotFound
from capacity.facilities.models import Facility, Region
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database, UnitOfWork

MAX_STOP_DAYS = 31


async def facility_for_write(session: AsyncSession, facility_id: str) -> Facility:
    """The active facility, with its region locked for the change that follows.

    Read again under the lock: an admin may have deactivated or moved it meanwhile
    (``membership``). A move is answered 409 rather than locking the new region too, out of
    the global order (a deadlock with another writer).
    """
    facility = await session.get(Facility, facility_id)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    locked = facility.region
    await lock_region(session, locked)
    await session.refresh(facility)
    if not facility.active:
        raise deactivated(facility_id)
    if facility.region != locked:
        raise Conflict(
            messages.FACILITY_MOVED_MEANWHILE(facility=facility_id, region=facility.region)
        )
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
    measured: dict[str, datetime] | None = None,
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Accept absolute figures for some categories; the others are left as they are.

    Every accepted request is a change: figures sent again unchanged are confirmed, so their
    ``updated_at`` refreshes and the facility's ``version`` and the region's ``seq`` rise.
    Written by the process's group-commit writer (``writer.py``). ``measured`` (a bed list's
    ``measured_at``) dates a category's figure earlier than now; ``source`` goes to the audit.
    """
    return await figure_writer(db=db, store=store, settings=settings).submit(
        facility_id=facility_id,
        update_in=update_in,
        actor=actor,
        expected_version=expected_version,
        measured=measured,
        source=source,
    )


def figure_writer(*, db: Database, store: CapacityStore, settings: Settings) -> FigureWriter:
    """The process's figure writer for this database (made on first use)."""
    return FigureWriter.of(db, store, settings)


def check_until(stop_in: StopIn, now: datetime) -> None:
    if stop_in.until is None:
        return
    if stop_in.until <= now:
        raise InputError("until", messages.UNTIL_PAST())
    if stop_in.until > now + timedelta(days=MAX_STOP_DAYS):
        raise InputError("until", messages.UNTIL_TOO_FAR(days=MAX_STOP_DAYS))


async def declare_stop(
    *,
    uow: UnitOfWork,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    stop_in: StopIn,
    actor: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Declare a stop (volmelding), or change the reason or end of the one in force.

    With ``expected_version`` (If-Match), only if the facility is still at that version: it is
    compared under the region lock, before anything is written.
    """
    now = utcnow()
    check_until(stop_in, now)
    session = uow.session
    facility = await facility_for_write(session, facility_id)
    check_version(
        expected_version, facility.version, facility_id=facility.id, region=facility.region
    )
    stop = await active_stop(session, facility.id)
    seq, version = await bump(session, facility)
    if stop is None:
        stop = Stop(facility_id=facility.id, reason=stop_in.reason, since=now, declared_by=actor)
    stop.reason, stop.until = stop_in.reason, stop_in.until
    session.add(stop)
    session.add(
        change_row(
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
    return await finish(
        uow=uow,
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
    uow: UnitOfWork,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    actor: str,
    expired: bool = False,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any] | None:
    """Lift the stop in force; None when there is nothing to end (nothing changes then).

    For an expiry the stop's ``until`` is read again under the region lock: a ward that
    extended its stop after the scheduler found it due keeps it.
    """
    session = uow.session
    facility = await facility_for_write(session, facility_id)
    check_version(
        expected_version, facility.version, facility_id=facility.id, region=facility.region
    )
    stop = await active_stop(session, facility.id)
    now = now or utcnow()
    if stop is None or (expired and (stop.until is None or stop.until > now)):
        return None
    seq, version = await bump(session, facility)
    stop.ended_at, stop.ended_by = now, actor
    session.add(stop)
    session.add(
        change_row(
            facility,
            seq=seq,
            version=version,
            now=now,
            kind=ChangeKind.stop_expired if expired else ChangeKind.stop_lifted,
            actor=actor,
            stop_reason=stop.reason,
        )
    )
    return await finish(
        uow=uow,
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
    uow: UnitOfWork,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    now: datetime,
) -> dict[str, Any] | None:
    """Record that the facility's figures passed their region's freshness limit (scheduler).

    The figures are read under the region lock: one refreshed meanwhile is not marked.
    """
    session = uow.session
    facility = await facility_for_write(session, facility_id)
    region = await session.get(Region, facility.region)
    assert region is not None
    limit = timedelta(minutes=rules_json(region, settings)["freshness_limit_minutes"])
    due = [
        f
        for f in await figures(session, facility.id)
        if not f.stale and f.fresh_since <= now - limit
    ]
    if not due:
        return None
    seq, version = await bump(session, facility)
    for figure in due:
        figure.stale = True
        session.add(figure)
        session.add(
            change_row(
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
    return await finish(
        uow=uow,
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
