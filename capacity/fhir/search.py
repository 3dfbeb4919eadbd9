"""Finding Locations and MeasureReports: the facility listing joined with the live picture.

Reads follow the API's rules: the picture comes from Redis (SQL while Redis lacks a region),
and MeasureReports only of the regions the caller may read (``may_read_region``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.auth.models import Principal
from capacity.auth.service import may_read_region
from capacity.availability import service as availability
from capacity.availability.store import CapacityStore
from capacity.errors import Forbidden, InputError, NotFound
from capacity.facilities import service as facilities
from capacity.facilities.models import Facility
from capacity.fhir import codes, resources
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database

Moment = tuple[str, datetime]  # a ``date`` search value: prefix (ge, gt, le, lt, eq) and moment


class Picture:
    """The live picture's entries of some regions, read once per request."""

    def __init__(self, *, db: Database, store: CapacityStore, settings: Settings):
        self.db, self.store, self.settings = db, store, settings
        self.entries: dict[str, dict[str, Any]] = {}
        self.generated = availability.iso(availability.utcnow())

    async def read(self, region_ids: set[str]) -> Picture:
        for region_id in sorted(region_ids):
            picture = await availability.region_capacity(
                db=self.db, store=self.store, settings=self.settings, region_id=region_id
            )
            self.generated = picture["generated_at"]
            self.entries.update({e["facility_id"]: e for e in picture["facilities"]})
        return self


def identifier_id(base: str, identifier: str) -> str | None:
    """The facility id of an ``identifier`` search value ``[system|]value``; None for another
    system than ours."""
    system, _, value = identifier.rpartition("|")
    if system and system != codes.url(base, codes.FACILITY_SYSTEM):
        return None
    return value


async def locations(
    *,
    session: AsyncSession,
    picture: Picture,
    base: str,
    ids: set[str] | None,
    city: str | None,
    region: str | None,
) -> list[dict[str, Any]]:
    """Active facilities as Locations: by id (None: any), city (case-insensitive prefix) and
    region."""

    def wanted(f: Facility) -> bool:
        return (
            (ids is None or f.id in ids)
            and (not city or f.city.casefold().startswith(city.casefold()))
            and region in (None, f.region)
        )

    regions = {r.id: r for r in await facilities.list_regions(session=session)}
    found = [f for f in await facilities.list_facilities(session=session) if wanted(f)]
    await picture.read({f.region for f in found})
    return [
        resources.location(base, f, regions[f.region], picture.entries.get(f.id)) for f in found
    ]


async def location(
    *, session: AsyncSession, picture: Picture, base: str, facility_id: str
) -> dict[str, Any]:
    """One active facility as a Location; 404 for another id."""
    found = await locations(
        session=session, picture=picture, base=base, ids={facility_id}, city=None, region=None
    )
    if not found:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    return found[0]


def moment(value: str) -> Moment:
    """A ``date`` search value (``ge2026-12-01``, ``lt2026-12-05T08:00:00Z``) as prefix and
    moment; a date alone is its first moment in UTC."""
    prefix = value[:2] if value[:2] in ("ge", "gt", "le", "lt") else "eq"
    text = value[2:] if prefix != "eq" else value
    try:
        if "T" in text:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            at = datetime.combine(datetime.fromisoformat(text).date(), time(), UTC)
    except ValueError:
        raise InputError("date", messages.FHIR_DATE_MALFORMED()) from None
    return prefix, at


def _within(updated: str, dates: list[Moment]) -> bool:
    at = datetime.fromisoformat(updated)
    tests = {"ge": at.__ge__, "gt": at.__gt__, "le": at.__le__, "lt": at.__lt__, "eq": at.__eq__}
    return all(tests[prefix](when) for prefix, when in dates)


async def measure_reports(
    *,
    session: AsyncSession,
    picture: Picture,
    base: str,
    principal: Principal,
    subject: str | None,
    region: str | None,
    dates: list[Moment],
) -> list[dict[str, Any]]:
    """The MeasureReports of facilities that reported figures, in the regions the caller may
    read; naming a region it may not read (or a facility there) is a 403."""
    found = await facilities.list_facilities(session=session)
    if subject is not None:
        found = [f for f in found if f.id == subject]
        if found and not may_read_region(principal, found[0].region):
            raise Forbidden(messages.NO_REGION_ACCESS(region=found[0].region))
    if region is not None:
        known = await facilities.get_region(session=session, region_id=region) is not None
        if known and not may_read_region(principal, region):
            raise Forbidden(messages.NO_REGION_ACCESS(region=region))
        found = [f for f in found if f.region == region]
    found = [f for f in found if may_read_region(principal, f.region)]
    await picture.read({f.region for f in found})
    reports = [
        resources.measure_report(base, f, picture.entries[f.id], picture.generated)
        for f in found
        if f.id in picture.entries
    ]
    return [r for r in reports if "group" in r and _within(r["meta"]["lastUpdated"], dates)]
