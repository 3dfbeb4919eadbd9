"""The audit trail as CSV, streamed from a server-side cursor (admin endpoint and CLI)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import col, select

from capacity.audit.models import AuditEvent
from capacity.errors import InputError
from capacity.i18n import messages
from capacity.reporting.exports import CHUNK, csv_stream
from capacity.storage.db import Database

COLUMNS = ["id", "at", "actor", "action", "entity", "entity_id", "detail"]
MAX_DAYS = 366


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00 UTC, the day after end 00:00 UTC)``; ``end`` is inclusive."""
    if end < start:
        raise InputError("to", messages.EXPORT_TO_BEFORE_FROM())
    if (end - start).days >= MAX_DAYS:
        raise InputError("to", messages.EXPORT_TOO_LONG(days=MAX_DAYS))
    return (
        datetime.combine(start, time(), UTC),
        datetime.combine(end + timedelta(days=1), time(), UTC),
    )


def _safe(value: Any) -> Any:
    # A spreadsheet runs a cell starting with = + - @ as a formula; failed logins put what a
    # stranger typed as the user name into the trail.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def rows(*, db: Database, start: date, end: date) -> AsyncIterator[list[Any]]:
    """Every audit event of the period, oldest first."""
    since, until = period(start, end)
    query = (
        select(AuditEvent)
        .where(AuditEvent.at >= since, AuditEvent.at < until)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
        .execution_options(yield_per=CHUNK)
    )
    async with db.session() as session:
        result = await session.stream_scalars(query)
        async for event in result:
            detail = json.dumps(event.detail, sort_keys=True, separators=(",", ":"))
            yield [
                event.id,
                event.at.isoformat(),
                *(_safe(v) for v in (event.actor, event.action, event.entity, event.entity_id)),
                _safe(detail),
            ]


def csv_export(*, db: Database, start: date, end: date) -> AsyncIterator[bytes]:
    """The CSV bytes of the period, chunk by chunk."""
    period(start, end)  # validate before the answer starts
    return csv_stream(COLUMNS, rows(db=db, start=start, end=end))
