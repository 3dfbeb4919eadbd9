"""Capacity figures, stops and the history of every accepted change.

SQL is the record: ``CapacityFigure`` holds the current figure per facility and category,
``CapacityChange`` every accepted change (append-only), ``Stop`` every stop declared.
Redis holds the live picture built from these (see ``store.py``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, StrictInt
from pydantic import Field as PydField
from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from capacity.facilities.models import Category
from capacity.storage.types import UTCDateTime

MAX_FIGURE = 500


class StopReason(StrEnum):
    beds = "beds"
    staff = "staff"
    other = "other"


class Status(StrEnum):
    green = "green"
    orange = "orange"
    red = "red"
    stop = "stop"
    unknown = "unknown"


class ChangeKind(StrEnum):
    figures = "figures"
    stop_declared = "stop_declared"
    stop_lifted = "stop_lifted"
    stop_expired = "stop_expired"
    stale = "stale"
    rebuilt = "rebuilt"


def _tz() -> Any:
    return UTCDateTime()


class CapacityFigure(SQLModel, table=True):
    __tablename__ = "capacity_figure"
    __table_args__ = (
        CheckConstraint("available >= 0 AND available <= staffed", name="available_within_staffed"),
        CheckConstraint(f"staffed <= {MAX_FIGURE}", name="staffed_at_most_max"),
    )

    facility_id: str = Field(foreign_key="facility.id", primary_key=True, max_length=64)
    category: Category = Field(primary_key=True, max_length=32)
    available: int
    staffed: int
    updated_at: datetime = Field(sa_type=_tz())
    updated_by: str = Field(max_length=80)
    stale: bool = False
    # When the hospital's system measured the figure, if it said so; freshness counts from it.
    measured_at: datetime | None = Field(default=None, sa_type=_tz())

    @property
    def fresh_since(self) -> datetime:
        """Where the freshness clock starts: when measured, else when received."""
        return self.measured_at or self.updated_at


class CapacityChange(SQLModel, table=True):
    """One accepted change, append-only; the basis of history and time-in-status reports."""

    __tablename__ = "capacity_change"
    __table_args__ = (
        # the history of a region in order (capacity over time, the capacity-daily job)
        Index("ix_capacity_change_region_at_id", "region", "at", "id"),
        # the last figure of a category / last stop change of a facility before a moment
        Index(
            "ix_capacity_change_last",
            "region",
            "facility_id",
            "kind",
            "category",
            "at",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=_tz())
    region: str = Field(max_length=64)
    facility_id: str = Field(foreign_key="facility.id", index=True, max_length=64)
    seq: int
    version: int
    kind: ChangeKind = Field(max_length=20)
    category: Category | None = Field(default=None, max_length=32)
    available: int | None = None
    staffed: int | None = None
    status: Status | None = Field(default=None, max_length=10)
    stop_reason: StopReason | None = Field(default=None, max_length=10)
    stop_until: datetime | None = Field(default=None, sa_type=_tz())
    actor: str = Field(max_length=80)


class Stop(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    facility_id: str = Field(foreign_key="facility.id", index=True, max_length=64)
    reason: StopReason = Field(max_length=10)
    since: datetime = Field(sa_type=_tz())
    until: datetime | None = Field(default=None, sa_type=_tz())
    declared_by: str = Field(max_length=80)
    ended_at: datetime | None = Field(default=None, sa_type=_tz(), index=True)
    ended_by: str | None = Field(default=None, max_length=80)


# ---- request and response schemas ---------------------------------------------------------

Figure = Annotated[StrictInt, PydField(ge=0, le=MAX_FIGURE)]


class FigureIn(SQLModel):
    available: Figure
    staffed: Figure

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


MEASURED_SKEW_SECONDS = 60  # a sender's clock may run this far ahead of ours


class CapacityUpdate(SQLModel):
    categories: dict[Category, FigureIn] = Field(min_length=1)
    measured_at: AwareDatetime | None = Field(
        default=None,
        description="When the figures were measured (ISO 8601 with an offset); freshness counts "
        f"from it. Not in the future (up to {MEASURED_SKEW_SECONDS} s of clock skew allowed), "
        "not older than the region's freshness limit. Default: when received.",
    )

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class StopIn(SQLModel):
    reason: StopReason
    until: AwareDatetime | None = None

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class StopPublic(SQLModel):
    reason: StopReason
    since: datetime
    until: datetime | None


class CategoryPublic(SQLModel):
    available: int
    staffed: int
    status: Status
    updated_at: datetime
    stale: bool
    stale_at: datetime | None = PydField(
        None, description="When the figure turns stale (older than the region's freshness limit)"
    )
    updated_by: str | None = PydField(
        None,
        description="Who set this figure last: a username, or key:<facility id> for the "
        "facility's API key",
    )
    updated_by_label: str | None = PydField(
        None, description="The label an admin gave the API key that set this figure, if any"
    )
    measured_at: datetime | None = PydField(
        None,
        description="When the hospital's system measured the figure, if it said so; freshness "
        "(stale, stale_at) counts from it, else from updated_at",
    )


class FacilityCapacity(SQLModel):
    facility_id: str
    version: int
    updated_by: str | None = PydField(
        description="Who made the last change: a username, key:<facility id> for the facility's "
        "API key, or system (figures turned stale, a stop that ended by itself)"
    )
    stop: StopPublic | None
    categories: dict[Category, CategoryPublic]


class RegionCapacity(SQLModel):
    region: str
    seq: int
    generated_at: datetime
    facilities: list[FacilityCapacity]


class Thresholds(SQLModel):
    green_min: int
    orange_min: int
    freshness_limit_minutes: int
