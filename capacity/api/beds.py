"""Bed lists pushed by hospitals' systems, and each facility's mapping of ward codes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.api.capacity import _inline_schema
from capacity.api.conditional import ETAG, IfMatch, VersionConflictBody, conditional
from capacity.api.conditional import expected_version as version_of
from capacity.api.deps import PrincipalDep, SessionDep, UnitOfWorkDep
from capacity.api.responses import ERRORS, ErrorBody, JSONBytes
from capacity.auth.models import Principal
from capacity.auth.service import may_write_facility
from capacity.beds import parse, service, wards
from capacity.beds.models import BedImportResult, BedsIn, FacilityWards, WardsIn
from capacity.errors import Forbidden, NotFound
from capacity.facilities import service as facilities
from capacity.facilities.models import Facility, Slug
from capacity.i18n import messages

router = APIRouter(prefix="/api/v1", tags=["beds"], responses=ERRORS)

# What a CSV bed list may hold: codes, numbers, times and separators; each cell is checked again
# (ward and place patterns, the status list, ISO times). "=", "@", quotes of formulas: never.
CSV_PATTERN = r'^\uFEFF?[0-9A-Za-z_.:/;,"\r\n +-]*$'
CSV_EXAMPLE = (
    "ward;room;bed;status;measured_at\n"
    "VK;1.01;1;free;2026-12-05T04:00:00+01:00\n"
    "VK;1.01;2;occupied;2026-12-05T04:00:00+01:00\n"
    "KRAAM;2.10;A;blocked;2026-12-05T04:00:00+01:00\n"
)


@router.post(
    "/facilities/{facility_id}/beds",
    response_class=JSONBytes,
    response_model=BedImportResult,
    responses={
        200: {
            "description": "The figures derived and written (or, for the same list again, "
            "confirmed), with the facility's entry in the picture",
            "headers": ETAG,
        },
        412: {"model": VersionConflictBody, "description": "If-Match named another version"},
        413: {**ERRORS[413], "description": "More than 2000 beds, or a body over the size limit"},
        415: {"model": ErrorBody, "description": "Neither text/csv nor application/json"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "pattern": CSV_PATTERN, "maxLength": 64 * 1024},
                    "example": CSV_EXAMPLE,
                },
                "application/json": {"schema": _inline_schema(BedsIn)},
            },
        }
    },
)
async def post_beds(
    facility_id: Slug, request: Request, principal: PrincipalDep, if_match: IfMatch = None
) -> Any:
    """A bed list (one row per bed): the figures of every mapped category are derived from it.

    CSV (``text/csv``, UTF-8 with or without BOM, ``;`` or ``,``, header
    ``ward;room;bed;status[;measured_at]``) or JSON. All rows or none: a bad row is a 422
    naming its line and column. Wards without a mapping are listed in ``unmapped_wards``.
    """
    expected = version_of(if_match)
    if not may_write_facility(principal, facility_id):
        raise Forbidden(messages.NOT_YOUR_FIGURES(facility=facility_id))
    state = request.app.state
    limit = state.settings.max_body_bytes
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data = await request.body()
    if media == "text/csv":
        beds = parse.from_csv(data, max_bytes=limit)
    elif media == "application/json":
        beds = parse.from_json(data, max_bytes=limit)
    else:
        raise HTTPException(415, messages.BEDS_MEDIA_TYPE())
    write = service.import_beds(
        db=state.db,
        store=state.store,
        settings=state.settings,
        facility_id=facility_id,
        beds=beds,
        actor=principal.actor,
        expected_version=expected,
    )
    result = await conditional(request, write)
    return JSONBytes(result, headers={"ETag": f'"{result["version"]}"'})


async def _wards_facility(
    session: AsyncSession, principal: Principal, facility_id: str
) -> Facility:
    """Admins, and the facility's own staff (not its API key: it sends beds, not the map)."""
    if principal.is_key or not may_write_facility(principal, facility_id):
        raise Forbidden(messages.NOT_YOUR_WARDS(facility=facility_id))
    facility = await facilities.get_facility_any(session=session, facility_id=facility_id)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    return facility


@router.get("/facilities/{facility_id}/wards", response_model=FacilityWards)
async def get_wards(
    facility_id: Slug, principal: PrincipalDep, session: SessionDep
) -> FacilityWards:
    """Which ward codes count for which category (admin, or the facility's staff)."""
    await _wards_facility(session, principal, facility_id)
    found = await wards.list_wards(session=session, facility_id=facility_id)
    return FacilityWards(facility_id=facility_id, wards=found)


@router.put("/facilities/{facility_id}/wards", response_model=FacilityWards)
async def put_wards(
    facility_id: Slug, wards_in: WardsIn, principal: PrincipalDep, uow: UnitOfWorkDep
) -> FacilityWards:
    """Replace the facility's whole ward mapping; codes are kept in upper case."""
    facility = await _wards_facility(uow.session, principal, facility_id)
    done = await wards.replace_wards(
        session=uow.session, facility=facility, wards_in=wards_in.wards, actor=principal.actor
    )
    return FacilityWards(facility_id=facility_id, wards=done)
