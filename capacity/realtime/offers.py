"""The live stream of transfer requests: ``GET /ws/offers?token=...``.

Ward staff get their ward's pending offers, then every offer change of the ward (sent,
withdrawn, expired, answered); a midwife (or staff who asked) gets her open requests, then
every change of her requests. Messages are those ``capacity.transfers.live`` publishes on
Redis, as they are: ``{"type": "offer", "offer": ...}`` and ``{"type": "transfer", ...}``;
the first is ``{"type": "snapshot", "offers": [...], "requests": [...]}``. A bad, expired or
revoked token closes with 4401; an analyst, admin or API key with 4403.

Every socket of a process shares one Redis subscription (``OfferHub``), which pushes each
message into the socket's bounded buffer (``Outbox``, ``CAPACITY_WS_QUEUE_LIMIT`` messages)
without ever waiting on a client; the socket's own task sends from it. A client that falls
that far behind is closed with 4008 (``CLOSE_TOO_SLOW``) and gets a fresh snapshot when it
reconnects: the server never holds more than the buffer for it, and the others never wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState

from capacity.api.deps import access_cache
from capacity.auth.models import Principal, Role
from capacity.errors import AuthError
from capacity.realtime import messages
from capacity.realtime.connection import drain_receive
from capacity.realtime.offer_hub import OfferHub
from capacity.realtime.outbox import Outbox
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN
from capacity.transfers import service

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])
LISTENERS = (Role.midwife, Role.facility_staff)


async def _admit(websocket: WebSocket) -> Principal | int:
    try:
        principal = await access_cache(websocket.app.state).for_token(
            websocket.query_params.get("token") or ""
        )
    except AuthError:
        return messages.CLOSE_BAD_TOKEN
    if principal.role not in LISTENERS:
        return messages.CLOSE_FORBIDDEN
    return principal


def _channels(principal: Principal) -> list[str]:
    channels = [keys.transfer_account_channel(principal.id)]
    if principal.role is Role.facility_staff and principal.facility_id:
        channels.append(keys.transfer_facility_channel(principal.facility_id))
    return channels


async def _snapshot(websocket: WebSocket, principal: Principal) -> dict[str, Any]:
    async with websocket.app.state.db.session() as session:
        offers: list[dict[str, Any]] = []
        if principal.role is Role.facility_staff and principal.facility_id:
            offers = await service.ward_offers(
                session=session, facility_id=principal.facility_id, principal=principal
            )
        requests = await service.open_of(session=session, account_id=principal.id)
    return {"type": "snapshot", "offers": offers, "requests": requests}


async def _deliver(websocket: WebSocket, principal: Principal, outbox: Outbox) -> None:
    await websocket.send_text(orjson.dumps(await _snapshot(websocket, principal)).decode())
    await outbox.send_all(websocket)


async def _forward(websocket: WebSocket, principal: Principal, outbox: Outbox) -> int:
    """Subscribe first, then send the snapshot: nothing published in between is lost. Returns
    the close code the stream ends with (the client too slow, or Redis gone)."""
    hub: OfferHub = websocket.app.state.offer_hub
    channels = _channels(principal)
    tasks: list[asyncio.Task[Any]] = []
    try:
        await hub.subscribe(channels, outbox)
        tasks = [
            asyncio.create_task(_deliver(websocket, principal, outbox)),
            # A client that reads nothing blocks the delivery for good; the hub meanwhile fills
            # its buffer until it overflows, which ends the stream from here.
            asyncio.create_task(outbox.ended.wait()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if outbox.code is not None:
            return outbox.code
        if tasks[0].done() and tasks[0].exception() is not None:
            log.warning("offer stream ended: %r", tasks[0].exception())
        return messages.CLOSE_UNAVAILABLE
    except REDIS_DOWN as exc:
        log.warning("offer stream: Redis unavailable: %s", exc)
        return messages.CLOSE_UNAVAILABLE
    finally:
        hub.unsubscribe(channels, outbox)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


@router.websocket("/ws/offers")
async def offer_stream(websocket: WebSocket) -> None:
    """The caller's transfer offers (ward staff) and requests (the asker), live."""
    await websocket.accept()
    try:
        admitted = await _admit(websocket)
    except Exception:
        log.exception("offer stream: admission failed")
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
