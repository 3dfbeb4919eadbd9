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

import logging

import orjson
from fastapi import APIRouter, WebSocket

from capacity.alerts import service
from capacity.alerts.models import AlertPublic
from capacity.api.deps import access_cache
from capacity.auth.models import Principal
from capacity.errors import AuthError
from capacity.realtime import channel_stream, messages
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


@router.websocket("/ws/alerts")
async def alert_stream(websocket: WebSocket) -> None:
    """The caller's in-app alerts, live: unread count and latest first, then each new one."""
    await channel_stream.serve(
        websocket,
        name="alert",
        admit=_admit,
        channels=lambda principal: [keys.alert_user_channel(principal.id)],
        snapshot=_snapshot,
        ping=True,  # the app's bell knows the stream is alive
    )
