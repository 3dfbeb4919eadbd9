"""A ward's answer to an offer (accept, decline) and the deadline passing (expire).

First accept wins, exactly once: ``accept`` places the request with one conditional UPDATE
(``... WHERE id = :id AND status = 'open'``) in the transaction that accepts the offer. Of two
accepts at once, on any processes, PostgreSQL lets the second UPDATE wait for the first's row
lock and then find the status no longer open (0 rows: 409, its transaction rolled back);
SQLite's write transactions take turns on the whole file, with the same outcome.

Every answer is also a record of ``capacity.refusals``: a decline a refusal with its reason, an
expiry a refusal with ``no_answer``, an accept an acceptance. ``recorded_by`` is the asking
account (the request's ``created_by``): the records are about her search, grouped by the
request's episode, and she may add the outcome within 24 hours as for any record of hers.
``shown_*`` hold what the live picture showed for the ward at the moment of the answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.auth.models import Principal
from capacity.errors import Conflict, Forbidden, InputError, NotFound
from capacity.facilities.models import Facility
from capacity.i18n import messages
from capacity.refusals import service as refusals
from capacity.refusals.models import Decision, RefusalCreate, RefusalReason
from capacity.transfers.models import OfferStatus, TransferOffer, TransferRequest, TransferStatus
from capacity.transfers.proposal import Pictures
from capacity.transfers.service import _audit, locked, offers_of


async def _offer(session: AsyncSession, offer_id: int, principal: Principal) -> TransferOffer:
    """The offer, when the caller is staff of the ward asked (404 unknown, 403 another ward)."""
    offer = await session.get(TransferOffer, offer_id)
    if offer is None:
        raise NotFound(messages.UNKNOWN_OFFER(offer=offer_id))
    if principal.facility_id != offer.facility_id:
        raise Forbidden(messages.NOT_YOUR_OFFER())
    return offer


def _not_pending(offer: TransferOffer, request: TransferRequest) -> Conflict:
    if request.status == TransferStatus.placed and request.placed_facility_id != offer.facility_id:
        return Conflict(messages.ALREADY_PLACED())
    return Conflict(messages.OFFER_NOT_PENDING(status=str(offer.status)))


async def _record(
    *,
    session: AsyncSession,
    request: TransferRequest,
    offer: TransferOffer,
    pictures: Pictures,
    reason: RefusalReason | None,
    actor: str,
    now: datetime,
) -> None:
    """The answer as a record of ``capacity.refusals`` (refusal, or acceptance without reason)."""
    facility = await session.get(Facility, offer.facility_id)
    assert facility is not None
    record = RefusalCreate(
        occurred_at=now,
        facility_id=facility.id,
        category=request.category,
        request_type=request.request_type,
        reason=reason,
        decision=Decision.accepted if reason is None else Decision.refused,
        gestational_age_band=request.ga_band,
        episode=request.episode,
    )
    await refusals.record_refusal(
        session=session,
        refusal_in=record,
        facility=facility,
        picture=await pictures(facility.region),
        account_id=request.created_by,
        actor=actor,
        now=now,
    )


async def accept(
    *,
    session: AsyncSession,
    offer_id: int,
    principal: Principal,
    pictures: Pictures,
    now: datetime,
) -> tuple[TransferRequest, TransferOffer, list[TransferOffer]]:
    """Place the request at the caller's ward; the other pending offers are withdrawn."""
    offer = await _offer(session, offer_id, principal)
    request = await session.get(TransferRequest, offer.request_id)
    assert request is not None and request.id is not None
    if offer.status != OfferStatus.pending:
        raise _not_pending(offer, request)
    # The one place that decides who wins: only an open request can be placed.
    place = update(TransferRequest).where(
        col(TransferRequest.id) == request.id, col(TransferRequest.status) == TransferStatus.open
    )
    placed = await session.exec(  # type: ignore[call-overload]
        place.values(
            status=TransferStatus.placed, placed_at=now, placed_facility_id=offer.facility_id
        )
    )
    if placed.rowcount != 1:
        await session.refresh(request)
        raise (
            _not_pending(offer, request)
            if request.status == TransferStatus.placed
            else Conflict(messages.TRANSFER_NOT_OPEN(status=str(request.status)))
        )
    taken = await session.exec(  # type: ignore[call-overload]
        update(TransferOffer)
        .where(col(TransferOffer.id) == offer.id, col(TransferOffer.status) == OfferStatus.pending)
        .values(status=OfferStatus.accepted, answered_at=now, answered_by=principal.id)
    )
    if taken.rowcount != 1:  # expired meanwhile: everything above is rolled back
        await session.refresh(offer)
        raise Conflict(messages.OFFER_NOT_PENDING(status=str(offer.status)))
    others = [o for o in await offers_of(session, request.id) if o.id != offer.id]
    withdrawn = [o for o in others if o.status == OfferStatus.pending]
    for other in withdrawn:
        other.status, other.answered_at = OfferStatus.withdrawn, now
        session.add(other)
    await session.flush()
    await session.refresh(request)
    await session.refresh(offer)
    await _record(
        session=session,
        request=request,
        offer=offer,
        pictures=pictures,
        reason=None,
        actor=principal.actor,
        now=now,
    )
    _audit(
        session, principal.actor, "transfer.accept", request, now, [offer], withdrawn=len(withdrawn)
    )
    return request, offer, withdrawn


