"""Reading and replacing a facility's numbers, a region's coordination number, and demo numbers."""

from __future__ import annotations

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.contacts.models import (
    CONTACT_ORDER,
    ContactIn,
    ContactPublic,
    ContactType,
    CoordinationIn,
    FacilityContact,
)
from capacity.facilities.models import Category, Facility, FacilityKind, Region


def ordered(contacts: list[FacilityContact]) -> list[ContactPublic]:
    """The numbers in the order a midwife needs them: delivery ward first."""
    rows = sorted(contacts, key=lambda c: CONTACT_ORDER.index(ContactType(c.type)))
    return [ContactPublic(type=c.type, phone=c.phone, demo=c.demo) for c in rows]


async def list_contacts(*, session: AsyncSession, facility_id: str) -> list[ContactPublic]:
    query = select(FacilityContact).where(FacilityContact.facility_id == facility_id)
    # As stored now: a row the session loaded before a lock was taken may since have changed.
    query = query.execution_options(populate_existing=True)
    return ordered(list((await session.exec(query)).all()))


async def replace_contacts(
    *,
    session: AsyncSession,
    facility: Facility,
    contacts_in: list[ContactIn],
    actor: str,
    source: str = "api",
) -> list[ContactPublic]:
    """Replace the facility's whole set of numbers (one audit event holds the new set).

    The facility's row is locked first (PostgreSQL; SQLite's write lock already orders writers),
    so two replacements at once end as one set or the other, never a mix of both.
    """
    await session.exec(  # type: ignore[call-overload]
        select(Facility.id).where(Facility.id == facility.id).with_for_update()
    )
    before = await list_contacts(session=session, facility_id=facility.id)
    await session.exec(  # type: ignore[call-overload]
        delete(FacilityContact).where(col(FacilityContact.facility_id) == facility.id)
    )
    rows = [
        FacilityContact(facility_id=facility.id, type=c.type, phone=c.phone, demo=c.demo)
        for c in contacts_in
    ]
    session.add_all(rows)
    after = ordered(rows)
    audit.record(
        session=session,
        actor=actor,
        action="contacts.update",
        entity="facility",
        entity_id=facility.id,
        detail={
            "before": [c.model_dump(mode="json") for c in before],
            "contacts": [c.model_dump(mode="json") for c in after],
            "source": source,
        },
    )
    await session.flush()
    return after


async def set_coordination(
    *, session: AsyncSession, region: Region, coordination_in: CoordinationIn, actor: str
) -> Region:
    """Set or remove the region's coordination number (admin)."""
    before = {"phone": region.coordination_phone, "demo": region.coordination_demo}
    region.coordination_phone = coordination_in.phone
    region.coordination_demo = coordination_in.demo if coordination_in.phone else False
    session.add(region)
    audit.record(
        session=session,
        actor=actor,
        action="region.coordination_update",
        entity="region",
        entity_id=region.id,
        detail={
            "before": before,
            "phone": region.coordination_phone,
            "demo": region.coordination_demo,
        },
    )
    await session.flush()
    return region


DEMO_PREFIX = "+31 20 000 "  # no Amsterdam number starts with 000: obviously not real


def _demo_phone(n: int) -> str:
    return f"{DEMO_PREFIX}{n:04d}"


async def seed_demo(*, session: AsyncSession) -> int:
    """Demo numbers (marked demo) for every facility and region, once: on an empty table only.

    Development data: a real deployment starts without numbers. Returns how many were made.
    """
    if (await session.exec(select(FacilityContact.facility_id).limit(1))).first() is not None:
        return 0
    facilities = list((await session.exec(select(Facility).order_by(Facility.id))).all())
    made = 0
    for i, f in enumerate(facilities):
        types = [ContactType.verloskunde]
        if {Category.neonatal_high_care, Category.nicu} & set(f.categories):
            types.append(ContactType.neonatologie)
        if FacilityKind(f.kind) is not FacilityKind.birth_centre:
            types.append(ContactType.coordinator)
        for t in types:
            number = _demo_phone(1 + 3 * i + CONTACT_ORDER.index(t))
            session.add(FacilityContact(facility_id=f.id, type=t, phone=number, demo=True))
            made += 1
    regions = list((await session.exec(select(Region).order_by(Region.id))).all())
    for j, r in enumerate(regions):
        if r.coordination_phone is None:
            r.coordination_phone, r.coordination_demo = _demo_phone(900 + j), True
            session.add(r)
            made += 1
    audit.record(
        session=session,
        actor="system:demo",
        action="contacts.seed_demo",
        entity="facility",
        detail={"numbers": made},
    )
    await session.flush()
    return made
