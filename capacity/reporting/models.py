"""Stored monthly ROAZ reports: figures with small cells already suppressed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
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
