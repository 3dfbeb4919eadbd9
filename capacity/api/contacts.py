"""Whom to phone: a facility's numbers (its own staff or an admin keep them), regions' numbers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.api.deps import AdminDep, PrincipalDep, SessionDep, UnitOfWorkDep
from capacity.api.responses import ERRORS
from capacity.auth.models import Role
from capacity.auth.service import may_write_facility
from capacity.contacts import importer, service
from capacity.contacts.models import (
    ContactsIn,
    CoordinationIn,
    FacilityContacts,
    ImportResult,
    RegionCoordination,
)
from capacity.errors import Forbidden, NotFound
from capacity.facilities import service as facilities
from capacity.facilities.models import Facility, Slug
from capacity.i18n import messages

CSV_PATTERN = r'^\uFEFF?[0-9A-Za-z_;,"\r\n ()+-]*$'


async def _facility(session: AsyncSession, facility_id: str, *, admin: bool) -> Facility | None:
    """The facility named; admins also keep the numbers of a deactivated one (shown again when
    it is reactivated), everyone else sees only active facilities."""
    if admin:
        return await facilities.get_facility_any(session=session, facility_id=facility_id)
    return await facilities.get_facility(session=session, facility_id=facility_id)


router = APIRouter(prefix="/api/v1", tags=["contacts"], responses=ERRORS)


@router.get("/facilities/{facility_id}/contacts", response_model=FacilityContacts)
async def get_contacts(
    facility_id: Slug, principal: PrincipalDep, session: SessionDep
) -> FacilityContacts:
    """The facility's numbers by type (also in every facility of ``GET /facilities``)."""
    if principal.is_key:
        raise Forbidden(messages.API_KEY_ONLY_CAPACITY())
    if await _facility(session, facility_id, admin=principal.role is Role.admin) is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    contacts = await service.list_contacts(session=session, facility_id=facility_id)
    return FacilityContacts(facility_id=facility_id, contacts=contacts)


@router.put("/facilities/{facility_id}/contacts", response_model=FacilityContacts)
async def put_contacts(
    facility_id: Slug, contacts_in: ContactsIn, principal: PrincipalDep, uow: UnitOfWorkDep
) -> FacilityContacts:
    """Replace the facility's numbers (admin, or the facility's own staff); the set given is all."""
    if principal.is_key or not may_write_facility(principal, facility_id):
        raise Forbidden(messages.NOT_YOUR_NUMBERS(facility=facility_id))
    facility = await _facility(uow.session, facility_id, admin=principal.role is Role.admin)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    contacts = await service.replace_contacts(
        session=uow.session,
        facility=facility,
        contacts_in=contacts_in.contacts,
        actor=principal.actor,
    )
    return FacilityContacts(facility_id=facility_id, contacts=contacts)


@router.put("/regions/{region}/coordination-phone", response_model=RegionCoordination)
async def put_coordination_phone(
    region: Slug, coordination_in: CoordinationIn, admin: AdminDep, uow: UnitOfWorkDep
) -> RegionCoordination:
    """Set (or with ``phone: null`` remove) the region's coordination number (admin)."""
    found = await facilities.get_region(session=uow.session, region_id=region)
    if found is None:
        raise NotFound(messages.UNKNOWN_REGION(region=region))
    await service.set_coordination(
        session=uow.session, region=found, coordination_in=coordination_in, actor=admin.actor
    )
    return RegionCoordination(
        region_id=found.id,
        coordination_phone=found.coordination_phone,
        coordination_demo=found.coordination_demo,
    )


@router.post(
    "/contacts/import",
    response_model=ImportResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    # What the rows may hold: ids, types, numbers and separators. Each cell is
                    # checked again (id pattern, type enum, phone pattern): no text is stored.
                    "schema": {
                        "type": "string",
                        "pattern": CSV_PATTERN,
                        "maxLength": 64 * 1024,
                    },
                    "example": "facility_id;type;phone\n"
                    "erasmus-mc-rotterdam;verloskunde;+31 10 703 0000\n",
                }
            },
        }
    },
)
async def import_contacts(request: Request, admin: AdminDep, uow: UnitOfWorkDep) -> ImportResult:
    """Replace the numbers of every facility a CSV file names (admin): all rows, or none.

    Header ``facility_id;type;phone`` (``,`` works too), UTF-8 with or without BOM. A bad row
    is a 422 naming its line and column (``line 4.phone``), and nothing is stored.
    """
    data = await request.body()
    return await importer.import_csv(session=uow.session, data=data, actor=admin.actor)
