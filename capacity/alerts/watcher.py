"""Every process follows the region streams and fires the alerts whose condition starts holding.

On each batch of a region's changes the watcher reads the region's picture once (with its seq)
and evaluates the region's subscriptions. All processes do the same work; ``AlertStore.transition``
lets exactly one of them fire each transition, and the unique outbox row backs that up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from capacity.alerts import delivery, service
from capacity.alerts.conditions import CONDITIONS
from capacity.alerts.models import AlertRule, AlertSubscription
from capacity.alerts.store import AlertStore
from capacity.availability.store import CapacityStore
from capacity.facilities.models import Facility
from capacity.i18n import messages
from capacity.i18n.text import Said
from capacity.settings import Settings
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

BLOCK_MS = 1000


def describe(sub: AlertSubscription, facts: dict[str, Any], name: str) -> Said:
    if sub.rule is AlertRule.facility_stop:
        return messages.ALERT_STOP(facility=name)
    if sub.rule is AlertRule.facility_stale:
        return messages.ALERT_STALE(facility=name)
    return messages.ALERT_FREE_BELOW(
        region=sub.region, free=facts["free"], category=sub.category, threshold=sub.threshold
    )


class AlertWatcher:
    """One per process: reads the streams of the regions anybody subscribed to."""

    def __init__(
        self, *, db: Database, store: CapacityStore, redis: aioredis.Redis, settings: Settings
    ):
        self.db, self.store, self.settings = db, store, settings
        self.kicks: set[asyncio.Task[Any]] = set()
        self.alerts = AlertStore(redis)
        self.redis = redis
        self.generation: int | None = None
        self.subs: dict[str, list[AlertSubscription]] = {}
        self.names: dict[str, str] = {}
        self.last: dict[str, bytes | str] = {}
        self.task: asyncio.Task[None] | None = None
        self.stopping = False

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name="alert-watcher")

    async def stop(self) -> None:
        # A cancel that lands as a blocking read times out can be swallowed (the timeout turns
        # it into a TimeoutError): the flag ends the loop all the same, within one read.
        self.stopping = True
        for task in [self.task, *self.kicks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def kick(self) -> None:
        """Drain the outbox now (if no other process is at it) rather than at the next tick."""
        run = delivery.run_locked(db=self.db, redis=self.redis, settings=self.settings)
        task = asyncio.get_running_loop().create_task(run, name="alert-delivery")
        self.kicks.add(task)
        task.add_done_callback(self.kicks.discard)

    async def _run(self) -> None:
        delay = 0.2
        while not self.stopping:
            try:
                await self.step()
                delay = 0.2
            except (SQLAlchemyError, OSError, *REDIS_DOWN) as exc:
                log.warning("alert watcher: %s; retrying in %.1f s", exc, delay)
                self.generation = None  # Redis may have come back empty: start over
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _reload(self) -> None:
        async with self.db.session() as session:
            live = select(AlertSubscription).where(col(AlertSubscription.deleted_at).is_(None))
            subs = (await session.exec(live)).all()
            self.names = dict((await session.exec(select(Facility.id, Facility.name))).all())
        by_region: dict[str, list[AlertSubscription]] = defaultdict(list)
        for sub in subs:
            if sub.rule in CONDITIONS:
                by_region[sub.region].append(sub)
        self.subs = dict(by_region)
        for region in self.subs:  # from the stream's end: the evaluation below covers the rest
            last: Any = await self.redis.xrevrange(keys.region_stream(region), count=1)
            self.last[region] = last[0][0] if last else "0-0"

    async def step(self) -> None:
        """Reload the subscriptions if they changed, then wait up to a second for changes."""
        generation = await self.alerts.subscriptions_generation()
        if generation != self.generation:
            await self._reload()
            self.generation = generation
            for region in self.subs:
                await self.evaluate(region)
        if not self.subs:
            await asyncio.sleep(BLOCK_MS / 1000)
            return
        streams: dict[Any, Any] = {keys.region_stream(r): self.last[r] for r in self.subs}
        read: Any = await self.redis.xread(streams, count=500, block=BLOCK_MS)
        for stream, entries in read or []:
            name = stream.decode() if isinstance(stream, bytes) else stream
            region = next(r for r in self.subs if keys.region_stream(r) == name)
            self.last[region] = entries[-1][0]
            await self.evaluate(region)

    async def evaluate(self, region: str) -> int:
        """Evaluate the region's subscriptions on its picture now; returns how many fired."""
        state = await self.store.read(region)
        if state is None:
            return 0
        now = service.utcnow()
        fired = 0
        for sub in self.subs.get(region, []):
            facts = CONDITIONS[sub.rule](sub, state.facilities, now)
            holds = facts is not None
            edge = await self.alerts.transition(
                subscription=sub.id or 0, subject=sub.rule.value, seq=state.seq, holds=holds
            )
            if not edge or facts is None:
                continue
            name = self.names.get(sub.facility_id or "", sub.facility_id or "")
            text = describe(sub, facts, name)
            payload = {
                "region": region,
                "facility_id": sub.facility_id,
                "category": sub.category,
                "threshold": sub.threshold,
                "seq": state.seq,
                "at": now.isoformat(),
                "facts": facts,
                "text": {"en": str(text), "nl": text.nl},
            }
            event_key = f"{sub.rule.value}:{region}:{state.seq}"
            fired += await service.fire(db=self.db, sub=sub, event_key=event_key, payload=payload)
        if fired:
            self.kick()
        return fired


async def baseline(*, store: CapacityStore, redis: aioredis.Redis, sub: AlertSubscription) -> None:
    """Record whether a new subscription's condition holds now, so that it fires at the next
    transition into it (not at once, nor on a change made before it existed)."""
    condition = CONDITIONS.get(sub.rule)
    state = await store.read(sub.region)
    if condition is None or state is None:
        return
    holds = condition(sub, state.facilities, service.utcnow()) is not None
    await AlertStore(redis).transition(
        subscription=sub.id or 0, subject=sub.rule.value, seq=state.seq, holds=holds
    )
