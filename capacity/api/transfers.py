"""Transfer requests: a proposal of wards, one request to several wards, their answers.

Each write commits, then announces the change on Redis pub/sub (``capacity.transfers.live``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from capacity.api.deps import (
    DbDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    UnitOfWorkDep,
    check_region_readable,
    require,
)
from capacity.api.responses import ERRORS, ErrorBody
from capacity.auth.models import Principal, Role
from capacity.errors import InputError
from capacity.facilities.models import Category, Slug
from capacity.i18n import messages
from capacity.storage.db import UnitOfWork
from capacity.transfers import alerting, answers, live, service, stats
from capacity.transfers.models import (
    DEFAULT_WARDS,
    AcceptResult,
    City,
    Decline,
    OfferPublic,
    OffersCreate,
    Proposal,
    TransferCreate,
    TransferOffer,
    TransferPublic,
    TransferRequest,
    TransferStats,
    Urgency,
    WardOffer,
)
from capacity.transfers.proposal import origin, pictures_of, propose
from capacity.transfers.writer import TransferWriter

router = APIRouter(prefix="/api/v1", tags=["transfers"], responses=ERRORS)

Asker = Annotated[Principal, require(Role.midwife, Role.facility_staff)]
Reader = Annotated[Principal, require(Role.midwife, Role.facility_staff, Role.admin)]
Ward = Annotated[Principal, require(Role.facility_staff)]
WardReader = Annotated[Principal, require(Role.facility_staff, Role.admin)]
Analyst = Annotated[Principal, require(Role.analyst, Role.admin)]
LatQ = Annotated[float | None, Query(ge=50.5, le=53.8, description="WGS84, rounded to 0.01")]
LonQ = Annotated[float | None, Query(ge=3.2, le=7.3, description="WGS84, rounded to 0.01")]
CityQ = Annotated[City | None, Query(description="Instead of lat/lon")]


async def _announce(
    uow: UnitOfWork,
    store: Any,
    request: TransferRequest,
    offers: list[TransferOffer],
    http: Request | None = None,
) -> dict[str, Any]:
    """Commit, then publish the change; the request as answered. With ``http`` (new offers):
    the wards' ``transfer_request`` alerts go into the outbox in the same transaction."""
    changes = await live.messages_for(uow.session, request, offers)
    told = 0
    if http is not None:
        told = await alerting.offers_made(session=uow.session, request=request, offers=offers)
    await uow.commit_now()
    await live.publish(store.redis, changes)
    if http is not None:
        _deliver_now(http, told)
    return dict(changes[0][1]["request"])


def _deliver_now(http: Request, alerts: int) -> None:
    """Alerts were queued: have them delivered now (else the scheduler's alerts job does, at
    its next run)."""
    watcher = getattr(http.app.state, "alert_watcher", None)
    if alerts and watcher is not None:
        watcher.kick()


@router.get("/transfers/proposal", response_model=Proposal)
async def get_proposal(
    principal: Asker,
    session: SessionDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
    category: Category,
    urgency: Urgency = Urgency.non_acute,
    lat: LatQ = None,
    lon: LonQ = None,
    city: CityQ = None,
) -> Any:
    """The nearest wards with room in ``category`` now (green or orange, fresh, not on stop),
    nearest first, those within 45 minutes leading, every region included; ``urgency=acute``
    is a 422 with the standing rule (nearest hospital, call)."""
    service.check_urgency(urgency)
    at_lat, at_lon, _ = await origin(session=session, lat=lat, lon=lon, city=city)
    pictures = pictures_of(db, store, settings, datetime.now(UTC))
    wards = await propose(
        session=session, pictures=pictures, category=category, lat=at_lat, lon=at_lon
    )
    return {"category": category, "wards": wards}


