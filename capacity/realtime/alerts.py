"""The live stream of a user's in-app alerts: ``GET /ws/alerts?token=...``.

Any signed-in account (an API key has no inbox: 4401). The first message is
``{"type": "snapshot", "unread": N, "alerts": [the latest 20, newest first]}``; then
``{"type": "alert", "alert": {...}}`` as the delivery job hands each in-app alert over (the
alert as ``GET /api/v1/alerts`` lists it), and ``{"type": "ping"}`` when idle. An alert
delivered while the snapshot is read may come in both: the client keeps one per ``id``.

Each socket has its own bounded buffer: a client that falls ``ws_queue_limit`` alerts behind is
closed with 4008 and reads its inbox again on reconnect. A bad, expired or revoked token closes
with 4401, also on an open stream (``capacity.realtime.sessions``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from fastapi import APIRouter, WebSocket
from redis.asyncio.client import PubSub
from starlette.websockets import WebSocketState

from capacity.alerts import service
from capacity.alerts.models import AlertPublic
from capacity.api.deps import access_cache
from capacity.auth.models import Principal
from capacity.errors import AuthError
from capacity.realtime import messages
from capacity.realtime.connection import Closed, drain_receive
from capacity.storage import keys

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


async def _listen(pubsub: PubSub, buffer: asyncio.Queue[bytes]) -> None:
    """Move published alerts into the socket's buffer without waiting on the socket."""
    while True:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None:
            continue
        data = message["data"]
        alert = data if isinstance(data, bytes) else data.encode()
        try:
            buffer.put_nowait(b'{"type":"alert","alert":' + alert + b"}")
        except asyncio.QueueFull:
            raise Closed(messages.CLOSE_TOO_SLOW) from None


async def _forward(websocket: WebSocket, principal: Principal) -> None:
    """Subscribe first, then send the snapshot: nothing published in between is lost."""
    settings = websocket.app.state.settings
    buffer: asyncio.Queue[bytes] = asyncio.Queue(maxsize=settings.ws_queue_limit)
    pubsub = websocket.app.state.store.redis.pubsub()
    listener: asyncio.Task[None] | None = None
    try:
        await pubsub.subscribe(keys.alert_user_channel(principal.id))
        listener = asyncio.create_task(_listen(pubsub, buffer))
        await websocket.send_text((await _snapshot(websocket, principal)).decode())
        while True:
            getter = asyncio.ensure_future(buffer.get())
            done, _ = await asyncio.wait(
                (getter, listener), timeout=settings.ws_ping_seconds, return_when="FIRST_COMPLETED"
            )
            if listener in done:
                getter.cancel()
                listener.result()  # raises Closed (too slow) or what broke Redis
            if getter in done:
                await websocket.send_text(getter.result().decode())
            else:
                getter.cancel()
                await websocket.send_text(messages.PING.decode())
    finally:
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener
        with contextlib.suppress(Exception):
            await pubsub.aclose()


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
        writer = asyncio.create_task(_forward(websocket, admitted))
        reader = asyncio.create_task(drain_receive(websocket))
        try:
            await asyncio.wait((writer, reader, ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            guard.forget(watch)
        if ended.done():  # the token expired or was revoked
            code = ended.result()
        elif writer.done():
            failure = writer.exception() if not writer.cancelled() else None
            # Too slow: its own code; Redis or the database failed under it: try again later.
            code = failure.code if isinstance(failure, Closed) else messages.CLOSE_UNAVAILABLE
            if failure is not None and not isinstance(failure, Closed):
                log.debug("alert stream writer ended", exc_info=failure)
        for task in (reader, writer):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if code is not None and websocket.application_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code)
