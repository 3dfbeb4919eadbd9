"""Regions and facilities: reading for everyone signed in, changes for admins."""

from __future__ import annotations

from fastapi import APIRouter, Query

from capacity.api.deps import (
    AdminDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    UnitOfWorkDep,
)
from capacity.api.responses import ERRORS
from capacity.auth.models import Role
from capacity.availability import membership
from capacity.availability import service as availability
from capacity.errors import Forbidden, NotFound
from capacity.facilities import service
from capacity.facilities.models import (
    FacilityCreate,
    FacilityPublic,
    FacilityUpdate,
    RegionPublic,
    Slug,
)
from capacity.i18n import messages

router = APIRouter(prefix="/api/v1", tags=["facilities"], responses=ERRORS)


def _no_keys(principal: PrincipalDep) -> None:
    if principal.is_key:
        raise Forbidden(messages.API_KEY_ONLY_CAPACITY())


@router.get("/regions", response_model=list[RegionPublic])
async def list_regions(principal: PrincipalDep, session: SessionDep) -> list[RegionPublic]:
    """The ROAZ regions."""
    _no_keys(principal)
    return [
        RegionPublic.model_validate(r, from_attributes=True)
        for r in await service.list_regions(session=session)
    ]


@router.get("/facilities", response_model=list[FacilityPublic])
async def list_facilities(
    principal: PrincipalDep,
    session: SessionDep,
    region: Slug | None = Query(None, description="Only this region's facilities"),
    include_inactive: bool = Query(False, description="Deactivated ones too (admins only)"),
) -> list[FacilityPublic]:
    """Facilities with obstetrics, NICU centres and birth centres (active ones)."""
    _no_keys(principal)
    if include_inactive:
        if principal.role is not Role.admin:
            raise Forbidden(messages.INACTIVE_ADMIN_ONLY())
        everything = await service.list_all_facilities(session=session)
        return [service.to_public(f) for f in everything if region in (None, f.region)]
    if region is not None and await service.get_region(session=session, region_id=region) is None:
        raise NotFound(messages.UNKNOWN_REGION(region=region))
    return [
        service.to_public(f) for f in await service.list_facilities(session=session, region=region)
    ]


@router.get("/facilities/{facility_id}", response_model=FacilityPublic)
async def get_facility(
    facility_id: Slug, principal: PrincipalDep, session: SessionDep
) -> FacilityPublic:
    """One facility."""
    _no_keys(principal)
    facility = await service.get_facility(session=session, facility_id=facility_id)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    return service.to_public(facility)


@router.post("/facilities", response_model=FacilityPublic, status_code=201)
async def create_facility(
    facility_in: FacilityCreate,
    admin: AdminDep,
    uow: UnitOfWorkDep,
    store: StoreDep,
    settings: SettingsDep,
) -> FacilityPublic:
    """Add a facility (admin); it appears in its region's picture at once."""
    facility = await service.create_facility(
        session=uow.session, facility_in=facility_in, actor=admin.actor
    )
    await availability.rebuild_in(
        uow=uow, store=store, settings=settings, region_id=facility.region
    )
    return service.to_public(facility)


@router.patch("/facilities/{facility_id}", response_model=FacilityPublic)
async def update_facility(
    facility_id: Slug,
    facility_in: FacilityUpdate,
    admin: AdminDep,
    uow: UnitOfWorkDep,
    store: StoreDep,
    settings: SettingsDep,
) -> FacilityPublic:
    """Change a facility's name, ward phone, coordinates, categories offered, region or
    ``active`` (admin). A deactivated facility leaves its region's picture (live clients get a
    fresh snapshot) and takes no figures or stops (409) until reactivated; a moved one leaves
    the old region's picture and appears in the new one with its figures and stop."""
    facility, regions = await membership.change_facility(
        session=uow.session, facility_id=facility_id, facility_in=facility_in, actor=admin.actor
    )
    for region_id in regions:
        await availability.rebuild_in(uow=uow, store=store, settings=settings, region_id=region_id)
    return service.to_public(facility)
