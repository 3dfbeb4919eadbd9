"""The live stream of a user's in-app alerts: ``GET /ws/alerts?token=...``.

Any signed-in account (an API key has no inbox: 4401). The first message is
``{"type": "snapshot", "unread": N, "alerts": [the latest 20, newest first]}``; then
``{"type": "alert", "alert": {...}}`` as the delivery job hands each in-app alert over (the
alert as ``GET /api/v1/alerts`` lists it), and ``{"type": "ping"}`` when idle. An alert
delivered while the snapshot is read may come in both: the client keeps one per ``id``.

Every socket of a process shares one Redis subscription (``OfferHub``) that feeds each socket's
own bounded buffer: a client that falls ``ws_queue_limit`` alerts behind is
closed with 4008 and reads its inbox again on reconnect. A bad, expired or revoked token closes
with 4401, also on an open stream (``capacity.realtime.sessions``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState

from capacity.alerts import service
from capacity.alerts.models import AlertPublic
from capacity.api.deps import access_cache
from capacity.auth.models import Principal
from capacity.errors import AuthError
from capacity.realtime import messages
from capacity.realtime.connection import drain_receive
from capacity.realtime.offer_hub import OfferHub
from capacity.realtime.outbox import Outbox
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])
SNAPSHOT_SIZE = 20


async def _admit(websocket: WebSocket) -> Principal | int:
    try:
        principal = await access_cache(websocket.app.state).for_token(
            websocket.query_params.get("token") or ""
        )
    except AuthError:
        return messages.CLOSE_BAD_TOKEN
    if principal.is_key:  # a key has no inbox (and its id is no user id)
        return messages.CLOSE_BAD_TOKEN
    return principal


async def _snapshot(websocket: WebSocket, principal: Principal) -> bytes:
    async with websocket.app.state.db.session() as session:
        unread = await service.unread_count(session=session, user_id=principal.id)
        latest = await service.list_alerts(
            session=session, principal=principal, unread=False, limit=SNAPSHOT_SIZE
        )
    alerts = [
        AlertPublic.model_validate(a, from_attributes=True).model_dump(mode="json") for a in latest
    ]
    return orjson.dumps({"type": "snapshot", "unread": unread, "alerts": alerts})


async def _deliver(websocket: WebSocket, principal: Principal, outbox: Outbox) -> None:
    await websocket.send_text((await _snapshot(websocket, principal)).decode())
    await outbox.send_all(websocket)


async def _ping(outbox: Outbox, seconds: float) -> None:
    """A ping in the buffer every ``seconds``: the app's bell knows the stream is alive."""
    while True:
        await asyncio.sleep(seconds)
        outbox.push(messages.PING)


async def _forward(websocket: WebSocket, principal: Principal, outbox: Outbox) -> int:
    """Subscribe first, then send the snapshot: nothing published in between is lost. The
    process's one subscription (``OfferHub``) feeds the socket's bounded buffer: a socket per
    user must not hold a Redis connection of its own (a hundred of them emptied the pool).
    Returns the close code the stream ends with (the client too slow, or Redis gone)."""
    hub: OfferHub = websocket.app.state.offer_hub
    channels = [keys.alert_user_channel(principal.id)]
    tasks: list[asyncio.Task[Any]] = []
    try:
        await hub.subscribe(channels, outbox)
        tasks = [
            asyncio.create_task(_deliver(websocket, principal, outbox)),
            asyncio.create_task(outbox.ended.wait()),
            asyncio.create_task(_ping(outbox, websocket.app.state.settings.ws_ping_seconds)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if outbox.code is not None:
            return outbox.code
        if tasks[0].done() and tasks[0].exception() is not None:
            log.warning("alert stream ended: %r", tasks[0].exception())
        return messages.CLOSE_UNAVAILABLE
    except REDIS_DOWN as exc:
        log.warning("alert stream: Redis unavailable: %s", exc)
        return messages.CLOSE_UNAVAILABLE
    finally:
        hub.unsubscribe(channels, outbox)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


@router.websocket("/ws/alerts")
async def alert_stream(websocket: WebSocket) -> None:
    """The caller's in-app alerts, live: unread count and latest first, then each new one."""
    await websocket.accept()
    try:
        admitted = await _admit(websocket)
    except Exception:
        log.exception("alert stream: admission failed")
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
        writer = asyncio.create_task(_forward(websocket, admitted, outbox))
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
