"""The hub: one upstream per process, fanned out to every local client of a region.

For each region that has clients in this process, one reader task blocks on ``XREAD`` of the
region's stream (entry ids are ``<seq>-0``), decodes each entry once and hands the same string
to every client's bounded buffer. The hub never awaits a client: a client whose buffer is full
is dropped from the feed and its writer closes it with ``CLOSE_TOO_SLOW``.

A ``reset`` entry (the region was rebuilt from SQL), a gap in the seqs (entries lost while Redis
was away) or a stream that went backwards after a reconnect turn into a resync item: every
client then receives a fresh snapshot. When the watcher finds another Redis server answering (a
Sentinel failover), ``server_changed`` moves every reader to it as after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis.asyncio as aioredis

from capacity.observability.metrics import FANOUT_LAG, REDIS_RECONNECTS
from capacity.realtime.messages import PING_ITEM, RESYNC_ITEM, Item, accepted_at, entry_seq
from capacity.realtime.snapshots import SnapshotCache
from capacity.realtime.transport import frame
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN
from capacity.storage.sentinel import follow_primary

log = logging.getLogger(__name__)

BLOCK_MS = 2000  # below the client's socket timeout (5 s)
BATCH = 500
BACKOFF_CAP = 5.0
# After a fan-out the reader rests as long as the fan-out took, at most this long: changes
# arriving meanwhile go out together, one socket write per client for the lot (the write, a
# syscall, is most of the cost per client). A few clients cost next to no rest; thousands
# rest up to this, so fan-out takes at most about half of the process.
COALESCE = 0.02


class Subscriber(Protocol):
    last_sent: float

    def push(self, item: Item) -> bool:
        """Queue an item without waiting; False when the subscriber's buffer overflowed."""

    def push_batch(self, items: list[Item], blob: bytes | None) -> bool:
        """``push`` each item; ``blob`` (their frames joined) may be written in one go instead."""


@dataclass(eq=False)
class Feed:
    """One region's upstream in this process."""

    region: str
    last_seq: int = 0
    subscribers: set[Subscriber] = field(default_factory=set)
    ready: asyncio.Future[None] | None = None
    task: asyncio.Task[None] | None = None

    def broadcast(self, item: Item) -> None:
        dropped = [sub for sub in self.subscribers if not sub.push(item)]
        for sub in dropped:
            self.subscribers.discard(sub)

    def broadcast_batch(self, items: list[Item]) -> None:
        if len(items) == 1:
            return self.broadcast(items[0])
        frames = [data for _, data in items if data is not None]
        blob = b"".join(frames) if len(frames) == len(items) else None
        dropped = [sub for sub in self.subscribers if not sub.push_batch(items, blob)]
        for sub in dropped:
            self.subscribers.discard(sub)


