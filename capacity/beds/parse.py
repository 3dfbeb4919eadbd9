"""A bed list as CSV or JSON, checked row by row into one shape; the first bad row stops it.

Errors name where the row is: ``line N.column`` in a CSV file (line 1 is the header), as the
contacts import does, and ``beds.N.field`` in JSON (as any JSON body's 422 does).
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from capacity.beds.models import MAX_BEDS, PLACE_PATTERN, WARD_PATTERN, BedsIn, BedStatus
from capacity.errors import InputError
from capacity.i18n import messages

REQUIRED = ["ward", "room", "bed", "status"]
OPTIONAL = ["measured_at"]
_WARD = re.compile(WARD_PATTERN)
_PLACE = re.compile(PLACE_PATTERN)


@dataclass(frozen=True, slots=True)
class Bed:
    """One row: where it stands in the request (``line 4`` or ``beds.3``) and its cells."""

    where: str
    ward: str  # upper case: codes are compared without regard to case
    room: str
    bed: str
    status: BedStatus
    measured_at: datetime | None


def too_many(max_bytes: int) -> HTTPException:
    return HTTPException(413, messages.BEDS_TOO_MANY(max=MAX_BEDS, kb=max_bytes // 1024))


def content_hash(beds: list[Bed]) -> str:
    """The list's identity: its beds and their states in any order; ``measured_at`` aside, so a
    fresh export of an unchanged list is recognised as the same list."""
    rows = sorted(f"{b.ward}\x1f{b.room}\x1f{b.bed}\x1f{b.status.value}" for b in beds)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _error(where: str, column: str, message: str) -> InputError:
    return InputError(f"{where}.{column}", message)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _error(f"line {line}", "file", messages.CSV_NOT_UTF8()) from exc


def _time(where: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or len(value) > 40:
        raise _error(where, "measured_at", messages.BED_MEASURED_FORMAT(value=value[:40]))
    return moment


def _row(where: str, ward: str, room: str, bed: str, status: str, measured: str) -> Bed:
    if not _WARD.fullmatch(ward):
        raise _error(where, "ward", messages.WARD_CODE(value=ward[:40]))
    for column, value in (("room", room), ("bed", bed)):
        if not _PLACE.fullmatch(value):
            raise _error(where, column, messages.BED_PLACE(what=column, value=value[:40]))
    if status not in BedStatus.__members__:
        statuses = ", ".join(BedStatus)
        raise _error(where, "status", messages.BED_STATUS(statuses=statuses, value=status[:40]))
    return Bed(where, ward.upper(), room, bed, BedStatus(status), _time(where, measured))


def _unique(beds: list[Bed]) -> list[Bed]:
    seen: dict[tuple[str, str, str], str] = {}
    for b in beds:
        key = (b.ward, b.room, b.bed)
        if key in seen:
            first = seen[key].removeprefix("line ").removeprefix("beds.")
            raise _error(
                b.where,
                "bed",
                messages.BED_REPEATED(ward=b.ward, room=b.room, bed=b.bed, first=first),
            )
        seen[key] = b.where
    return beds


def from_csv(data: bytes, *, max_bytes: int) -> list[Bed]:
    """Rows of a CSV file: a header naming ward, room, bed, status (measured_at optional)."""
    lines = _text(data).splitlines()
    if not lines or not lines[0].strip():
        raise _error("line 1", "header", messages.CSV_HEADER_FIRST(header=";".join(REQUIRED)))
    delimiter = ";" if ";" in lines[0] else ","
    rows = csv.reader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in next(rows)]
    if sorted(header) not in (sorted(REQUIRED), sorted(REQUIRED + OPTIONAL)):
        wanted = ";".join(REQUIRED) + "[;measured_at]"
        raise _error("line 1", "header", messages.CSV_HEADER_WRONG(header=wanted, got=header[:6]))
    at = {name: header.index(name) for name in header}
    beds: list[Bed] = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line (a trailing newline, say) is no row
        if len(beds) == MAX_BEDS:
            raise too_many(max_bytes)
        where = f"line {number}"
        if len(row) != len(header):
            raise _error(where, "row", messages.CSV_COLUMNS(expected=len(header), found=len(row)))
        cell = {name: row[i].strip() for name, i in at.items()}
        beds.append(
            _row(
                where,
                cell["ward"],
                cell["room"],
                cell["bed"],
                cell["status"],
                cell.get("measured_at", ""),
            )
        )
    if not beds:
        raise _error("line 2", "row", messages.BEDS_EMPTY())
    return _unique(beds)


def from_json(data: bytes, *, max_bytes: int) -> list[Bed]:
    """Rows of ``{"beds": [{"ward", "room", "bed", "status", "measured_at"?}]}``."""
    try:
        beds_in = BedsIn.model_validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "too_long" and tuple(e["loc"]) == ("beds",) for e in errors):
            raise too_many(max_bytes) from None
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None
    beds = [
        Bed(f"beds.{i}", b.ward.upper(), b.room, b.bed, b.status, b.measured_at)
        for i, b in enumerate(beds_in.beds)
    ]
    return _unique(beds)
