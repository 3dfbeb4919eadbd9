"""A per-account websocket fed by Redis channels: ``/ws/offers`` and ``/ws/alerts``.

Subscribe first, then send the snapshot: nothing published in between is lost. Every socket of
a process shares one Redis subscription (``OfferHub``; a connection per socket emptied the pool
at a hundred sockets), which pushes each message into the socket's bounded buffer (``Outbox``)
without waiting on the client. The stream ends with 4008 when the client falls that far behind,
1013 when Redis or the database fails under it, or the session guard's code (4401) when the
token expires or is revoked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketState

from capacity.auth.models import Principal
from capacity.realtime import messages
from capacity.realtime.connection import drain_receive
from capacity.realtime.offer_hub import OfferHub
from capacity.realtime.outbox import Outbox
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

Admit = Callable[[WebSocket], Awaitable[Principal | int]]
Snapshot = Callable[[WebSocket, Principal], Awaitable[bytes]]


async def _ping(outbox: Outbox, seconds: float) -> None:
    """A ping in the buffer every ``seconds``: the client knows the stream is alive."""
    while True:
        await asyncio.sleep(seconds)
        outbox.push(messages.PING)


async def _deliver(websocket: WebSocket, first: Awaitable[bytes], outbox: Outbox) -> None:
    await websocket.send_text((await first).decode())
    await outbox.send_all(websocket)


async def _forward(
    websocket: WebSocket,
    name: str,
    principal: Principal,
    channels: list[str],
    snapshot: Snapshot,
    outbox: Outbox,
    ping: bool,
) -> int:
    """Returns the close code the stream ends with (the client too slow, or Redis gone)."""
    hub: OfferHub = websocket.app.state.offer_hub
    tasks: list[asyncio.Task[Any]] = []
    try:
        await hub.subscribe(channels, outbox)
        tasks = [
            asyncio.create_task(_deliver(websocket, snapshot(websocket, principal), outbox)),
            # A client that reads nothing blocks the delivery for good; the hub meanwhile fills
            # its buffer until it overflows, which ends the stream from here.
            asyncio.create_task(outbox.ended.wait()),
        ]
        if ping:
            seconds = websocket.app.state.settings.ws_ping_seconds
            tasks.append(asyncio.create_task(_ping(outbox, seconds)))
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if outbox.code is not None:
            return outbox.code
        if tasks[0].done() and tasks[0].exception() is not None:
            log.warning("%s stream ended: %r", name, tasks[0].exception())
        return messages.CLOSE_UNAVAILABLE
    except REDIS_DOWN as exc:
        log.warning("%s stream: Redis unavailable: %s", name, exc)
        return messages.CLOSE_UNAVAILABLE
    finally:
        hub.unsubscribe(channels, outbox)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def serve(
    websocket: WebSocket,
    *,
    name: str,
    admit: Admit,
    channels: Callable[[Principal], list[str]],
    snapshot: Snapshot,
    ping: bool = False,
) -> None:
    """Accept, admit (a close code, or the caller), then stream until one side ends it."""
    await websocket.accept()
    try:
        admitted = await admit(websocket)
    except Exception:
        log.exception("%s stream: admission failed", name)
        admitted = messages.CLOSE_UNAVAILABLE
    code: int | None = admitted if isinstance(admitted, int) else None
    if not isinstance(admitted, int):
        ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def end(close_code: int) -> None:
            if not ended.done():
                ended.set_result(close_code)

        guard = websocket.app.state.sessions
        watch = guard.watch(admitted, end)
        outbox = Outbox(websocket.app.state.settings.ws_queue_limit)
        writer = asyncio.create_task(
            _forward(websocket, name, admitted, channels(admitted), snapshot, outbox, ping)
        )
        reader = asyncio.create_task(drain_receive(websocket))
        try:
            await asyncio.wait((writer, reader, ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            guard.forget(watch)
        if ended.done():  # the token expired or was revoked
            code = ended.result()
        elif writer.done():  # too slow (4008), or Redis or the database failed (1013)
            try:
                code = writer.result()
            except Exception:
                code = messages.CLOSE_UNAVAILABLE
        for task in (reader, writer):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if code is not None and websocket.application_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code)
