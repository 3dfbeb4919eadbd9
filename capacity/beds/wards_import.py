"""Ward mappings from a CSV file (``facility_id;ward;category``): all rows or none.

Each facility the file names gets exactly the wards the file lists for it; others keep theirs.
A bad row stops everything, naming its line and column (as the contacts import does).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.beds import wards
from capacity.beds.models import WARD_PATTERN, WardIn
from capacity.errors import InputError
from capacity.facilities.models import ID_PATTERN, Category, Facility
from capacity.i18n import messages

COLUMNS = ["facility_id", "ward", "category"]


def _error(line: int, column: str, message: str) -> InputError:
    return InputError(f"line {line}.{column}", message)


def parse(data: bytes) -> dict[str, list[tuple[int, WardIn]]]:
    """Rows by facility id, each with its line number; InputError naming line and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(data[: exc.start].count(b"\n") + 1, "file", messages.CSV_NOT_UTF8()) from exc
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise _error(1, "header", messages.CSV_HEADER_FIRST(header=";".join(COLUMNS)))
    rows = csv.reader(lines, delimiter=";" if ";" in lines[0] else ",")
    header = [h.strip().lower() for h in next(rows)]
    if header != COLUMNS:
        raise _error(1, "header", messages.CSV_HEADER_WRONG(header=";".join(COLUMNS), got=header))
    found: dict[str, list[tuple[int, WardIn]]] = defaultdict(list)
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise _error(number, "row", messages.CSV_COLUMNS(expected=len(COLUMNS), found=len(row)))
        facility_id, ward, category = (cell.strip() for cell in row)
        if len(facility_id) > 64 or not re.fullmatch(ID_PATTERN, facility_id):
            raise _error(
                number, "facility_id", messages.CSV_NOT_FACILITY_ID(value=facility_id[:70])
            )
        if not re.fullmatch(WARD_PATTERN, ward):
            raise _error(number, "ward", messages.WARD_CODE(value=ward[:40]))
        if category not in Category.__members__:
            choice = messages.WARD_CATEGORY(categories=", ".join(Category), value=category[:40])
            raise _error(number, "category", choice)
        found[facility_id].append((number, WardIn(ward=ward, category=Category(category))))
    if not found:
        raise _error(2, "row", messages.CSV_EMPTY())
    return found


async def import_csv(*, session: AsyncSession, data: bytes, actor: str) -> tuple[int, int]:
    """Check every row, then replace each named facility's mapping; (facilities, wards)."""
    found = parse(data)
    query = select(Facility).where(col(Facility.id).in_(list(found)))
    facilities = {f.id: f for f in (await session.exec(query)).all()}
    for facility_id in sorted(found):  # one order for every writer: no lock cycles
        rows = found[facility_id]
        facility = facilities.get(facility_id)
        if facility is None:
            raise _error(rows[0][0], "facility_id", messages.UNKNOWN_FACILITY(facility=facility_id))
        try:
            wards.checked(facility, [w for _, w in rows])
        except InputError as exc:  # "wards.3.category": the fourth row of this facility
            index, column = exc.field.split(".")[1:]
            raise _error(rows[int(index)][0], column, exc.message) from None
        await wards.replace_wards(
            session=session, facility=facility, wards_in=[w for _, w in rows], actor=actor
        )
    return len(found), sum(len(r) for r in found.values())
