"""One websocket client of the live stream: its bounded buffer, its writer and its resume.

The hub pushes ``(seq, text)`` items into the buffer without waiting; the writer (the endpoint's
own task) sends them in order and drops those its snapshot or replay already covered. A second
task only reads the socket, to notice the client going away.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from capacity.availability.service import region_capacity
from capacity.availability.store import CapacityStore
from capacity.errors import Unavailable
from capacity.observability.metrics import WS_CLIENTS
from capacity.realtime import messages
from capacity.realtime.hub import Hub
from capacity.realtime.messages import CONTROL, Item
from capacity.realtime.transport import frames_of, payload_text
from capacity.settings import Settings
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)


class Closed(Exception):
    """The connection must end with this close code."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class Connection:
    """A subscriber of the hub; ``run`` is the writer and lasts as long as the socket."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        region: str,
        hub: Hub,
        db: Database,
        store: CapacityStore,
        settings: Settings,
    ):
        self.websocket = websocket
        self.region = region
        self.hub, self.db, self.store, self.settings = hub, db, store, settings
        self.limit = settings.ws_queue_limit
        self.buffer: deque[Item] = deque()
        self.overflowed = False
        self.seq = 0  # the last seq this client has been sent (snapshot, replay or change)
        self.last_sent = asyncio.get_running_loop().time()
        self._wakeup: asyncio.Future[None] | None = None
        self.frames = frames_of(websocket.scope)
        self.live = False  # the writer is idle and the buffer empty: push may write directly

    def push(self, item: Item) -> bool:
        """Queue an item, or with ``Frames`` and nothing queued write it at once (no await)."""
        if self.overflowed:
            return False
        seq, data = item
        if self.live and data is not None and self.frames is not None and self.frames.writable():
            # ``live``: the writer is idle with an empty buffer, so this keeps the order.
            if self._fresh(seq):
                self.frames.write(data)
                self.last_sent = self.hub.now
            return True
        self.live = False
        if len(self.buffer) >= self.limit:
            self.overflowed = True  # stop buffering; the writer closes with CLOSE_TOO_SLOW
            self.buffer.clear()
        else:
            self.buffer.append(item)
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return not self.overflowed

    def _fresh(self, seq: int) -> bool:
        """Whether the item at ``seq`` is new to this client (CONTROL ones always are); a new
        change's seq becomes the client's position (a snapshot then sets its own)."""
        if seq == CONTROL:
            return True
        if seq <= self.seq:
            return False  # the snapshot or replay already covered it
        self.seq = seq
        return True

    def push_batch(self, items: list[Item], blob: bytes | None) -> bool:
        """Several changes in seq order: one write of ``blob`` when live and none is a repeat."""
        if (
            self.live
            and blob is not None
            and items[0][0] > self.seq
            and self.frames is not None
            and self.frames.writable()
        ):
            self.frames.write(blob)
            self.seq = items[-1][0]
            self.last_sent = self.hub.now
            return True
        return all(self.push(item) for item in items)

    async def run(self, since: int | None) -> None:
        """Subscribe, send the snapshot or the replay, then every change until the end."""
        try:
            await self.hub.subscribe(self.region, self)
        except REDIS_DOWN as exc:
            raise Closed(messages.CLOSE_UNAVAILABLE) from exc
        WS_CLIENTS.inc()
        try:
            if since is None or not await self._replay(since):
                await self._send_snapshot()
            await self._write()
        finally:
            WS_CLIENTS.dec()
            self.hub.unsubscribe(self.region, self)

    async def _write(self) -> None:
        buffer = self.buffer
        loop = asyncio.get_running_loop()
        while True:
            if not buffer:
                if self.overflowed:
                    raise Closed(messages.CLOSE_TOO_SLOW)
                self.live = self.frames is not None
                self._wakeup = loop.create_future()
                await self._wakeup
                self._wakeup = None
                self.live = False
                continue
            if self.frames is not None:
                if not await self._write_frames():
                    return  # the client went away
            else:
                await self._send_next()

    async def _write_frames(self) -> bool:
        """Everything queued, as one write of whole frames once the socket takes more."""
        frames, buffer = self.frames, self.buffer
        assert frames is not None
        await frames.drained()
        if frames.closed:
            return False
        chunks: list[bytes] = []
        while buffer:
            seq, data = buffer.popleft()
            if not self._fresh(seq):
                continue
            if data is None:  # resync: a reset at ``seq``, or (CONTROL) Redis went back
                if chunks:
                    frames.write(b"".join(chunks))
                    chunks.clear()
                await self._send_snapshot()
                continue
            chunks.append(data)
        if chunks:
            frames.write(b"".join(chunks))
            self.last_sent = asyncio.get_running_loop().time()
        return True

    async def _send_next(self) -> None:
        """ASGI fallback (another server than ours): one ``send`` per message."""
        seq, data = self.buffer.popleft()
        if not self._fresh(seq):
            return
        if data is None:
            await self._send_snapshot()
            return
        await self.websocket.send({"type": "websocket.send", "text": payload_text(data)})
        self.last_sent = asyncio.get_running_loop().time()

    async def _send_snapshot(self) -> None:
        def build() -> Awaitable[dict[str, Any]]:
            return region_capacity(
                db=self.db, store=self.store, settings=self.settings, region_id=self.region
            )

        try:
            snap = await self.hub.snapshots.get(
                self.region, at_least=self.hub.position(self.region), build=build
            )
        except Unavailable as exc:
            raise Closed(messages.CLOSE_UNAVAILABLE) from exc
        self.seq = snap.seq
        await self.websocket.send_text(snap.text)
        self.last_sent = asyncio.get_running_loop().time()

    async def _replay(self, since: int) -> bool:
        """Send every change after ``since`` from the stream; False when only a snapshot will do."""
        try:
            # The seq first, then the stream: one script raises both, so every change up to
            # ``current`` is already in the stream. Read the other way round, a change landing
            # between the two reads looked like a gap and cost the client a needless snapshot.
            current = await self.store.current_seq(self.region)
            entries: Any = await self.store.redis.xrange(
                keys.region_stream(self.region), min=f"{since + 1}-0", max="+"
            )
        except REDIS_DOWN as exc:
            raise Closed(messages.CLOSE_UNAVAILABLE) from exc
        if not entries:
            if current != since:  # trimmed away, or the client saw a seq Redis no longer has
                return False
            self.seq = since
            return True
        if messages.entry_seq(entries[0][0]) != since + 1:
            return False
        if any(fields.get(b"t") != b"facility" for _, fields in entries):
            return False
        for entry_id, fields in entries:
            await self.websocket.send_text(fields[b"m"].decode())
            self.seq = messages.entry_seq(entry_id)
        self.last_sent = asyncio.get_running_loop().time()
        return True


async def drain_receive(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes away."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
    except (WebSocketDisconnect, RuntimeError):
        return
