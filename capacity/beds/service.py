"""A bed list becomes figures: derived per mapped category, written like any PUT of figures.

available = free beds of the category's mapped wards; staffed = its beds that are not closed
(free, occupied and blocked: a blocked bed has its nurse but cannot take a woman now). The
figures go through the same writer as ``PUT .../capacity`` (one change, audited, on the stream,
``If-Match`` honoured). The same list again (same hash) while the figures still stand as it
left them is a confirmation: the figures are made fresh, with no new version and no change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from capacity.audit import service as audit
from capacity.availability import rules as rules_mod
from capacity.availability import service as availability
from capacity.availability.commands import facility_for_write
from capacity.availability.conflict import check_version, deactivated
from capacity.availability.models import MAX_FIGURE, CapacityUpdate, FigureIn
from capacity.availability.pipeline import repairs
from capacity.availability.state import figures, load_raw, rules_json, utcnow
from capacity.availability.store import CapacityStore
from capacity.beds import wards
from capacity.beds.models import BedImport, BedStatus, DerivedFigure
from capacity.beds.parse import Bed, content_hash
from capacity.errors import InputError, NotFound, Unavailable
from capacity.facilities.models import Category, Facility, Region
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)
SKEW = timedelta(minutes=2)  # a hospital's clock a little ahead of ours is no error


@dataclass
class Derived:
    figures: dict[Category, DerivedFigure] = field(default_factory=dict)
    measured: dict[str, datetime] = field(default_factory=dict)  # the oldest per category
    unmapped: list[str] = field(default_factory=list)
    ignored: int = 0


def derive(beds: list[Bed], ward_map: dict[str, Category]) -> Derived:
    """Figures per mapped category; rows of unmapped wards are counted and left out."""
    out = Derived()
    counts: dict[Category, list[int]] = defaultdict(lambda: [0, 0, 0])
    unmapped: set[str] = set()
    for b in beds:
        category = ward_map.get(b.ward)
        if category is None:
            unmapped.add(b.ward)
            out.ignored += 1
            continue
        free, staffed, total = counts[category]
        counts[category] = [
            free + (b.status is BedStatus.free),
            staffed + (b.status is not BedStatus.closed),
            total + 1,
        ]
        if b.measured_at is not None:
            known = out.measured.get(category.value)
            out.measured[category.value] = (
                b.measured_at if known is None else min(known, b.measured_at)
            )
    out.figures = {
        c: DerivedFigure(available=f, staffed=s, beds=t) for c, (f, s, t) in sorted(counts.items())
    }
    out.unmapped = sorted(unmapped)
    return out


def _check(beds: list[Bed], derived: Derived, facility: Facility, limit_minutes: int) -> None:
    """What the rows' cells alone could not tell: times, categories offered, figure limits."""
    now = utcnow()
    for b in beds:
        if b.measured_at is None:
            continue
        if b.measured_at > now + SKEW:
            raise InputError(f"{b.where}.measured_at", messages.BED_MEASURED_FUTURE())
        if b.measured_at < now - timedelta(minutes=limit_minutes):
            raise InputError(
                f"{b.where}.measured_at", messages.BED_MEASURED_OLD(minutes=limit_minutes)
            )
    if not derived.figures:
        raise InputError(
            "ward",
            messages.BEDS_NONE_MAPPED(wards=", ".join(derived.unmapped[:20]), facility=facility.id),
        )
    offered = set(facility.categories)
    for category, figure in derived.figures.items():
        if category.value not in offered:
            raise InputError(
                "ward",
                messages.CATEGORY_NOT_OFFERED(
                    facility=facility.id,
                    category=category.value,
                    offered=", ".join(sorted(offered)),
                ),
            )
        if figure.staffed > MAX_FIGURE:
            raise InputError(
                "ward",
                messages.BEDS_CATEGORY_TOO_MANY(
                    category=category.value, count=figure.staffed, max=MAX_FIGURE
                ),
            )


