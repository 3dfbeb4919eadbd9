"""Refusals, ROAZ statistics, capacity over time, exports and the monthly reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from capacity.api.deps import DbDep, SettingsDep, StoreDep, require
from capacity.api.responses import ERRORS
from capacity.auth.models import Principal, Role
from capacity.availability import service as availability
from capacity.refusals import service
from capacity.refusals.models import RefusalCreate, RefusalPublic, RefusalUpdate, public

router = APIRouter(prefix="/api/v1", tags=["refusals"], responses=ERRORS)

Recorder = Annotated[Principal, require(Role.midwife, Role.facility_staff, Role.admin)]
Reader = Annotated[Principal, require(Role.analyst, Role.admin)]
GroupBy = Literal[
    "facility", "reason", "request_type", "category", "week", "month", "hour", "weekday"
]
FromQ = Annotated[date | None, Query(alias="from", description="First day (local date)")]
ToQ = Annotated[date | None, Query(alias="to", description="Last day, inclusive")]


@router.post("/refusals", status_code=201, response_model=RefusalPublic)
async def post_refusal(
    refusal_in: RefusalCreate, principal: Recorder, db: DbDep, store: StoreDep,
    settings: SettingsDep,
) -> Any:
    """Record a refusal (or, with ``decision: accepted``, an accepted transfer).

    The service stamps the region and ``shown_status``: what the regional picture showed for
    the facility and category at this moment (``shown_stale``, ``shown_stop_reason``,
    ``shown_available`` and ``shown_staffed`` complete it).
    """
    now = datetime.now(UTC)
    async with db.write_session() as session:
        facility = await service.check_create(session=session, refusal_in=refusal_in, now=now)
        picture = await availability.region_capacity(
            db=db, store=store, settings=settings, region_id=facility.region, now=now
        )
        refusal = await service.record_refusal(
            session=session, refusal_in=refusal_in, facility=facility, picture=picture,
            account_id=principal.id, actor=principal.actor, now=now,
        )
        await session.commit()
        return public(refusal)


@router.patch("/refusals/{refusal_id}", response_model=RefusalPublic)
async def patch_refusal(
    refusal_id: int, update_in: RefusalUpdate, principal: Recorder, db: DbDep
) -> Any:
    """Set the outcome; only the account that recorded it, within 24 hours."""
    async with db.write_session() as session:
        refusal = await service.set_outcome(
            session=session, refusal_id=refusal_id, update_in=update_in,
            account_id=principal.id, actor=principal.actor,
        )
        await session.commit()
        return public(refusal)