class Hub:
    """Created in the lifespan; ``subscribe``/``unsubscribe`` are called by connections."""

    def __init__(self, redis: aioredis.Redis, *, ping_seconds: float, queue_limit: int):
        self.redis = redis
        self.ping_seconds = ping_seconds
        # One read never hands a client more than half its buffer, so a burst alone (after a
        # reconnect, say) does not count as falling behind.
        self.batch = max(1, min(BATCH, queue_limit // 2))
        self.feeds: dict[str, Feed] = {}
        self.regions: set[str] = set()  # known region ids, so admission needs no query per client
        self.snapshots = SnapshotCache()
        self.now = 0.0  # loop time of the last broadcast: what direct writes count as sent
        self._pinger: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._pinger = asyncio.create_task(self._ping_idle(), name="hub-pinger")

    async def stop(self) -> None:
        tasks = [f.task for f in self.feeds.values() if f.task] + [self._pinger]
        self.feeds.clear()
        for task in tasks:
            if task is not None:
                task.cancel()
        for task in tasks:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def subscribe(self, region: str, sub: Subscriber) -> None:
        """Add a subscriber; from here on it receives every entry after the feed's position.

        The caller takes its snapshot (or replay) only after this returns, so nothing falls
        between the two; it drops queued items it already covered by their ``seq``.
        """
        feed = self.feeds.get(region)
        if feed is None:
            feed = self.feeds[region] = Feed(region)
            feed.ready = asyncio.get_running_loop().create_future()
            try:
                feed.last_seq = await self._tail(region)
            except BaseException as exc:
                del self.feeds[region]
                feed.ready.set_exception(exc)
                feed.ready.exception()  # retrieved: waiters re-raise it themselves
                raise
            feed.ready.set_result(None)
            feed.task = asyncio.create_task(self._read(feed), name=f"hub-{region}")
        else:
            assert feed.ready is not None
            await asyncio.shield(feed.ready)
        feed.subscribers.add(sub)

    def position(self, region: str) -> int:
        """The last seq this process's feed of ``region`` handed to its subscribers."""
        feed = self.feeds.get(region)
        return feed.last_seq if feed is not None else 0

    def unsubscribe(self, region: str, sub: Subscriber) -> None:
        feed = self.feeds.get(region)
        if feed is None:
            return
        feed.subscribers.discard(sub)
        if not feed.subscribers and feed.ready is not None and feed.ready.done():
            # The reader notices at its next wake-up (cancelling a blocked XREAD would cost
            # the connection); a new subscriber meanwhile gets a new feed.
            del self.feeds[region]

    async def server_changed(self) -> None:
        """Another server is the primary: read from it, as after a reconnect (a stream that
        went back there resyncs every client).

        A reader blocked on the old server would otherwise stay there: a demoted primary that
        stays up answers reads, but never with the new primary's changes.
        """
        await follow_primary(self.redis)
        for feed in list(self.feeds.values()):
            if feed.task is not None and feed.ready is not None and feed.ready.done():
                feed.task.cancel()  # its connection is closed with it
                feed.task = asyncio.create_task(
                    self._read(feed, reconnected=True), name=f"hub-{feed.region}"
                )

    async def _tail(self, region: str) -> int:
        last: Any = await self.redis.xrevrange(keys.region_stream(region), count=1)
        return entry_seq(last[0][0]) if last else 0

    async def _read(self, feed: Feed, *, reconnected: bool = False) -> None:
        stream = keys.region_stream(feed.region)
        backoff = 0.1
        me = asyncio.current_task()
        # A reader replaced by ``server_changed`` ends even should redis-py have turned its
        # cancellation into a ConnectionError.
        while self.feeds.get(feed.region) is feed and feed.task is me:
            try:
                if reconnected:
                    await self._after_reconnect(feed)
                    reconnected = False
                reply: Any = await self.redis.xread(
                    {stream: f"{feed.last_seq}-0"}, count=self.batch, block=BLOCK_MS
                )
                backoff = 0.1
            except REDIS_DOWN as exc:
                REDIS_RECONNECTS.labels(component="hub").inc()
                log.warning(
                    "hub %s: Redis unreachable (%s); retry in %.1f s", feed.region, exc, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP)
                reconnected = True
                continue
            if self.feeds.get(feed.region) is not feed or feed.task is not me:
                return  # replaced while blocked: the new reader delivers this
            items = [
                self._item(feed, entry_seq(entry_id), fields)
                for _stream, entries in reply or ()
                for entry_id, fields in entries
            ]
            if items:
                loop = asyncio.get_running_loop()
                self.now = started = loop.time()
                feed.broadcast_batch(items)
                took = loop.time() - started
                # A full batch means more are waiting: no rest then.
                await asyncio.sleep(min(COALESCE, took) if len(items) < self.batch else 0)

    async def _after_reconnect(self, feed: Feed) -> None:
        """Redis is back: if its stream is behind what we delivered, resync from a snapshot."""
        tail = await self._tail(feed.region)
        if tail < feed.last_seq:
            log.warning("hub %s: stream went back to %s; resync", feed.region, tail)
            feed.last_seq = tail
            self.snapshots.forget(feed.region)
            feed.broadcast(RESYNC_ITEM)

    def _item(self, feed: Feed, seq: int, fields: dict[bytes, bytes]) -> Item:
        gap = seq != feed.last_seq + 1
        feed.last_seq = seq
        if gap or fields.get(b"t") != b"facility":
            self.snapshots.forget(feed.region)
            return (seq, None)  # reset, or entries we never saw: a fresh snapshot
        message = fields[b"m"]
        at = accepted_at(message)
        if at is not None:  # once per change and process, not per client
            FANOUT_LAG.observe(max(0.0, time.time() - at))
        return (seq, frame(message))

    async def _ping_idle(self) -> None:
        """Send a ping to every client that was sent nothing for half the ping interval."""
        loop = asyncio.get_running_loop()
        half = self.ping_seconds / 2
        while True:
            await asyncio.sleep(half)
            self.now = loop.time()
            idle_before = self.now - half
            for feed in list(self.feeds.values()):
                for sub in list(feed.subscribers):
                    if sub.last_sent <= idle_before and not sub.push(PING_ITEM):
                        feed.subscribers.discard(sub)
