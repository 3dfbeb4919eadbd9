"""A bounded buffer of one socket's messages, for streams fed from Redis pub/sub.

The feeding task pushes without waiting; the socket's own task sends. When the client stays
behind by ``limit`` messages the buffer drops what it holds and refuses more: the stream then
ends with ``CLOSE_TOO_SLOW`` and the client starts again from a snapshot. So a client that does
not read costs the server at most ``limit`` messages, and never slows the others down.
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.websockets import WebSocket

from capacity.realtime import messages


class Outbox:
    """Messages waiting for one client, at most ``limit`` of them."""

    def __init__(self, limit: int):
        self.limit = limit
        self.items: deque[bytes | str] = deque()
        self.code: int | None = None  # set when the stream must end, with its close code
        self.ended = asyncio.Event()
        self._ready = asyncio.Event()

    def push(self, data: bytes | str) -> bool:
        """Queue a message; False once the stream is ending (nothing more is kept then)."""
        if self.code is not None:
            return False
        if len(self.items) >= self.limit:
            self.end(messages.CLOSE_TOO_SLOW)
            return False
        self.items.append(data)
        self._ready.set()
        return True

    def end(self, code: int) -> None:
        """The stream must end with ``code``; what is queued is dropped."""
        if self.code is None:
            self.code = code
            self.items.clear()
            self.ended.set()
            self._ready.set()

    async def send_all(self, websocket: WebSocket) -> None:
        """Send every message in order as it comes, until the stream is ending."""
        items = self.items
        while self.code is None:
            await self._ready.wait()
            self._ready.clear()
            while items:
                data = items.popleft()
                await websocket.send_text(data.decode() if isinstance(data, bytes) else data)
