"""Where a request comes from, and which wards to ask: the nearest with room, from the live picture.

The drive estimate is the one the midwife's screen shows (``frontend/js/geo.js``): the straight
line (haversine) times a road factor of 1.3, at 60 km/h on average.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.availability.models import Status
from capacity.availability.queries import region_capacity
from capacity.availability.store import CapacityStore
from capacity.errors import InputError
from capacity.facilities.models import Category, Facility
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.transfers.models import REACH_MINUTES

ROAD_FACTOR = 1.3
SPEED_KMH = 60
EARTH_KM = 6371
MAX_PROPOSED = 20
ROOM = (Status.green.value, Status.orange.value)

Pictures = Callable[[str], Awaitable[dict[str, Any]]]  # region id -> the regional picture


def pictures_of(db: Database, store: CapacityStore, settings: Settings, now: datetime) -> Pictures:
    """The regional pictures as they are now, each read once per request."""
    seen: dict[str, dict[str, Any]] = {}

    async def picture(region: str) -> dict[str, Any]:
        if region not in seen:
            seen[region] = await region_capacity(
                db=db, store=store, settings=settings, region_id=region, now=now
            )
        return seen[region]

    return picture


def drive_minutes(lat: float, lon: float, to_lat: float, to_lon: float) -> int:
    """Estimated minutes by road between two points (as ``geo.js`` ``trip``)."""
    rad = math.pi / 180
    d_lat, d_lon = (to_lat - lat) * rad, (to_lon - lon) * rad
    h = (
        math.sin(d_lat / 2) ** 2
        + math.cos(lat * rad) * math.cos(to_lat * rad) * math.sin(d_lon / 2) ** 2
    )
    road_km = 2 * EARTH_KM * math.asin(math.sqrt(h)) * ROAD_FACTOR
    return round(road_km / SPEED_KMH * 60)


def coarse(value: float) -> float:
    """A coordinate rounded to 0.01 degree (about a kilometre): nothing finer is stored."""
    return round(value, 2)


async def origin(
    *, session: AsyncSession, lat: float | None, lon: float | None, city: str | None
) -> tuple[float, float, str | None]:
    """The coarse point a request starts from: its lat/lon, else the centre of a known city."""
    if lat is not None and lon is not None:
        return coarse(lat), coarse(lon), None
    if lat is not None or lon is not None or not city:
        raise InputError("lon" if lat is not None else "lat", messages.ORIGIN_REQUIRED())
    query = select(Facility).where(Facility.active == True)  # noqa: E712
    there = [f for f in (await session.exec(query)).all() if f.city.casefold() == city.casefold()]
    if not there:
        raise InputError("city", messages.UNKNOWN_CITY(city=city))
    mean_lat = sum(f.lat for f in there) / len(there)
    mean_lon = sum(f.lon for f in there) / len(there)
    return coarse(mean_lat), coarse(mean_lon), there[0].city


def _room(entry: dict[str, Any] | None, category: str) -> dict[str, Any] | None:
    """The figure of a ward with room now: green or orange, fresh, and no stop."""
    if entry is None or entry.get("stop"):
        return None
    figure = entry.get("categories", {}).get(category)
    if figure is None or figure["stale"] or figure["status"] not in ROOM:
        return None
    return dict(figure)


async def propose(
    *, session: AsyncSession, pictures: Pictures, category: Category, lat: float, lon: float
) -> list[dict[str, Any]]:
    """Wards with room in ``category``, nearest first (those within 45 minutes lead), every
    region included: a ward across a regional border may be the nearest."""
    query = select(Facility).where(Facility.active == True)  # noqa: E712
    offering = [f for f in (await session.exec(query)).all() if category.value in f.categories]
    entries: dict[str, dict[str, Any]] = {}
    for region in sorted({f.region for f in offering}):
        picture = await pictures(region)
        entries.update({e["facility_id"]: e for e in picture["facilities"]})
    wards = []
    for facility in offering:
        figure = _room(entries.get(facility.id), category.value)
        if figure is None:
            continue
        minutes = drive_minutes(lat, lon, facility.lat, facility.lon)
        wards.append(
            {
                "facility_id": facility.id,
                "name": facility.name,
                "city": facility.city,
                "region": facility.region,
                "status": figure["status"],
                "available": figure["available"],
                "minutes": minutes,
                "within_reach": minutes <= REACH_MINUTES,
            }
        )
    wards.sort(key=lambda w: (w["minutes"], -w["available"], w["facility_id"]))
    return wards[:MAX_PROPOSED]
