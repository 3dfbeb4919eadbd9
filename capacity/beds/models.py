"""Ward codes mapped to categories, the last bed list a facility sent, and the API's shapes.

A bed list names wards by the codes of the hospital's own system (Epic, HiX); which of them
count for which category is the facility's mapping, kept by its staff or an admin. Nothing is
guessed: a ward without a mapping is reported back and its beds are left out.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, StringConstraints
from pydantic import Field as PydField
from sqlmodel import Field, SQLModel

from capacity.availability.models import FacilityCapacity
from capacity.facilities.models import Category
from capacity.i18n import messages
from capacity.storage.types import UTCDateTime

# A ward code starts with a letter or digit: "=cmd", "+1", "-1", "@x" (spreadsheet formulas)
# never pass, nor spaces, quotes or separators. Codes are compared in upper case.
WARD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
# Rooms and beds as hospitals number them: "1.02", "K12", "3B", "12/1".
PLACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,15}$"
MAX_WARDS = 200  # mapped wards per facility
MAX_BEDS = 2000  # rows per file: more is a 413 (the largest Dutch hospital has about 1,300 beds)


def _ward_code(value: str) -> str:
    if not re.fullmatch(WARD_PATTERN, value):
        raise ValueError(messages.WARD_CODE(value=value[:40]))
    return value


def _place(value: str) -> str:
    if not re.fullmatch(PLACE_PATTERN, value):
        raise ValueError(messages.BED_PLACE(what="room/bed", value=value[:40]))
    return value


# The pattern is checked by the validator (its message says it in words, not as a regex) and
# stated in the schema for clients.
WardCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32),
    AfterValidator(_ward_code),
    PydField(json_schema_extra={"pattern": WARD_PATTERN}),
]
Place = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=16),
    AfterValidator(_place),
    PydField(json_schema_extra={"pattern": PLACE_PATTERN}),
]


class BedStatus(StrEnum):
    """A bed's state in the hospital's system; ``blocked`` is staffed but not usable now."""

    free = "free"
    occupied = "occupied"
    closed = "closed"
    blocked = "blocked"


class WardMapping(SQLModel, table=True):
    """One ward code of a facility and the category its beds count for."""

    __tablename__ = "ward_mapping"

    facility_id: str = Field(foreign_key="facility.id", primary_key=True, max_length=64)
    ward: str = Field(primary_key=True, max_length=32)
    category: Category = Field(max_length=32)


class BedImport(SQLModel, table=True):
    """The last bed list a facility's figures were derived from (its hash: a repeat confirms)."""

    __tablename__ = "bed_import"

    facility_id: str = Field(foreign_key="facility.id", primary_key=True, max_length=64)
    content_hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime())
    actor: str = Field(max_length=80)


# ---- request and response schemas ---------------------------------------------------------


class WardIn(SQLModel):
    ward: WardCode = Field(description="The ward's code in the hospital's system, e.g. VK or 4B")
    category: Category

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class WardsIn(SQLModel):
    wards: list[WardIn] = Field(max_length=MAX_WARDS)

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class FacilityWards(SQLModel):
    facility_id: str
    wards: list[WardIn]


class BedIn(SQLModel):
    ward: WardCode
    room: Place
    bed: Place
    status: BedStatus
    measured_at: AwareDatetime | None = None

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class BedsIn(SQLModel):
    beds: list[BedIn] = Field(min_length=1, max_length=MAX_BEDS)

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class DerivedFigure(SQLModel):
    available: int = PydField(description="free beds of the mapped wards")
    staffed: int = PydField(description="beds not closed (free, occupied, blocked)")
    beds: int = PydField(description="rows of the file in this category, closed ones too")


class BedImportResult(SQLModel):
    facility_id: str
    confirmed: bool = PydField(
        description="true: the same bed list as last time; the figures were made fresh again "
        "without a new version"
    )
    version: int
    content_hash: str
    rows: int
    derived: dict[Category, DerivedFigure]
    unmapped_wards: list[str] = PydField(
        description="ward codes of the file without a mapping; their rows were left out"
    )
    ignored_rows: int
    facility: FacilityCapacity
