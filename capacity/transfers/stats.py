"""Transfer statistics per ISO week (local time): aggregates only, never a request."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.refusals.service import buckets
from capacity.transfers.models import TransferOffer, TransferRequest, TransferStatus


async def weekly(
    *,
    session: AsyncSession,
    region: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[dict[str, Any]]:
    """Per week: requests, placed, median minutes to acceptance, share placed at the first ward
    asked (the first offer sent), wards asked per request."""
    query = select(TransferRequest)
    if region is not None:
        query = query.where(TransferRequest.region == region)
    if start is not None:
        query = query.where(col(TransferRequest.created_at) >= start)
    if end is not None:
        query = query.where(col(TransferRequest.created_at) <= end)
    requests = list((await session.exec(query)).all())
    ids = [r.id for r in requests]
    offers: dict[int, list[TransferOffer]] = defaultdict(list)
    if ids:
        asked = select(TransferOffer).where(col(TransferOffer.request_id).in_(ids))
        for offer in (await session.exec(asked.order_by(col(TransferOffer.id)))).all():
            offers[offer.request_id].append(offer)
    weeks: dict[str, list[TransferRequest]] = defaultdict(list)
    for request in requests:
        weeks[buckets(request.created_at)["occurred_week"]].append(request)
    return [_week(week, weeks[week], offers) for week in sorted(weeks)]


def _week(
    week: str, requests: list[TransferRequest], offers: dict[int, list[TransferOffer]]
) -> dict[str, Any]:
    placed = [r for r in requests if r.status == TransferStatus.placed and r.placed_at]
    minutes = [(r.placed_at - r.created_at).total_seconds() / 60 for r in placed if r.placed_at]
    first = [
        r for r in placed if r.id in offers and offers[r.id][0].facility_id == r.placed_facility_id
    ]
    asked = [len(offers.get(r.id or 0, [])) for r in requests]
    return {
        "week": week,
        "requests": len(requests),
        "placed": len(placed),
        "median_minutes_to_acceptance": round(statistics.median(minutes), 1) if minutes else None,
        "share_placed_at_first_ward": round(len(first) / len(placed), 3) if placed else None,
        "wards_asked_per_request": round(sum(asked) / len(asked), 2) if asked else None,
    }
