"""Writing to the audit trail; the trail is only ever appended to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit.models import AuditEvent


def record(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one audit row to the session's transaction (it lands or fails with the change)."""
    event = AuditEvent(
        at=at or datetime.now(UTC),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail or {},
    )
    session.add(event)
    return event
