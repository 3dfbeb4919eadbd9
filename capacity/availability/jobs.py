"""Time-driven changes: figures turning stale and stops reaching their end; overdue reporters.

The jobs run in the app process (``CAPACITY_SCHEDULER=true``, the default) or in a process of
their own (``capacity scheduler``). Wherever they are scheduled, a run happens only in the process
that takes the Redis lock for it, so two processes (or two schedulers) never both run it.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from capacity.alerts import delivery
from capacity.alerts import overdue as alert_overdue
from capacity.availability import rules, service
from capacity.availability.models import CapacityFigure
from capacity.availability.store import CapacityStore
from capacity.errors import Conflict, Unavailable
from capacity.facilities.models import Facility, Region
from capacity.reporting import jobs as reporting_jobs
from capacity.settings import Settings
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.locks import job_lock
from capacity.storage.redis import REDIS_DOWN
from capacity.transfers import jobs as transfer_jobs

log = logging.getLogger(__name__)

# Short, and renewed while a run lasts: a scheduler killed mid-run holds the job up this long.
LOCK_SECONDS = 10


@dataclass(slots=True)
class ExpiryResult:
    stale: list[str]
    stops_ended: list[str]
    overdue: dict[str, list[str]] = field(default_factory=dict)  # region -> facility ids


async def expire_due(
    *, db: Database, store: CapacityStore, settings: Settings, now: datetime | None = None
) -> ExpiryResult:
    """Turn figures stale and end stops whose time has come; each is a change with its own seq."""
    now = now or service.utcnow()
    async with db.session() as session:
        stale, ended = await service.due_for_expiry(session=session, settings=settings, now=now)
    for facility_id in ended:
        # An admin may deactivate or move the facility meanwhile (409): left for the next run.
        with contextlib.suppress(Conflict):
            async with db.unit_of_work() as uow:
                await service.end_stop(
                    uow=uow,
                    store=store,
                    settings=settings,
                    facility_id=facility_id,
                    actor="system:scheduler",
                    expired=True,
                    now=now,
                )
    for facility_id in stale:
        with contextlib.suppress(Conflict):
            async with db.unit_of_work() as uow:
                await service.mark_stale(
                    uow=uow, store=store, settings=settings, facility_id=facility_id, now=now
                )
    overdue = await record_overdue(db=db, store=store, settings=settings, now=now)
    return ExpiryResult(stale=stale, stops_ended=ended, overdue=overdue)


async def record_overdue(
    *, db: Database, store: CapacityStore, settings: Settings, now: datetime
) -> dict[str, list[str]]:
    """Keep per region the set of facilities with no fresh figure at all (for reminders)."""
    async with db.session() as session:
        regions = {r.id: r for r in (await session.exec(select(Region))).all()}
        active = select(Facility).where(Facility.active == True)  # noqa: E712
        facilities = (await session.exec(active)).all()
        fresh = select(CapacityFigure).where(CapacityFigure.stale == False)  # noqa: E712
        figures = (await session.exec(fresh)).all()
    latest: dict[str, datetime] = {}
    for figure in figures:
        known = latest.get(figure.facility_id)
        if known is None or figure.fresh_since > known:
            latest[figure.facility_id] = figure.fresh_since
    overdue: dict[str, list[str]] = {region: [] for region in regions}
    since: dict[str, datetime] = {}
    for facility in facilities:
        limit = rules.thresholds(regions[facility.region], settings).freshness_limit_minutes
        newest = latest.get(facility.id)
        if newest is None or newest <= now - timedelta(minutes=limit):
            overdue[facility.region].append(facility.id)
            since[facility.id] = now if newest is None else newest + timedelta(minutes=limit)
    pipe = store.redis.pipeline(transaction=True)
    for region, ids in overdue.items():
        pipe.delete(keys.overdue_reporters(region))
        if ids:
            pipe.sadd(keys.overdue_reporters(region), *ids)
    await pipe.execute()
    await alert_overdue.record_episodes(db=db, overdue=overdue, since=since)
    return {region: sorted(ids) for region, ids in overdue.items() if ids}


async def run_locked(
    *, db: Database, store: CapacityStore, settings: Settings, lock_seconds: int = LOCK_SECONDS
) -> ExpiryResult | None:
    """Run ``expire_due`` if this process takes the lock; None if another process holds it."""
    try:
        async with job_lock(store.redis, "expire", seconds=lock_seconds) as held:
            if not held:
                return None
            result = await expire_due(db=db, store=store, settings=settings)
    except (SQLAlchemyError, Unavailable, *REDIS_DOWN) as exc:
        log.warning("expiry run skipped: %s", exc)
        return None
    if result.stale or result.stops_ended:
        log.info(
            "expiry: %d facilities stale, %d stops ended",
            len(result.stale),
            len(result.stops_ended),
        )
    return result


def scheduler(*, db: Database, store: CapacityStore, settings: Settings) -> AsyncIOScheduler:
    """Every scheduled job: staleness, stop expiry, overdue reporters, alert delivery; reports."""
    made = AsyncIOScheduler(timezone="UTC")
    made.add_job(
        run_locked,
        "interval",
        seconds=settings.expiry_interval_seconds,
        kwargs={"db": db, "store": store, "settings": settings},
        id="expire",
        max_instances=1,
        coalesce=True,
    )
    made.add_job(
        transfer_jobs.run_locked,
        "interval",
        seconds=settings.transfer_expiry_interval_seconds,
        kwargs={"db": db, "store": store, "settings": settings},
        id=transfer_jobs.JOB,
        max_instances=1,
        coalesce=True,
    )
    made.add_job(
        delivery.run_locked,
        "interval",
        seconds=settings.alert_drain_seconds,
        kwargs={"db": db, "redis": store.redis, "settings": settings},
        id="alerts",
        max_instances=1,
        coalesce=True,
    )
    reporting_jobs.schedule(made, db=db, store=store, settings=settings)
    return made
