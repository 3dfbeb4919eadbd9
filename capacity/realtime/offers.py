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

import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket

from capacity.api.deps import access_cache
from capacity.auth.models import Principal, Role
from capacity.errors import AuthError
from capacity.realtime import channel_stream, messages
from capacity.storage import keys
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


async def _snapshot(websocket: WebSocket, principal: Principal) -> bytes:
    async with websocket.app.state.db.session() as session:
        offers: list[dict[str, Any]] = []
        if principal.role is Role.facility_staff and principal.facility_id:
            offers = await service.ward_offers(
                session=session, facility_id=principal.facility_id, principal=principal
            )
        requests = await service.open_of(session=session, account_id=principal.id)
    return orjson.dumps({"type": "snapshot", "offers": offers, "requests": requests})


@router.websocket("/ws/offers")
async def offer_stream(websocket: WebSocket) -> None:
    """The caller's transfer offers (ward staff) and requests (the asker), live."""
    await channel_stream.serve(
        websocket, name="offer", admit=_admit, channels=_channels, snapshot=_snapshot
    )
