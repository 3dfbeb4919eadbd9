"""Importing numbers from a CSV file (``facility_id;type;phone``): all rows or none.

Each facility named in the file gets exactly the numbers the file lists for it; facilities the
file does not name keep theirs. The first bad row stops everything, and the error names its line
and column, so an admin can mend the file and send it again.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict

from pydantic import TypeAdapter, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.contacts import service
from capacity.contacts.models import ContactIn, ContactType, ImportResult, Phone
from capacity.errors import InputError
from capacity.facilities.models import ID_PATTERN, Facility
from capacity.i18n import messages
from capacity.i18n.text import Said
from capacity.i18n.validation import translated

COLUMNS = ["facility_id", "type", "phone"]
_PHONE: TypeAdapter[str] = TypeAdapter(Phone)


def _error(line: int, column: str, message: str) -> InputError:
    return InputError(f"line {line}.{column}", message)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _error(line, "file", messages.CSV_NOT_UTF8()) from exc


def parse(data: bytes) -> dict[str, list[tuple[int, ContactIn]]]:
    """Rows by facility id, each with its line number; InputError naming line and column."""
    lines = _text(data).splitlines()
    if not lines or not lines[0].strip():
        raise _error(1, "header", messages.CSV_HEADER_FIRST(header=";".join(COLUMNS)))
    delimiter = ";" if ";" in lines[0] else ","
    rows = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in next(rows)]
    if header != COLUMNS:
        raise _error(1, "header", messages.CSV_HEADER_WRONG(header=";".join(COLUMNS), got=header))
    found: dict[str, list[tuple[int, ContactIn]]] = defaultdict(list)
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line (a trailing newline, say) is no row
        if len(row) != len(COLUMNS):
            raise _error(number, "row", messages.CSV_COLUMNS(expected=len(COLUMNS), found=len(row)))
        facility_id, kind, phone = (cell.strip() for cell in row)
        if len(facility_id) > 64 or not re.fullmatch(ID_PATTERN, facility_id):
            raise _error(
                number, "facility_id", messages.CSV_NOT_FACILITY_ID(value=facility_id[:70])
            )
        if kind not in ContactType.__members__:
            raise _error(
                number, "type", messages.CSV_CONTACT_TYPE(types=", ".join(ContactType), value=kind)
            )
        try:
            phone = _PHONE.validate_python(phone)
        except ValidationError as exc:
            error = exc.errors()[0]
            said = Said(translated(error, "en"), translated(error, "nl"))
            raise _error(number, "phone", said) from exc
        if (facility_id, kind) in seen:
            first = seen[(facility_id, kind)]
            raise _error(
                number,
                "type",
                messages.CSV_TYPE_REPEATED(kind=kind, facility=facility_id, first=first),
            )
        seen[(facility_id, kind)] = number
        found[facility_id].append((number, ContactIn(type=ContactType(kind), phone=phone)))
    if not found:
        raise _error(2, "row", messages.CSV_EMPTY())
    return found


async def import_csv(*, session: AsyncSession, data: bytes, actor: str) -> ImportResult:
    """Check every row, then replace the numbers of each facility the file names (flush only)."""
    found = parse(data)
    query = select(Facility).where(col(Facility.id).in_(list(found)))
    facilities = {f.id: f for f in (await session.exec(query)).all() if f.active}
    for facility_id, rows in found.items():
        if facility_id not in facilities:
            raise _error(rows[0][0], "facility_id", messages.UNKNOWN_FACILITY(facility=facility_id))
    for facility_id in sorted(found):  # one order for every writer: no lock cycles
        await service.replace_contacts(
            session=session,
            facility=facilities[facility_id],
            contacts_in=[c for _, c in found[facility_id]],
            actor=actor,
            source="import",
        )
    return ImportResult(facilities=len(found), contacts=sum(len(r) for r in found.values()))
