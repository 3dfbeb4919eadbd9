"""One Redis pub/sub connection per process for every ``/ws/offers`` socket of the process.

A socket used to subscribe on a connection of its own, taken from the shared client's pool and
held for the socket's life: a hundred ward screens took the whole pool (100 connections), and
every other Redis call of the process, the offers' own publishing included, failed with "Too
many connections". Now the hub subscribes to a channel while some socket here wants it, and
its reader pushes each message into those sockets' bounded buffers (``Outbox``), never waiting
on a client. When Redis fails under it, every socket is ended with 1013: the clients reconnect
and start again from a snapshot, so nothing missed in between goes unnoticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from redis import asyncio as aioredis

from capacity.realtime import messages
from capacity.realtime.outbox import Outbox
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)


class OfferHub:
    """Channels to the buffers of the sockets that want them."""

    def __init__(self, redis: aioredis.Redis):
        self.redis = redis
        self.listeners: dict[str, set[Outbox]] = {}
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        # One future per SUBSCRIBE sent and not yet confirmed, per channel, in order.
        self._confirms: dict[str, deque[asyncio.Future[None]]] = {}
        # One command at a time: two sockets' first SUBSCRIBEs at once made two connections.
        self._sending = asyncio.Lock()

    async def subscribe(self, channels: list[str], outbox: Outbox) -> None:
        """Deliver the channels' messages to ``outbox``; Redis has confirmed when this returns,
        so a snapshot read afterwards misses nothing published after it."""
        loop = asyncio.get_running_loop()
        new = [c for c in channels if not self.listeners.get(c)]
        for channel in channels:
            self.listeners.setdefault(channel, set()).add(outbox)
        waits = [f for c in channels for f in self._confirms.get(c, ())]  # others' pending ones
        if new:
            sent = [loop.create_future() for _ in new]
            for channel, future in zip(new, sent, strict=True):
                self._confirms.setdefault(channel, deque()).append(future)
            waits += sent
            async with self._sending:
                if self._pubsub is None:
                    self._pubsub = self.redis.pubsub()
                pubsub = self._pubsub
                try:
                    await pubsub.subscribe(*new)
                except REDIS_DOWN:
                    self._fail(pubsub)
                    raise
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read(pubsub), name="offer-hub")
        if waits:
            await asyncio.gather(*waits)

    def unsubscribe(self, channels: list[str], outbox: Outbox) -> None:
        """Stop delivering to ``outbox``; channels nobody here wants any more are left."""
        empty = []
        for channel in channels:
            listeners = self.listeners.get(channel)
            if listeners is None:
                continue
            listeners.discard(outbox)
            if not listeners:
                del self.listeners[channel]
                empty.append(channel)
        if empty and self._pubsub is not None:
            pubsub = self._pubsub

            async def leave() -> None:
                async with self._sending:
                    # A socket may have asked for one again meanwhile (its SUBSCRIBE went first).
                    still = [c for c in empty if not self.listeners.get(c)]
                    if still and self._pubsub is pubsub:
                        with contextlib.suppress(*REDIS_DOWN):
                            await pubsub.unsubscribe(*still)

            asyncio.get_running_loop().create_task(leave())

    async def _read(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                kind, channel = message["type"], message["channel"].decode()
                if kind == "message":
                    for outbox in list(self.listeners.get(channel, ())):
                        outbox.push(message["data"])
                elif kind == "subscribe":
                    waiting = self._confirms.get(channel)
                    if waiting:
                        future = waiting.popleft()
                        if not future.done():
                            future.set_result(None)
                        if not waiting:
                            del self._confirms[channel]
        except REDIS_DOWN as exc:
            log.warning("offer hub: Redis failed (%s); its streams end with 1013", exc)
            self._fail(pubsub)

    def _fail(self, pubsub: Any) -> None:
        """End every stream here (they start again from a snapshot) and drop the connection."""
        if self._pubsub is not pubsub:
            return
        self._pubsub = None
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
        self._reader = None
        for listeners in self.listeners.values():
            for outbox in listeners:
                outbox.end(messages.CLOSE_UNAVAILABLE)
        self.listeners.clear()
        for waiting in self._confirms.values():
            for future in waiting:
                if not future.done():
                    future.set_exception(ConnectionError("Redis failed"))
        self._confirms.clear()
        asyncio.get_running_loop().create_task(_close(pubsub))

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._pubsub is not None:
            await _close(self._pubsub)
            self._pubsub = None


async def _close(pubsub: Any) -> None:
    with contextlib.suppress(Exception):
        await pubsub.aclose()
