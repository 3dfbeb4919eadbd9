"""Live streams end when the token they were opened with stops being valid.

A token is checked when the socket opens; after that, one task per process (not one per socket)
keeps the open streams honest:

- at the token's expiry an event-loop timer ends the stream;
- every second it reads the revocation generation in Redis (``capacity.auth.access``): when another
  value is there (an account deactivated, its tokens revoked, in whichever process), it reads
  ``active`` and ``token_generation`` of every account with an open stream here, in one query
  per 500 accounts, and ends the streams of accounts that lost access;
- every ``MAX_AGE_SECONDS`` it reads them anyway, and every second while Redis is unreachable:
  a revocation that could not be announced still ends the stream.

A stream ended so is closed with ``CLOSE_BAD_TOKEN`` (4401): sign in again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from capacity.auth.access import MAX_AGE_SECONDS
from capacity.auth.models import Principal, User
from capacity.realtime import messages
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

INTERVAL = 1.0
CHUNK = 500  # account ids per query (well below any database's parameter limit)
_UNSEEN = object()  # no generation seen yet: the next round reads SQL


@dataclass(eq=False)
class Watch:
    """One open stream: its account, its token's generation, and how to end it."""

    account: int
    generation: int
    end: Callable[[int], None]
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class SessionGuard:
    """One per process, started in the lifespan; streams register with ``watch``."""

    def __init__(self, *, db: Database, redis: aioredis.Redis, interval: float = INTERVAL):
        self.db, self.redis, self.interval = db, redis, interval
        self.watched: dict[int, set[Watch]] = {}
        self.seen: object = _UNSEEN
        self.checked_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def watch(self, principal: Principal, end: Callable[[int], None]) -> Watch:
        """Call ``end(CLOSE_BAD_TOKEN)`` once the principal's token expires or is revoked."""
        entry = Watch(principal.id, principal.generation, end)
        if principal.expires != float("inf"):
            delay = max(0.0, principal.expires - time.time())
            entry.timer = asyncio.get_running_loop().call_later(
                delay, end, messages.CLOSE_BAD_TOKEN
            )
        self.watched.setdefault(principal.id, set()).add(entry)
        return entry

    def forget(self, entry: Watch) -> None:
        if entry.timer is not None:
            entry.timer.cancel()
        entries = self.watched.get(entry.account)
        if entries is not None:
            entries.discard(entry)
            if not entries:
                del self.watched[entry.account]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="session-guard")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for entries in list(self.watched.values()):
            for entry in list(entries):
                self.forget(entry)

    async def _run(self) -> None:
        me = asyncio.current_task()
        while me is None or not me.cancelling():
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except (SQLAlchemyError, *REDIS_DOWN) as exc:
                self.seen = _UNSEEN  # read again next round
                log.debug("session guard: %s", exc)
            except Exception:  # the guard must outlive any single failure
                self.seen = _UNSEEN
                log.exception("session guard failed; retrying")

    async def check(self) -> None:
        """One round: end the streams of accounts that lost access since the last one."""
        if not self.watched:
            self.seen = _UNSEEN  # nothing watched: the first stream to come gets a fresh look
            return
        try:
            current: object = await self.redis.get(keys.auth_generation())
        except REDIS_DOWN:
            current = _UNSEEN  # a revocation may be going unannounced: read SQL every round
        now = time.monotonic()
        if (
            current is not _UNSEEN
            and current == self.seen
            and now < self.checked_at + MAX_AGE_SECONDS
        ):
            return
        # Remember the value read before SQL: a revocation announced meanwhile gets a round.
        self.seen, self.checked_at = current, now
        ids = list(self.watched)
        accounts: dict[int, tuple[bool, int]] = {}
        async with self.db.session() as session:
            for start in range(0, len(ids), CHUNK):
                query = select(User.id, User.active, User.token_generation).where(
                    col(User.id).in_(ids[start : start + CHUNK])
                )
                for account, active, generation in (await session.exec(query)).all():
                    assert account is not None
                    accounts[account] = (bool(active), int(generation))
        ended = 0
        for account in ids:
            active, generation = accounts.get(account, (False, 0))
            for entry in list(self.watched.get(account, ())):
                # A newer token than the row read (issued since) is not revoked.
                if not active or entry.generation < generation:
                    self.forget(entry)
                    entry.end(messages.CLOSE_BAD_TOKEN)
                    ended += 1
        if ended:
            log.info("session guard: ended %d live streams of revoked accounts", ended)