@router.post("/transfers", status_code=201, response_model=TransferPublic)
async def post_transfer(
    http: Request,
    transfer_in: TransferCreate,
    principal: Asker,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Any:
    """Send one request to several wards at once (``facilities``, 1 to 8; default the first 3
    of the proposal); each gets an offer to answer before the region's deadline.

    The hot path of a burst: the writer's batch does the SQL, a session is opened only for a
    city or a proposal, and the answer (built from the validated model) is sent as is."""
    now = datetime.now(UTC)
    service.check_urgency(transfer_in.urgency)
    ids = transfer_in.facilities
    async with db.session() as session:  # no connection unless a city or a proposal needs one
        where = await origin(
            session=session, lat=transfer_in.lat, lon=transfer_in.lon, city=transfer_in.city
        )
        if ids is None:
            wards = await propose(
                session=session,
                pictures=pictures_of(db, store, settings, now),
                category=transfer_in.category,
                lat=where[0],
                lon=where[1],
            )
            ids = [w["facility_id"] for w in wards[:DEFAULT_WARDS]]
            if not ids:
                no_room = messages.NO_WARD_WITH_ROOM(category=transfer_in.category.value)
                raise InputError("facilities", no_room)
    service.check_count(ids)
    writer = TransferWriter.of(db, store.redis, settings)
    created = await writer.submit(
        transfer_in=transfer_in, ids=ids, where=where, principal=principal, now=now
    )
    _deliver_now(http, created.alerts)
    return Response(orjson.dumps(created.request), 201, media_type="application/json")


@router.get("/transfers/stats", response_model=TransferStats)
async def get_stats(
    principal: Analyst,
    session: SessionDep,
    region: Annotated[
        Slug | None, Query(description="Default: the analyst's region, or all")
    ] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
) -> Any:
    """Per ISO week: median minutes from request to acceptance, share placed at the first ward
    asked, wards asked per request (aggregates only)."""
    region = region or principal.region_id
    if region is not None:
        await check_region_readable(session, principal, region)
    weeks = await stats.weekly(session=session, region=region, start=from_, end=to)
    return {"region": region, "weeks": weeks}


@router.get("/transfers/{request_id:int}", response_model=TransferPublic)
async def get_transfer(request_id: int, principal: Reader, session: SessionDep) -> Any:
    """The request with every offer's state; for the account that made it, and admins."""
    return await service.read(session=session, request_id=request_id, principal=principal)


@router.post("/transfers/{request_id:int}/cancel", response_model=TransferPublic)
async def cancel_transfer(
    request_id: int, principal: Reader, uow: UnitOfWorkDep, store: StoreDep
) -> Any:
    """Cancel the request; its pending offers are withdrawn (409 once placed or cancelled)."""
    request, withdrawn = await service.cancel(
        session=uow.session, request_id=request_id, principal=principal, now=datetime.now(UTC)
    )
    return await _announce(uow, store, request, withdrawn)


@router.post("/transfers/{request_id:int}/offers", status_code=201, response_model=TransferPublic)
async def post_offers(
    http: Request,
    request_id: int,
    body: OffersCreate,
    principal: Reader,
    uow: UnitOfWorkDep,
    store: StoreDep,
) -> Any:
    """Ask further wards (1 to 8, none asked before) while the request is open, or reopen it
    when every ward asked declined or let the deadline pass."""
    request, offers = await service.send_further(
        session=uow.session,
        request_id=request_id,
        ids=body.facilities,
        principal=principal,
        now=datetime.now(UTC),
    )
    return await _announce(uow, store, request, offers, http)


@router.get("/facilities/{facility_id}/offers", response_model=list[WardOffer])
async def get_ward_offers(facility_id: Slug, principal: WardReader, session: SessionDep) -> Any:
    """The ward's pending offers, oldest first: for its staff and admins."""
    return await service.ward_offers(session=session, facility_id=facility_id, principal=principal)


@router.post(
    "/offers/{offer_id:int}/accept",
    response_model=AcceptResult,
    responses={
        409: {
            "model": ErrorBody,
            "description": "Already placed at another ward, or no longer pending",
        }
    },
)
async def accept_offer(
    offer_id: int,
    principal: Ward,
    uow: UnitOfWorkDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Any:
    """Accept: the request is placed here, exactly once; the other wards' offers are withdrawn.
    A second accept, on any ward and any server process, is a 409."""
    now = datetime.now(UTC)
    request, offer, withdrawn = await answers.accept(
        session=uow.session,
        offer_id=offer_id,
        principal=principal,
        pictures=pictures_of(db, store, settings, now),
        now=now,
    )
    shown = await _announce(uow, store, request, [offer, *withdrawn])
    return {"request": shown, "offer": service.offer_public(offer), "phone": shown["placed_phone"]}


@router.post("/offers/{offer_id:int}/decline", response_model=OfferPublic)
async def decline_offer(
    offer_id: int,
    body: Decline,
    principal: Ward,
    uow: UnitOfWorkDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Any:
    """Decline with a refusal reason; recorded as a refusal of the asker's search."""
    now = datetime.now(UTC)
    request, offer = await answers.decline(
        session=uow.session,
        offer_id=offer_id,
        reason=body.reason,
        principal=principal,
        pictures=pictures_of(db, store, settings, now),
        now=now,
    )
    await _announce(uow, store, request, [offer])
    return service.offer_public(offer)
