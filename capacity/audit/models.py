"""The append-only audit trail (NEN 7513: who, when, what)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from capacity.storage.types import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime(), index=True)  # type: ignore[call-overload]
    actor: str = Field(max_length=80, index=True)
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=80)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AuditEventPublic(SQLModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, Any]
