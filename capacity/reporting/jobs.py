"""Scheduled reporting: on the first of each month, the previous month's report per region;
every night (and soon after start) the finished days of capacity over time (``capacity_daily``).

Every process schedules the jobs; only the one that takes the Redis lock runs each, and a month
already reported is not generated again by the scheduler (the command line can regenerate).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from capacity.availability.store import CapacityStore
from capacity.facilities.models import Region
from capacity.refusals.service import LOCAL
from capacity.reporting import history, reports
from capacity.reporting.models import RefusalReport
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.locks import job_lock
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)


async def monthly_reports(
    *, db: Database, settings: Settings, now: datetime | None = None
) -> list[str]:
    """Generate the previous (local) month's report for every region that has none yet."""
    now = now or datetime.now(UTC)
    month = reports.previous_month(now.astimezone(LOCAL).date())
    made: list[str] = []
    async with db.session() as session:
        regions = [r.id for r in (await session.exec(select(Region).order_by(Region.id))).all()]
    for region in regions:
        async with db.write_session() as session:
            query = select(RefusalReport.id).where(
                RefusalReport.region == region, RefusalReport.month == month
            )
            if (await session.exec(query)).first() is not None:
                continue
            await reports.generate(
                session=session,
                settings=settings,
                region=region,
                month=month,
                actor="system:scheduler",
                now=now,
            )
            await session.commit()
            made.append(region)
    return made


async def run_locked(
    *, db: Database, store: CapacityStore, settings: Settings, lock_seconds: int = 3600
) -> list[str] | None:
    """Run ``monthly_reports`` if this process takes the lock; None if another holds it."""
    try:
        async with job_lock(store.redis, "monthly-report", seconds=lock_seconds) as held:
            if not held:
                return None
            made = await monthly_reports(db=db, settings=settings)
    except (SQLAlchemyError, *REDIS_DOWN) as exc:
        log.warning("monthly report run failed: %s", exc)
        return None
    log.info("monthly reports generated for %s", ", ".join(made) or "no region")
    return made


async def daily_locked(
    *, db: Database, store: CapacityStore, settings: Settings, lock_seconds: int = 600
) -> int | None:
    """Aggregate the finished days if this process takes the lock; None if another holds it.

    The lock keeps two schedulers from doing the work twice; were it lost, the second run
    still adds nothing (``history.aggregate_region`` claims each region's days first).
    """
    try:
        async with job_lock(store.redis, "capacity-daily", seconds=lock_seconds) as held:
            if not held:
                return None
            days = await history.aggregate(db=db, settings=settings)
    except (SQLAlchemyError, *REDIS_DOWN) as exc:
        log.warning("capacity-daily run failed: %s", exc)
        return None
    log.info("capacity-daily: %d region-days aggregated", days)
    return days


def schedule(scheduler: Any, **deps: Any) -> None:
    """Add the monthly report (the 1st of each month, 02:00 Dutch time) and capacity-daily
    (00:30 Dutch time, after the day has ended, and a minute after start: the first run
    backfills the history)."""
    scheduler.add_job(
        daily_locked,
        "cron",
        hour=0,
        minute=30,
        timezone=LOCAL,
        kwargs=deps,
        id="capacity-daily",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=12 * 3600,
        next_run_time=datetime.now(UTC) + timedelta(minutes=1),
    )
    scheduler.add_job(
        run_locked,
        "cron",
        day=1,
        hour=2,
        minute=0,
        timezone=LOCAL,
        kwargs=deps,
        id="monthly-report",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
