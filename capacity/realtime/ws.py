"""The websocket endpoint of the live stream: ``GET /ws/regions/{region}?token=...&since=...``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket
from sqlmodel import select
from starlette.websockets import WebSocketState

from capacity.api.deps import access_cache
from capacity.auth.models import Principal
from capacity.auth.service import may_read_region
from capacity.errors import AuthError
from capacity.facilities.models import Region
from capacity.observability.metrics import WS_CLOSED
from capacity.realtime import messages
from capacity.realtime.connection import Closed, Connection, drain_receive
from capacity.realtime.sessions import SessionGuard

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])


async def _admit(websocket: WebSocket, region: str) -> Principal | int:
    """The caller when it may watch the region, else the close code to end with."""
    state = websocket.app.state
    token = websocket.query_params.get("token")
    try:
        # Through the access cache: a deactivated account is refused like an expired token.
        principal = await access_cache(state).for_token(token or "")
    except AuthError:
        return messages.CLOSE_BAD_TOKEN
    if region not in state.hub.regions:  # reload once: a region may have been added since
        async with state.db.session() as session:
            state.hub.regions = set((await session.exec(select(Region.id))).all())
        if region not in state.hub.regions:
            return messages.CLOSE_UNKNOWN_REGION
    if not may_read_region(principal, region):
        return messages.CLOSE_FORBIDDEN
    return principal


def _since(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("since")
    if raw is None or not raw.isdigit():
        return None  # absent or nonsense: start from a snapshot
    return int(raw)


@router.websocket("/ws/regions/{region}")
async def region_stream(websocket: WebSocket, region: str) -> None:
    """A snapshot of the region, then every change in ``seq`` order, and pings when idle.

    The stream ends with ``CLOSE_BAD_TOKEN`` when its token expires or is revoked (the account
    deactivated), whichever process revoked it (``capacity.realtime.sessions``).
    """
    await websocket.accept()  # accept first: a close code can only travel on an open socket
    state = websocket.app.state
    code: int | None = None
    try:
        admitted = await _admit(websocket, region)
    except Exception:  # the database is down: the client retries later
        log.exception("live stream: admission failed")
        admitted = messages.CLOSE_UNAVAILABLE
    if isinstance(admitted, int):
        code = admitted
    else:
        guard: SessionGuard = state.sessions
        ended: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def end(close_code: int) -> None:
            if not ended.done():
                ended.set_result(close_code)

        watch = guard.watch(admitted, end)
        connection = Connection(
            websocket,
            region=region,
            hub=state.hub,
            db=state.db,
            store=state.store,
            settings=state.settings,
        )
        writer = asyncio.create_task(connection.run(_since(websocket)))
        reader = asyncio.create_task(drain_receive(websocket))
        try:
            await asyncio.wait((writer, reader, ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            guard.forget(watch)
        reader.cancel()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        try:
            await writer
        except Closed as closed:
            code = closed.code
        except asyncio.CancelledError:
            pass
        except Exception:  # the socket broke under the writer: nothing left to tell the client
            log.debug("live stream writer ended", exc_info=True)
        if ended.done():  # the token expired or was revoked: that is what the client must hear
            code = ended.result()
    if code is not None and websocket.application_state is WebSocketState.CONNECTED:
        WS_CLOSED.labels(code=str(code)).inc()
        with contextlib.suppress(Exception):
            await websocket.close(code)
