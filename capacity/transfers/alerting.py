"""A transfer request's offers as ``transfer_request`` alerts for the wards asked (issue 13.7).

Closed-list facts only, as on the ward's screen: category, request type, band, urgency and the
deadline; never the origin or anything about the woman.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.alerts.models import AlertRule, AlertSubscription
from capacity.alerts.service import add_event_alerts
from capacity.facilities.models import Facility
from capacity.i18n import messages
from capacity.transfers.models import OfferStatus, TransferOffer, TransferRequest


async def offers_made(
    *, session: AsyncSession, request: TransferRequest, offers: list[TransferOffer]
) -> int:
    """Queue an alert per new pending offer for its ward's subscribers; how many were queued."""
    pending = [o for o in offers if o.status == OfferStatus.pending]
    if not pending:
        return 0
    ids = [o.facility_id for o in pending]
    watched = select(AlertSubscription.facility_id).where(
        AlertSubscription.rule == AlertRule.transfer_request,
        col(AlertSubscription.facility_id).in_(ids),
        col(AlertSubscription.deleted_at).is_(None),
    )
    subscribed = set((await session.exec(watched)).all())
    pending = [o for o in pending if o.facility_id in subscribed]
    if not pending:
        return 0  # the usual case: one query, nothing to tell
    ids = [o.facility_id for o in pending]
    query = select(Facility.id, Facility.name).where(Facility.id.in_(ids))  # type: ignore[attr-defined]
    names = dict((await session.exec(query)).all())
    now = datetime.now(UTC)
    told = 0
    for offer in pending:
        told += await add_event_alerts(
            session=session,
            rule=AlertRule.transfer_request,
            event_key=event_key(offer),
            payload=payload(request, offer, names.get(offer.facility_id, offer.facility_id), now),
            facility_id=offer.facility_id,
        )
    return told


def event_key(offer: TransferOffer) -> str:
    return f"offer:{offer.id}"


def payload(
    request: TransferRequest, offer: TransferOffer, ward_name: str, now: datetime
) -> dict[str, Any]:
    """The alert of one offer: what its ward's screen shows, in both languages."""
    minutes = max(0, round((offer.deadline_at - now).total_seconds() / 60))
    text = messages.ALERT_TRANSFER(
        facility=ward_name,
        category=str(request.category),
        urgency=str(request.urgency),
        minutes=minutes,
    )
    return {
        "region": request.region,
        "facility_id": offer.facility_id,
        "request_id": request.id,
        "offer_id": offer.id,
        "category": str(request.category),
        "request_type": str(request.request_type),
        "ga_band": str(request.ga_band) if request.ga_band else None,
        "urgency": str(request.urgency),
        "deadline_at": offer.deadline_at.isoformat(),
        "at": now.isoformat(),
        "text": {"en": str(text), "nl": text.nl},
    }
