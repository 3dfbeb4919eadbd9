"""Announcing transfer changes on Redis pub/sub, after they were committed.

One channel per ward (its offers: sent, withdrawn, answered, expired) and one per request (the
request with every offer, for the asker's screen). SQL holds the state: a lost message costs a
live update, never an answer, so a Redis failure here is logged and the request goes on.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from redis import asyncio as aioredis
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.facilities.models import Facility
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN
from capacity.transfers.models import TransferOffer, TransferRequest
from capacity.transfers.service import public, ward_offer

log = logging.getLogger(__name__)


async def messages_for(
    session: AsyncSession,
    request: TransferRequest,
    offers: list[TransferOffer],
    *,
    all_offers: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    """The messages of one change: the request to its channel, each changed offer to its ward
    (``all_offers``: ``offers`` are all the request has, a new request's, so none is read)."""
    assert request.id is not None
    shown = await public(session, request, offers if all_offers else None)
    message = {"type": "transfer", "request": shown}
    out: list[tuple[str, dict[str, Any]]] = [
        (keys.transfer_request_channel(request.id), message),
        (keys.transfer_account_channel(request.created_by), message),
    ]
    # The wards in one query (a get per offer was a round trip each, under the write lock).
    ids = {offer.facility_id for offer in offers}
    wards = (
        {
            f.id: f
            for f in (await session.exec(select(Facility).where(col(Facility.id).in_(ids)))).all()
        }
        if ids
        else {}
    )
    for offer in offers:
        facility = wards[offer.facility_id]
        offered = {"type": "offer", "offer": ward_offer(offer, request, facility)}
        out.append((keys.transfer_facility_channel(offer.facility_id), offered))
    return out


async def publish(redis: aioredis.Redis, messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Publish the messages (after the commit); Redis being down loses only the live update."""
    try:
        pipe = redis.pipeline(transaction=False)
        for channel, message in messages:
            pipe.publish(channel, orjson.dumps(message))
        await pipe.execute()
    except REDIS_DOWN as exc:
        log.warning("transfer update not published: %s", exc)
