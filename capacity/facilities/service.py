"""Regions and facilities: seeding from the reference list, listing, and admin changes."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import selectinload
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.contacts.models import ContactPublic
from capacity.errors import InputError
from capacity.facilities.models import (
    ID_PATTERN,
    Facility,
    FacilityCreate,
    FacilityKind,
    FacilityPublic,
    FacilityUpdate,
    Region,
    default_categories,
)
from capacity.i18n import messages


def reference_data() -> dict[str, Any]:
    """The shipped copy of the 10 ROAZ regions and 76 facilities."""
    text = resources.files("capacity").joinpath("data/facilities.json").read_text("utf-8")
    return dict(json.loads(text))


async def seed(*, session: AsyncSession) -> tuple[int, int]:
    """Insert the reference regions and facilities that are missing; returns (regions, facilities).

    Idempotent: what exists (perhaps edited by an admin) is left as it is.
    """
    data = reference_data()
    have_regions = set((await session.exec(select(Region.id))).all())
    have_facilities = set((await session.exec(select(Facility.id))).all())
    new_regions = [r for r in data["regions"] if r["id"] not in have_regions]
    for r in new_regions:
        session.add(Region(id=r["id"], name=r["name"]))
    await session.flush()
    new_facilities = [f for f in data["facilities"] if f["id"] not in have_facilities]
    for f in new_facilities:
        kind = FacilityKind(f["kind"])
        session.add(
            Facility(
                id=f["id"],
                name=f["name"],
                kind=kind,
                region=f["region"],
                city=f["city"],
                lat=f["lat"],
                lon=f["lon"],
                has_nicu=bool(f["has_nicu"]),
                phone=f.get("phone"),
                categories=[c.value for c in default_categories(kind, bool(f["has_nicu"]))],
            )
        )
    if new_regions or new_facilities:
        audit.record(
            session=session,
            actor="system:seed",
            action="reference.seed",
            entity="facility",
            detail={"regions": len(new_regions), "facilities": len(new_facilities)},
        )
    await session.flush()
    return len(new_regions), len(new_facilities)


async def list_regions(*, session: AsyncSession) -> list[Region]:
    return list((await session.exec(select(Region).order_by(Region.id))).all())


def _plausible_id(ident: str) -> bool:
    """Ids are short slugs; anything else (a NUL byte, say) is unknown without asking SQL."""
    return len(ident) <= 64 and re.fullmatch(ID_PATTERN, ident) is not None


async def get_region(*, session: AsyncSession, region_id: str) -> Region | None:
    return await session.get(Region, region_id) if _plausible_id(region_id) else None


async def list_facilities(*, session: AsyncSession, region: str | None = None) -> list[Facility]:
    """Active facilities, of one region if given, ordered by region then name."""
    query = select(Facility).where(Facility.active == True)  # noqa: E712 - SQL expression
    query = query.options(selectinload(Facility.contacts))  # type: ignore[arg-type]
    if region is not None:
        query = query.where(Facility.region == region)
    return list((await session.exec(query.order_by(Facility.region, Facility.name))).all())


async def get_facility(*, session: AsyncSession, facility_id: str) -> Facility | None:
    if not _plausible_id(facility_id):
        return None
    facility = await session.get(
        Facility,
        facility_id,
        options=[selectinload(Facility.contacts)],  # type: ignore[arg-type]
    )
    return facility if facility is not None and facility.active else None


async def get_facility_any(*, session: AsyncSession, facility_id: str) -> Facility | None:
    """The facility whether active or not (admins see and reactivate deactivated ones)."""
    return await session.get(Facility, facility_id) if _plausible_id(facility_id) else None


async def list_all_facilities(*, session: AsyncSession) -> list[Facility]:
    """Every facility, deactivated ones included, ordered by region then name (admin)."""
    query = select(Facility).order_by(Facility.region, Facility.name)
    query = query.options(selectinload(Facility.contacts))  # type: ignore[arg-type]
    return list((await session.exec(query)).all())


def to_public(facility: Facility) -> FacilityPublic:
    """The facility as answered; its numbers if they were loaded (a new one has none yet)."""
    loaded = "contacts" not in inspect(facility).unloaded
    contacts = [
        ContactPublic.model_validate(c, from_attributes=True)
        for c in (facility.contacts if loaded else [])
    ]
    return FacilityPublic.model_validate({**facility.model_dump(), "contacts": contacts})


async def create_facility(
    *, session: AsyncSession, facility_in: FacilityCreate, actor: str
) -> Facility:
    """Add a facility (admin); its categories default by kind."""
    if await session.get(Facility, facility_in.id) is not None:
        raise InputError("id", messages.FACILITY_EXISTS(facility=facility_in.id))
    if await session.get(Region, facility_in.region) is None:
        raise InputError("region", messages.UNKNOWN_REGION(region=facility_in.region))
    categories = facility_in.categories or default_categories(
        facility_in.kind, facility_in.has_nicu
    )
    facility = Facility(
        **facility_in.model_dump(exclude={"categories"}),
        categories=[c.value for c in categories],
    )
    session.add(facility)
    audit.record(
        session=session,
        actor=actor,
        action="facility.create",
        entity="facility",
        entity_id=facility.id,
        detail=facility_in.model_dump(mode="json"),
    )
    await session.flush()
    return facility


async def update_facility(
    *, session: AsyncSession, facility: Facility, facility_in: FacilityUpdate, actor: str
) -> Facility:
    """Change name, ward phone, coordinates, categories offered, region or active (admin).

    The caller holds the locks of the regions involved (``availability.membership``). Only what
    differs is changed and audited; a move and a (de)activation get their own action, with the
    region before and after.
    """
    changes = {
        field: value
        for field, value in facility_in.model_dump(exclude_unset=True, mode="json").items()
        if getattr(facility, field) != value
    }
    moved_from = facility.region
    if "region" in changes and await session.get(Region, changes["region"]) is None:
        raise InputError("region", messages.UNKNOWN_REGION(region=changes["region"]))
    for field, value in changes.items():
        setattr(facility, field, value)
    session.add(facility)
    if "active" in changes:
        action = "facility.activate" if changes["active"] else "facility.deactivate"
    elif "region" in changes:
        action = "facility.move"
    else:
        action = "facility.update"
    if "region" in changes:
        changes = {**changes, "region_before": moved_from}
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity="facility",
        entity_id=facility.id,
        detail={**changes, "region": facility.region} if changes else {},
    )
    await session.flush()
    return facility
