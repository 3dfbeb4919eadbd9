"""When an API key was last used: shown to admins, written at most once a minute per key.

Hospitals' systems push many times a second, so the request never waits for this: each process
remembers when it last noted a key (no I/O for the rest of the minute), and the note itself
runs in a task of its own. Across processes, a Redis ``SET NX`` with a minute's expiry lets one
of them write; the UPDATE is conditional too (only a value a minute old is replaced), so even
without Redis a key's row is written at most once a minute per process. The write takes its own
short unit of work, never the figure writer's batch or its lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from capacity.auth.models import ApiKey
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

INTERVAL = 60.0  # seconds between two notes of one key
MAX_KEYS = 20_000


class KeyUsage:
    """One per process (made by ``api.deps``): ``seen`` is called on every keyed request."""

    def __init__(self, *, db: Database, redis: aioredis.Redis):
        self.db, self.redis = db, redis
        self.noted: dict[int, float] = {}  # key id -> monotonic time of this process's last note
        self.tasks: set[asyncio.Task[None]] = set()

    def seen(self, key_id: int) -> None:
        """Note that the key was used now; returns at once (the write, if due, runs apart)."""
        now = time.monotonic()
        last = self.noted.get(key_id)
        if last is not None and now - last < INTERVAL:
            return
        if len(self.noted) >= MAX_KEYS:
            self.noted.clear()
        self.noted[key_id] = now
        task = asyncio.get_running_loop().create_task(self._note(key_id), name="key-usage")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _note(self, key_id: int) -> None:
        try:
            first = await self.redis.set(keys.key_used(key_id), 1, nx=True, ex=int(INTERVAL))
        except REDIS_DOWN:
            first = True  # the conditional UPDATE below still keeps it to once a minute
        if not first:
            return  # another process noted it this minute
        now = datetime.now(UTC)
        try:
            async with self.db.unit_of_work() as uow:
                await uow.session.exec(
                    update(ApiKey)
                    .where(col(ApiKey.id) == key_id)
                    .where(
                        or_(
                            col(ApiKey.last_used_at).is_(None),
                            col(ApiKey.last_used_at) <= now - timedelta(seconds=INTERVAL),
                        )
                    )
                    .values(last_used_at=now)
                )
        except SQLAlchemyError as exc:  # a note lost is no harm; the next minute tries again
            log.warning("last use of API key %s not recorded: %s", key_id, exc)
            self.noted.pop(key_id, None)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
