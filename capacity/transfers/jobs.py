"""The deadline of transfer offers: pending offers past it become ``expired`` (no answer in time).

State lives in SQL (``deadline_at``), so a deadline that passed while every process was down
is expired at the first run after a restart. A run happens only in the process that takes the
Redis job lock (``capacity.storage.locks``), as for the other scheduled jobs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from capacity.availability.store import CapacityStore
from capacity.errors import NotFound, Unavailable
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.locks import job_lock
from capacity.storage.redis import REDIS_DOWN
from capacity.transfers import answers, live
from capacity.transfers.proposal import pictures_of

log = logging.getLogger(__name__)

JOB = "transfer-expiry"
LOCK_SECONDS = 10


async def expire_due(
    *, db: Database, store: CapacityStore, settings: Settings, now: datetime | None = None
) -> list[int]:
    """Expire every pending offer past its deadline, one request per transaction; the offers'
    ids. Each expiry is published once its transaction committed."""
    now = now or datetime.now(UTC)
    async with db.session() as session:
        due = await answers.due(session, now)
    done: list[int] = []
    for request_id in due:
        try:
            async with db.unit_of_work() as uow:
                request, expired = await answers.expire(
                    session=uow.session,
                    request_id=request_id,
                    pictures=pictures_of(db, store, settings, now),
                    now=now,
                )
                messages = await live.messages_for(uow.session, request, expired)
        except NotFound:  # the facility's region went away meanwhile: the next run retries
            continue
        await live.publish(store.redis, messages)
        done += [o.id for o in expired if o.id is not None]
    return done


async def run_locked(*, db: Database, store: CapacityStore, settings: Settings) -> list[int] | None:
    """Run ``expire_due`` if this process takes the lock; None if another process holds it."""
    try:
        async with job_lock(store.redis, JOB, seconds=LOCK_SECONDS) as held:
            if not held:
                return None
            done = await expire_due(db=db, store=store, settings=settings)
    except (SQLAlchemyError, Unavailable, *REDIS_DOWN) as exc:
        log.warning("transfer expiry run skipped: %s", exc)
        return None
    if done:
        log.info("transfer expiry: %d offers expired", len(done))
    return done