async def import_beds(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    beds: list[Bed],
    actor: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Derive the figures of a bed list and write them (or confirm them); the answer's body."""
    async with db.session() as session:
        facility = await session.get(Facility, facility_id)
        if facility is None:
            raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
        if not facility.active:
            raise deactivated(facility_id)
        region = await session.get(Region, facility.region)
        assert region is not None
        limit = int(rules_json(region, settings)["freshness_limit_minutes"])
        ward_map = await wards.mapping(session=session, facility_id=facility_id)
        last = await session.get(BedImport, facility_id)
        last_hash = None if last is None else last.content_hash
    derived = derive(beds, ward_map)
    _check(beds, derived, facility, limit)
    digest = content_hash(beds)
    entry = None
    if digest == last_hash:
        entry = await _confirm(
            db=db,
            store=store,
            settings=settings,
            facility_id=facility_id,
            derived=derived,
            digest=digest,
            actor=actor,
            expected_version=expected_version,
        )
    confirmed = entry is not None
    if entry is None:
        update_in = CapacityUpdate(
            categories={
                c: FigureIn(available=f.available, staffed=f.staffed)
                for c, f in derived.figures.items()
            }
        )
        entry = await availability.update_capacity(
            db=db,
            store=store,
            settings=settings,
            facility_id=facility_id,
            update_in=update_in,
            actor=actor,
            expected_version=expected_version,
            measured=derived.measured,
            source={"beds": len(beds), "content_hash": digest, "unmapped": derived.unmapped},
        )
        # Its own transaction after the figures': a stale hash is harmless, as a confirmation
        # also needs the figures to stand as the list gives them (checked under the lock).
        await _remember(db=db, facility_id=facility_id, digest=digest, actor=actor)
    return {
        "facility_id": facility_id,
        "confirmed": confirmed,
        "version": entry["version"],
        "content_hash": digest,
        "rows": len(beds),
        "derived": {c.value: f.model_dump() for c, f in derived.figures.items()},
        "unmapped_wards": derived.unmapped,
        "ignored_rows": derived.ignored,
        "facility": entry,
    }


async def _remember(*, db: Database, facility_id: str, digest: str, actor: str) -> None:
    values = {"facility_id": facility_id, "content_hash": digest, "at": utcnow(), "actor": actor}
    insert = sqlite_insert if db.is_sqlite else pg_insert
    statement = insert(BedImport).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["facility_id"],
        set_={k: statement.excluded[k] for k in ("content_hash", "at", "actor")},
    )
    async with db.unit_of_work() as uow:
        await uow.session.exec(statement)  # type: ignore[call-overload]


async def _confirm(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    facility_id: str,
    derived: Derived,
    digest: str,
    actor: str,
    expected_version: int | None,
) -> dict[str, Any] | None:
    """Make the figures fresh again if they still stand as this list gives them (under the
    region lock); None when they do not (then the list is written as a change)."""
    async with db.unit_of_work() as uow:
        session = uow.session
        facility = await facility_for_write(session, facility_id)
        check_version(
            expected_version, facility.version, facility_id=facility.id, region=facility.region
        )
        last = await session.get(BedImport, facility_id, populate_existing=True)
        current = {f.category: f for f in await figures(session, facility_id)}
        if last is None or last.content_hash != digest:
            return None
        for category, figure in derived.figures.items():
            found = current.get(category)
            if (
                found is None
                or found.stale
                or (found.available, found.staffed) != (figure.available, figure.staffed)
            ):
                return None
        try:
            before = await store.facility_raw(facility.region, facility_id)
        except REDIS_DOWN as exc:
            raise Unavailable(messages.REDIS_UNREACHABLE_UNCHANGED()) from exc
        now = utcnow()
        for category in derived.figures:
            found = current[category]
            # Received now; fresh from the list's measurement, if it gave one (never older
            # than the figure already was).
            measured = derived.measured.get(category.value)
            found.updated_at = max(found.updated_at, now)
            found.measured_at = None if measured is None else max(found.fresh_since, measured)
            session.add(found)
        last.at, last.actor = now, actor
        session.add(last)
        audit.record(
            session=session,
            actor=actor,
            action="capacity.confirm",
            entity="facility",
            entity_id=facility_id,
            at=now,
            detail={
                "version": facility.version,
                "categories": [c.value for c in derived.figures],
                "source": {"content_hash": digest},
            },
        )
        await session.flush()
        raw = await load_raw(session, facility)
        region = await session.get(Region, facility.region)
        assert region is not None
        entry = rules_mod.render(raw, rules_json(region, settings), now)
    if before is not None:
        try:
            await store.replace_raw(facility.region, facility_id, before, orjson.dumps(raw))
        except REDIS_DOWN:
            # SQL holds the fresh times; the picture follows when the region is rebuilt.
            repairs(db=db, store=store, settings=settings).request(facility.region)
    return entry
