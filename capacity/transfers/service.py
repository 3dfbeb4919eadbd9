"""Making a transfer request, sending it to further wards, cancelling it, and reading it.

Every change locks the request's row first (``_locked``: ``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's write transaction holds the whole file), so that the changes of one request
take turns across processes. Services flush; the caller commits, then publishes (``live``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.auth.models import Principal, Role
from capacity.contacts.service import list_contacts
from capacity.errors import Conflict, Forbidden, InputError, NotFound
from capacity.facilities.models import Facility, Region
from capacity.i18n import messages
from capacity.transfers.models import (
    MAX_WARDS,
    OfferPublic,
    OfferStatus,
    TransferOffer,
    TransferPublic,
    TransferRequest,
    TransferStatus,
    Urgency,
    WardOffer,
)
from capacity.transfers.proposal import drive_minutes


def check_urgency(urgency: Urgency) -> None:
    """Acute is not a request: the standing rule is the answer (422 naming ``urgency``)."""
    if urgency == Urgency.acute:
        raise InputError("urgency", messages.ACUTE_STANDING_RULE())


class Ward(Protocol):
    """What a ward check and a ward's view of an offer read of a facility."""

    @property
    def active(self) -> bool: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


def check_count(ids: list[str]) -> None:
    """1 to 8 wards (checked before anything is read: the ids are bound into one query)."""
    if not 1 <= len(ids) <= MAX_WARDS:
        raise InputError("facilities", messages.WARDS_COUNT(max=MAX_WARDS))


def check_wards(ids: list[str], found: Mapping[str, Ward], category: str, asked: set[str]) -> None:
    """The wards named: 1 to 8, each once, known and active, offering the category and not
    asked before; else a 422 naming the ward's place in ``facilities``."""
    check_count(ids)
    for n, facility_id in enumerate(ids):
        field = f"facilities.{n}"
        if facility_id in ids[:n]:
            raise InputError(field, messages.WARD_TWICE(facility=facility_id))
        if facility_id in asked:
            raise InputError(field, messages.WARD_ASKED_ALREADY(facility=facility_id))
        facility = found.get(facility_id)
        if facility is None or not facility.active:
            raise InputError(field, messages.UNKNOWN_FACILITY(facility=facility_id))
        if category not in facility.categories:
            raise InputError(
                field, messages.DOES_NOT_OFFER(facility=facility_id, category=category)
            )


async def _wards(
    session: AsyncSession, ids: list[str], category: str, asked: set[str]
) -> list[Facility]:
    """The wards named (``check_wards``), read in one query."""
    check_count(ids)
    query = select(Facility).where(col(Facility.id).in_(ids))
    found = {f.id: f for f in (await session.exec(query)).all()}
    check_wards(ids, found, str(category), asked)
    return [found[facility_id] for facility_id in ids]


async def _add_offers(
    session: AsyncSession, request: TransferRequest, wards: list[Facility], now: datetime
) -> list[TransferOffer]:
    """An offer to each ward, in one INSERT (the ORM's flush made one per offer)."""
    deadline = now + timedelta(minutes=request.deadline_minutes)
    assert request.id is not None
    rows = [
        {
            "request_id": request.id,
            "facility_id": w.id,
            "sent_at": now,
            "deadline_at": deadline,
            "status": OfferStatus.pending,
        }
        for w in wards
    ]
    added = (await session.exec(insert(TransferOffer).returning(TransferOffer), params=rows)).all()
    by_ward = {offer.facility_id: offer for (offer,) in added}  # RETURNING has no set order
    return [by_ward[w.id] for w in wards]


def _audit(
    session: AsyncSession,
    actor: str,
    action: str,
    request: TransferRequest,
    now: datetime,
    offers: list[TransferOffer] | None = None,
    **detail: Any,
) -> None:
    if offers is not None:
        detail["offers"] = [{"id": o.id, "facility_id": o.facility_id} for o in offers]
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity="transfer_request",
        entity_id=str(request.id),
        at=now,
        detail={"status": str(request.status), **detail},
    )


