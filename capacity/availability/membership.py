"""Which facilities a region's picture holds: an admin's change of a facility (categories,
deactivation, a move to another region) and the regions whose picture must follow.

Such a change locks every region, in id order, before it reads the facility. Other writers lock
one region (or several, in the same order) and re-check the facility's region once they hold
it, so a change racing a move either lands before it (and moves with the facility) or sees the
move; and two changes of one facility never interleave (no lost update, no half move).
Locking all regions is heavy-handed but these changes are rare, and SQLite serialises every
write anyway.

The regions involved are then rebuilt from SQL under a new seq: their live clients get a
fresh snapshot, without the facility (deactivated, moved out) or with it and its current
figures and stop (moved in, reactivated). Its figures, stop and history rows stay as they are;
history and refusals keep the region they were recorded in.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.errors import NotFound
from capacity.facilities import service as facilities
from capacity.facilities.models import Facility, FacilityUpdate, Region
from capacity.i18n import messages

# Fields whose change alters what a region's picture holds.
LIVE_FIELDS = ("categories", "active", "region")


async def lock_all_regions(session: AsyncSession) -> None:
    """Take every region's row lock in id order (PostgreSQL; SQLite holds its write lock)."""
    # PostgreSQL locks the rows as it returns them, in this order.
    await session.exec(select(Region.id).order_by(col(Region.id)).with_for_update())


async def change_facility(
    *, session: AsyncSession, facility_id: str, facility_in: FacilityUpdate, actor: str
) -> tuple[Facility, list[str]]:
    """Apply an admin's change; returns the facility and the regions whose picture to rebuild
    (inside the caller's transaction, which commits both)."""
    if await facilities.get_facility_any(session=session, facility_id=facility_id) is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    await lock_all_regions(session)
    facility = await session.get(Facility, facility_id, populate_existing=True)
    assert facility is not None  # facilities are never deleted
    before = (facility.region, facility.active, list(facility.categories))
    await facilities.update_facility(
        session=session, facility=facility, facility_in=facility_in, actor=actor
    )
    after = (facility.region, facility.active, list(facility.categories))
    if before == after:
        return facility, []
    return facility, sorted({before[0], after[0]})
