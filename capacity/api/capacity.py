"""The regional picture, and the figures and stops that hospitals push."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.api.conditional import ENTRY, IfMatch, conditional, expected_version, tagged
from capacity.api.deps import (
    DbDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    UnitOfWorkDep,
    check_region_readable,
)
from capacity.api.responses import ERRORS, JSONBytes
from capacity.auth.service import may_read_entry, may_write_facility
from capacity.availability import service
from capacity.availability.conflict import deactivated
from capacity.availability.models import (
    CapacityUpdate,
    FacilityCapacity,
    RegionCapacity,
    StopIn,
)
from capacity.errors import Forbidden, NotFound
from capacity.facilities import service as facilities
from capacity.facilities.models import Slug
from capacity.i18n import messages

router = APIRouter(prefix="/api/v1", tags=["capacity"], responses=ERRORS)


@router.get(
    "/regions/{region}/capacity",
    response_class=JSONBytes,
    response_model=RegionCapacity,
    responses={200: {"description": "The regional picture"}},
)
async def region_capacity(
    region: Slug,
    principal: PrincipalDep,
    session: SessionDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Any:
    """Every facility of the region with its figures, colours, freshness and stop."""
    await check_region_readable(session, principal, region)
    picture = await service.region_capacity(db=db, store=store, settings=settings, region_id=region)
    return JSONBytes(picture)


@router.get(
    "/facilities/{facility_id}/capacity",
    response_class=JSONBytes,
    responses={200: ENTRY[200]},
)
async def facility_capacity(
    facility_id: Slug,
    principal: PrincipalDep,
    session: SessionDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Any:
    """One facility's entry, as in its region's picture: for whoever may read the region, and
    for the facility's own API keys (a group key: each of its facilities)."""
    if principal.is_key and not principal.key_for(facility_id):
        raise Forbidden(messages.NOT_YOUR_ENTRY(facility=facility_id))  # whether or not it exists
    facility = await facilities.get_facility(session=session, facility_id=facility_id)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    if not may_read_entry(principal, facility_id, facility.region):
        raise Forbidden(messages.NOT_YOUR_ENTRY(facility=facility_id))
    entry = await service.facility_entry(db=db, store=store, settings=settings, facility=facility)
    return tagged(entry)


async def _check_write(principal: PrincipalDep, session: AsyncSession, facility_id: str) -> None:
    """403 for another facility whether or not it exists (as for figures); 404 for admins."""
    if not may_write_facility(principal, facility_id):
        raise Forbidden(messages.NOT_YOUR_FIGURES(facility=facility_id))
    facility = await facilities.get_facility_any(session=session, facility_id=facility_id)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    if not facility.active:
        raise deactivated(facility_id)


def _inline_schema(model: type[SQLModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` put in place (for ``openapi_extra``)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return dict(inline(schema))


async def _capacity_update(request: Request) -> CapacityUpdate:
    """The body, parsed by pydantic straight from the bytes; 422 naming the field otherwise.

    FastAPI's own body handling (content-type parsing, ``json.loads``, then validation) cost a
    fifth of the server's time per push in the ingest profile.
    """
    try:
        return CapacityUpdate.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            # With its context: the limits and choices a Dutch answer names (api/errors.py).
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


@router.put(
    "/facilities/{facility_id}/capacity",
    response_class=JSONBytes,
    response_model=FacilityCapacity,
    responses=ENTRY,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline_schema(CapacityUpdate)}},
        }
    },
)
async def put_capacity(
    facility_id: Slug, request: Request, principal: PrincipalDep, if_match: IfMatch = None
) -> Any:
    """Set absolute figures for some categories; categories not named stay as they are.

    With ``If-Match``, only if the facility is still at that version (else 412).
    """
    # The hot path of hospitals' systems: the permission check needs no query, and the writer
    # answers 404 for an unknown facility inside its own transaction.
    update_in = await _capacity_update(request)
    expected = expected_version(if_match)
    if not may_write_facility(principal, facility_id):
        raise Forbidden(messages.NOT_YOUR_FIGURES(facility=facility_id))
    state = request.app.state
    write = service.update_capacity(
        db=state.db,
        store=state.store,
        settings=state.settings,
        facility_id=facility_id,
        update_in=update_in,
        actor=principal.actor,
        expected_version=expected,
    )
    return tagged(await conditional(request, write))


@router.put(
    "/facilities/{facility_id}/stop",
    response_class=JSONBytes,
    response_model=FacilityCapacity,
    responses=ENTRY,
)
async def put_stop(
    facility_id: Slug,
    stop_in: StopIn,
    request: Request,
    principal: PrincipalDep,
    uow: UnitOfWorkDep,
    store: StoreDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> Any:
    """Declare a stop (volmelding) with a reason and an optional expected end."""
    expected = expected_version(if_match)
    await _check_write(principal, uow.session, facility_id)
    write = service.declare_stop(
        uow=uow,
        store=store,
        settings=settings,
        facility_id=facility_id,
        stop_in=stop_in,
        actor=principal.actor,
        expected_version=expected,
    )
    return tagged(await conditional(request, write))


@router.delete(
    "/facilities/{facility_id}/stop",
    response_class=JSONBytes,
    response_model=FacilityCapacity,
    responses=ENTRY,
)
async def delete_stop(
    facility_id: Slug,
    request: Request,
    principal: PrincipalDep,
    uow: UnitOfWorkDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> Any:
    """Lift the stop; lifting when none is in force changes nothing and answers the same."""
    expected = expected_version(if_match)
    await _check_write(principal, uow.session, facility_id)
    write = service.end_stop(
        uow=uow,
        store=store,
        settings=settings,
        facility_id=facility_id,
        actor=principal.actor,
        expected_version=expected,
    )
    entry = await conditional(request, write)
    if entry is None:
        facility = await facilities.get_facility(session=uow.session, facility_id=facility_id)
        assert facility is not None
        entry = await service.facility_entry(
            db=db, store=store, settings=settings, facility=facility
        )
    return tagged(entry)
