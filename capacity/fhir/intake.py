"""A pushed MeasureReport turned into the figures ``PUT .../capacity`` takes.

Each group names one category (our code, or its HSLOC code); its populations give staffed
beds (``total``) and ``available`` or ``occupied`` ones. Anything that does not fit is an
``InputError`` naming the element, as a FHIRPath below ``MeasureReport``.
"""

from __future__ import annotations

from typing import Any

from capacity.availability import service as availability
from capacity.availability.models import CapacityUpdate, FigureIn
from capacity.availability.store import CapacityStore
from capacity.errors import InputError
from capacity.facilities import service as facilities
from capacity.facilities.models import Category
from capacity.fhir import codes, resources
from capacity.fhir.models import CodeableConceptIn, GroupIn, MeasureReportIn
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database


def facility_of(report: MeasureReportIn) -> str:
    """The facility the report is about (``subject``: ``Location/<id>``)."""
    return report.subject.reference.removeprefix("Location/")


def figures(*, base: str, report: MeasureReportIn) -> tuple[CapacityUpdate, dict[Category, int]]:
    """The update, and which group each category came from (to name it in later errors)."""
    measure = codes.url(base, codes.MEASURE)
    if report.measure != measure:
        raise InputError("measure", messages.FHIR_UNKNOWN_MEASURE(expected=measure))
    found: dict[Category, FigureIn] = {}
    where: dict[Category, int] = {}
    for i, group in enumerate(report.group):
        category = _category(base, group.code, f"group[{i}].code")
        if category in found:
            raise InputError(
                f"group[{i}].code", messages.FHIR_CATEGORY_REPEATS(category=category.value)
            )
        found[category] = _figure(base, group, f"group[{i}]")
        where[category] = i
    return CapacityUpdate(categories=found), where


def _category(base: str, code: CodeableConceptIn, at: str) -> Category:
    ours = codes.url(base, codes.CATEGORY_SYSTEM)
    named: set[Category] = set()
    for coding in code.coding:
        if coding.system == ours and coding.code in Category.__members__:
            named.add(Category(coding.code))
        elif coding.system == codes.HSLOC and coding.code in codes.HSLOC_CATEGORY:
            named.add(codes.HSLOC_CATEGORY[coding.code])
    if len(named) != 1:
        hsloc = ", ".join(sorted(codes.HSLOC_CATEGORY))
        raise InputError(at, messages.FHIR_UNKNOWN_CATEGORY(system=ours, hsloc=hsloc))
    return named.pop()


def _figure(base: str, group: GroupIn, at: str) -> FigureIn:
    system = codes.url(base, codes.POPULATION_SYSTEM)
    counts: dict[str, tuple[int, int]] = {}  # population -> (count, its index)
    for j, population in enumerate(group.population):
        names = {
            c.code
            for c in population.code.coding
            if c.system == system and c.code in codes.POPULATION_DISPLAY
        }
        if len(names) != 1:
            raise InputError(
                f"{at}.population[{j}].code", messages.FHIR_UNKNOWN_POPULATION(system=system)
            )
        name = names.pop()
        if name in counts:
            raise InputError(
                f"{at}.population[{j}].code", messages.FHIR_POPULATION_REPEATS(population=name)
            )
        counts[name] = (population.count, j)
    if codes.TOTAL not in counts or not counts.keys() & {codes.AVAILABLE, codes.OCCUPIED}:
        raise InputError(f"{at}.population", messages.FHIR_POPULATION_MISSING())
    total, _ = counts[codes.TOTAL]
    if codes.AVAILABLE in counts:
        available, j = counts[codes.AVAILABLE]
        if available > total:
            raise InputError(
                f"{at}.population[{j}].count",
                messages.AVAILABLE_ABOVE_STAFFED(available=available, staffed=total),
            )
        if codes.OCCUPIED in counts and counts[codes.OCCUPIED][0] + available != total:
            occupied, k = counts[codes.OCCUPIED]
            raise InputError(
                f"{at}.population[{k}].count",
                messages.FHIR_POPULATIONS_DISAGREE(
                    occupied=occupied, available=available, total=total
                ),
            )
    else:
        occupied, j = counts[codes.OCCUPIED]
        if occupied > total:
            raise InputError(
                f"{at}.population[{j}].count",
                messages.FHIR_OCCUPIED_ABOVE_TOTAL(occupied=occupied, total=total),
            )
        available = total - occupied
    return FigureIn(available=available, staffed=total)


async def push(
    *,
    db: Database,
    store: CapacityStore,
    settings: Settings,
    base: str,
    facility_id: str,
    update_in: CapacityUpdate,
    groups: dict[Category, int],
    actor: str,
) -> dict[str, Any]:
    """Write the report's figures through the figures writer (as ``PUT .../capacity``) and
    answer the facility's MeasureReport as stored. ``groups`` (from ``figures``) says which
    group named each category. The caller checked the permission."""
    try:
        entry = await availability.update_capacity(
            db=db,
            store=store,
            settings=settings,
            facility_id=facility_id,
            update_in=update_in,
            actor=actor,
        )
    except InputError as exc:  # a category not offered: said of the group that named it
        category = exc.field.split(".")[1] if exc.field.startswith("categories.") else None
        at = next((i for c, i in groups.items() if c.value == category), None)
        raise InputError("subject" if at is None else f"group[{at}].code", exc.message) from None
    async with db.session() as session:
        facility = await facilities.get_facility(session=session, facility_id=facility_id)
    assert facility is not None  # the write just found it active
    return resources.measure_report(base, facility, entry, availability.iso(availability.utcnow()))
