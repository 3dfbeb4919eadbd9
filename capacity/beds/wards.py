"""A facility's ward mapping: which ward codes count for which category."""

from __future__ import annotations

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.beds.models import WardIn, WardMapping
from capacity.errors import InputError
from capacity.facilities.models import Category, Facility
from capacity.i18n import messages


async def list_wards(*, session: AsyncSession, facility_id: str) -> list[WardIn]:
    """The mapping, ordered by ward code."""
    query = select(WardMapping).where(WardMapping.facility_id == facility_id)
    query = query.order_by(col(WardMapping.ward)).execution_options(populate_existing=True)
    return [WardIn(ward=w.ward, category=w.category) for w in (await session.exec(query)).all()]


async def mapping(*, session: AsyncSession, facility_id: str) -> dict[str, Category]:
    """Ward code (upper case) -> category."""
    return {
        w.ward: Category(w.category)
        for w in await list_wards(session=session, facility_id=facility_id)
    }


def checked(facility: Facility, wards_in: list[WardIn], *, field: str = "wards") -> list[WardIn]:
    """The mapping with codes in upper case; a code twice, or a category the facility does not
    offer, is an InputError naming the entry (``wards.3.ward``)."""
    offered = set(facility.categories)
    seen: dict[str, int] = {}
    out = []
    for i, w in enumerate(wards_in):
        code = w.ward.upper()
        if code in seen:
            raise InputError(
                f"{field}.{i}.ward", messages.WARD_REPEATED(ward=code, first=seen[code])
            )
        if w.category.value not in offered:
            raise InputError(
                f"{field}.{i}.category",
                messages.CATEGORY_NOT_OFFERED(
                    facility=facility.id,
                    category=w.category.value,
                    offered=", ".join(sorted(offered)),
                ),
            )
        seen[code] = i
        out.append(WardIn(ward=code, category=w.category))
    return out


async def replace_wards(
    *, session: AsyncSession, facility: Facility, wards_in: list[WardIn], actor: str
) -> list[WardIn]:
    """Replace the facility's whole mapping (one audit event holds the old and new one).

    The facility's row is locked first (PostgreSQL; SQLite's write lock orders writers), so two
    replacements at once end as one mapping or the other, never a mix.
    """
    wards = checked(facility, wards_in)
    await session.exec(  # type: ignore[call-overload]
        select(Facility.id).where(Facility.id == facility.id).with_for_update()
    )
    before = await list_wards(session=session, facility_id=facility.id)
    await session.exec(  # type: ignore[call-overload]
        delete(WardMapping).where(col(WardMapping.facility_id) == facility.id)
    )
    session.add_all(
        WardMapping(facility_id=facility.id, ward=w.ward, category=w.category) for w in wards
    )
    audit.record(
        session=session,
        actor=actor,
        action="wards.update",
        entity="facility",
        entity_id=facility.id,
        detail={
            "before": [w.model_dump(mode="json") for w in before],
            "wards": [w.model_dump(mode="json") for w in wards],
        },
    )
    await session.flush()
    return sorted(wards, key=lambda w: w.ward)
