"""Announcing transfer changes on Redis pub/sub, after they were committed.

One channel per ward (its offers: sent, withdrawn, answered, expired) and one per request (the
request with every offer, for the asker's screen). SQL holds the state: a lost message costs a
live update, never an answer, so a Redis failure here is logged and the request goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from redis import asyncio as aioredis
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.facilities.models import Facility
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN
from capacity.transfers.models import TransferOffer, TransferRequest
from capacity.transfers.service import Ward, public, ward_offer

log = logging.getLogger(__name__)


async def messages_for(
    session: AsyncSession,
    request: TransferRequest,
    offers: list[TransferOffer],
) -> list[tuple[str, dict[str, Any]]]:
    """The messages of one change: the request (read afresh, with all its offers) to its
    channels, each changed offer in ``offers`` to its ward."""
    shown = await public(session, request)
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
    return messages_of(request, shown, offers, wards)


def messages_of(
    request: TransferRequest,
    shown: dict[str, Any],
    offers: list[TransferOffer],
    wards: Mapping[str, Ward],
) -> list[tuple[str, dict[str, Any]]]:
    """The request (as ``shown``) to its channels, each offer in ``offers`` to its ward's."""
    assert request.id is not None
    offered = [ward_offer(offer, request, wards[offer.facility_id]) for offer in offers]
    return addressed(request.id, request.created_by, shown, offered)


def addressed(
    request_id: int, account_id: int, shown: dict[str, Any], offered: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """The channel and message of each: the request (``shown``) to its own channel and its
    asker's, each offer as its ward sees it (``offered``) to the ward's."""
    message = {"type": "transfer", "request": shown}
    out: list[tuple[str, dict[str, Any]]] = [
        (keys.transfer_request_channel(request_id), message),
        (keys.transfer_account_channel(account_id), message),
    ]
    for offer in offered:
        channel = keys.transfer_facility_channel(offer["facility_id"])
        out.append((channel, {"type": "offer", "offer": offer}))
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
