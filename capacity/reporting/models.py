"""Stored monthly ROAZ reports: figures with small cells already suppressed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from capacity.storage.types import UTCDateTime


class RefusalReport(SQLModel, table=True):
    """One region's report of one month; generating it again replaces the content."""

    __tablename__ = "refusal_report"
    __table_args__ = (UniqueConstraint("region", "month", name="uq_refusal_report_region_month"),)

    id: int | None = Field(default=None, primary_key=True)
    region: str = Field(foreign_key="region.id", max_length=64)
    month: str = Field(max_length=7, description="e.g. 2026-10")
    generated_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    generated_by: str = Field(max_length=80)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReportSummary(SQLModel):
    id: int
    region: str
    month: str
    generated_at: datetime
    generated_by: str


class RefusalDaily(SQLModel, table=True):
    """Refusal counts per region, local day, one grouping dimension, its bucket and decision.

    Kept by database triggers on ``refusal`` (insert, change of a counted column, delete) in the
    same transaction, so it cannot disagree with the records; migration 0003 backfilled it.
    One row per dimension (``all``, ``facility``, ``reason``, ``request_type``, ``category``,
    ``hour``) rather than one row per combination: a region sees ~150 records a day spread
    over thousands of combinations, so a combined row would aggregate nothing (bench/README.md).
    ``bucket`` is ``''`` for a missing value (no reason, request type not recorded).
    """

    __tablename__ = "refusal_daily"

    region: str = Field(primary_key=True, max_length=64)
    dim: str = Field(primary_key=True, max_length=16)
    occurred_on: date = Field(primary_key=True)
    bucket: str = Field(primary_key=True, max_length=64)
    decision: str = Field(primary_key=True, max_length=10)
    occurred_weekday: int
    occurred_week: str = Field(max_length=8)
    occurred_month: str = Field(max_length=7)
    n: int = Field(description="records")
    n_shown: int = Field(description="records while shown green or orange")
    n_no_episode: int = Field(description="records without an episode token")


class CapacityDaily(SQLModel, table=True):
    """Time per region, finished local day, facility, category and state, from the history.

    The raw material of capacity over time, so that changing thresholds need no recomputation:
    ``fresh`` rows hold the time a category's last figure was ``available`` and still fresh,
    ``stale`` the time it was past the freshness limit (the limit in ``capacity_daily_state``),
    ``stop`` (category ``''``) the time the facility was in a stop. Kept by the
    ``capacity-daily`` job for days that have ended; today is always read from the history.
    Microseconds, so that sums over days equal the raw sums exactly.
    """

    __tablename__ = "capacity_daily"

    region: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    facility_id: str = Field(primary_key=True, max_length=64)
    category: str = Field(primary_key=True, max_length=32, description="'' for a stop")
    state: str = Field(primary_key=True, max_length=8, description="fresh, stale or stop")
    available: int = Field(primary_key=True, description="-1 unless fresh")
    week: str = Field(max_length=8, description="ISO week of day, e.g. 2026-W41")
    month: str = Field(max_length=7)
    microseconds: int = Field(sa_type=BigInteger)  # type: ignore[call-overload]


class CapacityDailyState(SQLModel, table=True):
    """Per region: the days up to ``through`` are in ``capacity_daily``, for this limit."""

    __tablename__ = "capacity_daily_state"

    region: str = Field(primary_key=True, max_length=64)
    through: date
    freshness_limit_minutes: int
    updated_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]


# The answers of the statistics endpoints, as /openapi.json describes them.
Number = int | float


class Suppressed(SQLModel):
    """A cell hidden in a report: under 5, or a total would give it back."""

    suppressed: bool = True


Cell = Number | Suppressed | None  # None: not applicable (a rate without accepted transfers)


class RefusalGroup(SQLModel):
    key: str
    count: int
    shown_available: int
    accepted: int
    refusal_rate: float | None


class OutcomeCounts(SQLModel):
    recorded: int
    placed: int
    placed_outside_region: int
    home_birth: int
    birth_en_route: int
    unknown: int
    median_calls_until_placement: Number | None
    median_minutes_until_placement: Number | None


class RefusalStats(SQLModel):
    region: str
    from_: str = Field(alias="from", schema_extra={"json_schema_extra": {"format": "date"}})
    to: str = Field(schema_extra={"json_schema_extra": {"format": "date"}})
    group_by: str
    total: int
    shown_available: int
    searches: int
    accepted: int
    refusal_rate: float | None
    outcomes: OutcomeCounts
    groups: list[RefusalGroup]


class CapacityHours(SQLModel):
    facility_id: str
    category: str
    period: str
    hours_red: float
    hours_stop: float
    hours_stale: float


class CapacityOverTime(SQLModel):
    region: str
    from_: str = Field(alias="from", schema_extra={"json_schema_extra": {"format": "date"}})
    to: str = Field(schema_extra={"json_schema_extra": {"format": "date"}})
    period: str
    rows: list[CapacityHours]


class ReportCapacityHours(CapacityHours):
    facility_name: str


class FacilityReasonRow(SQLModel):
    key: str
    cells: dict[str, Cell]


class FacilityReason(SQLModel):
    reasons: list[str]
    rows: list[FacilityReasonRow]


class ReportContent(SQLModel):
    """A stored monthly report as JSON; a suppressed cell is ``{"suppressed": true}``."""

    version: int
    region: str
    region_name: str
    month: str
    from_: str = Field(alias="from", schema_extra={"json_schema_extra": {"format": "date"}})
    to: str = Field(schema_extra={"json_schema_extra": {"format": "date"}})
    in_progress: bool
    generated_at: str = Field(schema_extra={"json_schema_extra": {"format": "date-time"}})
    suppressed_below: int
    facility_names: dict[str, str]
    summary: dict[str, Cell]
    outcomes: dict[str, Cell]
    groups: dict[str, list[dict[str, str | Cell]]]
    facility_reason: FacilityReason
    capacity: list[ReportCapacityHours]