async def _exhaust_if_done(session: AsyncSession, request: TransferRequest) -> None:
    """An open request none of whose offers is pending any more becomes ``exhausted``."""
    assert request.id is not None
    offers = await offers_of(session, request.id)
    if request.status == TransferStatus.open and all(
        o.status != OfferStatus.pending for o in offers
    ):
        request.status = TransferStatus.exhausted
        session.add(request)
        await session.flush()


async def decline(
    *,
    session: AsyncSession,
    offer_id: int,
    reason: RefusalReason,
    principal: Principal,
    pictures: Pictures,
    now: datetime,
) -> tuple[TransferRequest, TransferOffer]:
    """The ward declines with a reason; a refusal record is made of it."""
    if reason == RefusalReason.no_answer:
        raise InputError("reason", messages.NO_ANSWER_IS_THE_SERVICES())
    offer = await _offer(session, offer_id, principal)
    request = await locked(session, offer.request_id)
    await session.refresh(offer)
    if offer.status != OfferStatus.pending:
        raise _not_pending(offer, request)
    offer.status, offer.reason = OfferStatus.declined, reason
    offer.answered_at, offer.answered_by = now, principal.id
    session.add(offer)
    await session.flush()
    await _record(
        session=session,
        request=request,
        offer=offer,
        pictures=pictures,
        reason=reason,
        actor=principal.actor,
        now=now,
    )
    await _exhaust_if_done(session, request)
    _audit(session, principal.actor, "transfer.decline", request, now, [offer], reason=reason.value)
    return request, offer


async def due(session: AsyncSession, now: datetime) -> list[int]:
    """The requests with a pending offer past its deadline."""
    query = select(TransferOffer.request_id).where(
        TransferOffer.status == OfferStatus.pending, col(TransferOffer.deadline_at) <= now
    )
    return sorted(set((await session.exec(query)).all()))


async def expire(
    *, session: AsyncSession, request_id: int, pictures: Pictures, now: datetime
) -> tuple[TransferRequest, list[TransferOffer]]:
    """Expire the request's offers past their deadline: each a refusal ``no_answer``."""
    request = await locked(session, request_id)
    expired = [
        o
        for o in await offers_of(session, request_id)
        if o.status == OfferStatus.pending and o.deadline_at <= now
    ]
    for offer in expired:
        offer.status, offer.reason, offer.answered_at = (
            OfferStatus.expired,
            RefusalReason.no_answer,
            now,
        )
        session.add(offer)
        await session.flush()
        await _record(
            session=session,
            request=request,
            offer=offer,
            pictures=pictures,
            reason=RefusalReason.no_answer,
            actor="system:scheduler",
            now=now,
        )
    await _exhaust_if_done(session, request)
    if expired:
        _audit(session, "system:scheduler", "transfer.expire", request, now, expired)
    return request, expired