async def locked(session: AsyncSession, request_id: int) -> TransferRequest:
    """The request, its row locked to the end of the transaction; 404 if unknown."""
    query = (
        select(TransferRequest)
        .where(TransferRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    request = (await session.exec(query)).first()
    if request is None:
        raise NotFound(messages.UNKNOWN_TRANSFER(transfer=request_id))
    return request


def check_owner(request: TransferRequest, principal: Principal) -> None:
    if principal.role is not Role.admin and principal.id != request.created_by:
        raise Forbidden(messages.NOT_YOUR_TRANSFER())


async def offers_of(session: AsyncSession, request_id: int) -> list[TransferOffer]:
    query = select(TransferOffer).where(TransferOffer.request_id == request_id)
    return list((await session.exec(query.order_by(col(TransferOffer.id)))).all())


async def send_further(
    *, session: AsyncSession, request_id: int, ids: list[str], principal: Principal, now: datetime
) -> tuple[TransferRequest, list[TransferOffer]]:
    """Ask further wards while the request is open (or reopen it when every ward said no)."""
    request = await locked(session, request_id)
    check_owner(request, principal)
    if request.status not in (TransferStatus.open, TransferStatus.exhausted):
        raise Conflict(messages.TRANSFER_NOT_OPEN(status=str(request.status)))
    asked = {o.facility_id for o in await offers_of(session, request_id)}
    wards = await _wards(session, ids, request.category, asked)
    request.status = TransferStatus.open
    session.add(request)
    await session.flush()
    offers = await _add_offers(session, request, wards, now)
    _audit(session, principal.actor, "transfer.send", request, now, offers)
    return request, offers


async def cancel(
    *, session: AsyncSession, request_id: int, principal: Principal, now: datetime
) -> tuple[TransferRequest, list[TransferOffer]]:
    """Cancel an open (or exhausted) request; its pending offers are withdrawn."""
    request = await locked(session, request_id)
    check_owner(request, principal)
    if request.status not in (TransferStatus.open, TransferStatus.exhausted):
        raise Conflict(messages.TRANSFER_NOT_OPEN(status=str(request.status)))
    request.status = TransferStatus.cancelled
    session.add(request)
    withdrawn = [o for o in await offers_of(session, request_id) if o.status == OfferStatus.pending]
    for offer in withdrawn:
        offer.status, offer.answered_at = OfferStatus.withdrawn, now
        session.add(offer)
    await session.flush()
    _audit(session, principal.actor, "transfer.cancel", request, now, withdrawn)
    return request, withdrawn


async def read(*, session: AsyncSession, request_id: int, principal: Principal) -> dict[str, Any]:
    """The request with its offers, for its creator and admins."""
    request = await session.get(TransferRequest, request_id)
    if request is None:
        raise NotFound(messages.UNKNOWN_TRANSFER(transfer=request_id))
    check_owner(request, principal)
    return await public(session, request)


async def public(session: AsyncSession, request: TransferRequest) -> dict[str, Any]:
    """The request as JSON, with all its offers (by id) and, once placed, the ward's number."""
    phone = None
    if request.placed_facility_id is not None:
        phone = await ward_phone(session, request.placed_facility_id)
    assert request.id is not None
    return shown(request, await offers_of(session, request.id), phone)


def shown(
    request: TransferRequest, offers: list[TransferOffer], phone: str | None = None
) -> dict[str, Any]:
    """The request as JSON with the offers given (``public`` reads them and the number)."""
    fields = {
        **request.model_dump(warnings=False),
        "placed_phone": phone,
        "offers": [offer_public(o) for o in offers],
    }
    return TransferPublic.model_validate(fields).model_dump(mode="json")


async def ward_phone(session: AsyncSession, facility_id: str) -> str | None:
    """The number to call for the handover: the ward's first contact (delivery ward before
    neonatology and coordinator), else the facility's, else its region's coordination number."""
    contacts = await list_contacts(session=session, facility_id=facility_id)
    if contacts:
        return contacts[0].phone
    facility = await session.get(Facility, facility_id)
    if facility is None:
        return None
    region = await session.get(Region, facility.region)
    return facility.phone or (region.coordination_phone if region else None)


def offer_public(offer: TransferOffer) -> dict[str, Any]:
    return OfferPublic.model_validate(offer.model_dump(warnings=False)).model_dump(mode="json")


async def ward_offers(
    *, session: AsyncSession, facility_id: str, principal: Principal
) -> list[dict[str, Any]]:
    """A ward's pending offers, oldest first: for its staff and admins only."""
    if principal.role is not Role.admin and principal.facility_id != facility_id:
        raise Forbidden(messages.NOT_YOUR_WARD())
    facility = await session.get(Facility, facility_id)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    query = (
        select(TransferOffer, TransferRequest)
        .join(TransferRequest, col(TransferRequest.id) == col(TransferOffer.request_id))
        .where(
            TransferOffer.facility_id == facility_id,
            TransferOffer.status == OfferStatus.pending,
        )
        .order_by(col(TransferOffer.sent_at), col(TransferOffer.id))
    )
    return [ward_offer(o, r, facility) for o, r in (await session.exec(query)).all()]


def ward_offer(offer: TransferOffer, request: TransferRequest, facility: Ward) -> dict[str, Any]:
    """An offer as the ward sees it: the request's closed-list facts and the drive, no origin."""
    minutes = None
    if request.origin_lat is not None and request.origin_lon is not None:
        minutes = drive_minutes(request.origin_lat, request.origin_lon, facility.lat, facility.lon)
    shown = {
        **offer.model_dump(warnings=False),
        "category": request.category,
        "request_type": request.request_type,
        "ga_band": request.ga_band,
        "urgency": request.urgency,
        "minutes": minutes,
    }
    return WardOffer.model_validate(shown).model_dump(mode="json")


async def open_of(*, session: AsyncSession, account_id: int) -> list[dict[str, Any]]:
    """The account's requests still waiting for a ward (open), oldest first."""
    query = select(TransferRequest).where(
        TransferRequest.created_by == account_id, TransferRequest.status == TransferStatus.open
    )
    found = (await session.exec(query.order_by(col(TransferRequest.id)))).all()
    return [await public(session, r) for r in found]
