"""Hand-counted refusals of October 2026, stored directly (past the 7-day rule)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, inspect

from capacity.refusals.models import Refusal
from capacity.refusals.service import buckets
from tests.conftest import ERASMUS

IKAZIA = "ikazia-ziekenhuis-rotterdam"
UMCG = "universitair-medisch-centrum-groningen"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make(
    facility: str,
    occurred: str,
    *,
    region: str = "zuidwest",
    reason: str | None = "no_bed",
    decision: str = "refused",
    shown: str = "red",
    category: str = "delivery_room",
    request_type: str = "medical",
    episode: str | None = None,
    **extra: Any,
) -> Refusal:
    when = at(occurred)
    return Refusal(
        occurred_at=when,
        facility_id=facility,
        category=category,
        request_type=request_type,
        reason=reason,
        decision=decision,
        episode=episode,
        region=region,
        recorded_at=when,
        recorded_by=1,
        shown_status=shown,
        **buckets(when),
        **extra,
    )


def october() -> list[Refusal]:
    """Hand-counted (from 2026-10-01 to 2026-10-31, local dates):
    refused 5 (E 4, I 1), shown green/orange 2, searches 4, accepted 2 (E 1, I 1),
    hours 00:2 10:2 15:1, weekdays Mon 2 Tue 2 Thu 1, outcomes placed 1 + home birth 1.
    """
    return [
        make(
            ERASMUS, "2026-10-05T08:30:00", reason="no_nurse", shown="green", episode="ep-aaaaaaaa"
        ),
        make(
            IKAZIA,
            "2026-10-05T08:45:00",
            episode="ep-aaaaaaaa",
            outcome="placed",
            placed_outside_region=False,
            calls_until_placement=3,
            minutes_until_placement=40,
            outcome_at=at("2026-10-05T09:30:00"),
        ),
        make(ERASMUS, "2026-10-12T22:10:00", shown="orange", request_type="acute"),
        make(
            ERASMUS,
            "2026-10-20T13:00:00",
            reason="stop",
            shown="stop",
            category="maternity_bed",
            request_type="non_medical",
            episode="ep-bbbbbbbb",
            outcome="home_birth",
            outcome_at=at("2026-10-20T15:00:00"),
        ),
        make(
            IKAZIA,
            "2026-10-20T13:30:00",
            reason=None,
            decision="accepted",
            shown="green",
            episode="ep-bbbbbbbb",
        ),
        make(ERASMUS, "2026-10-21T10:00:00", reason=None, decision="accepted", shown="green"),
        make(UMCG, "2026-10-05T08:30:00", region="noord"),  # another region
        make(ERASMUS, "2026-11-01T00:30:00"),  # 01:30 on 1 November, local: outside
        make(ERASMUS, "2026-09-30T22:30:00", shown="unknown"),  # 00:30 on 1 October, local: inside
    ]


async def store(app: Any, refusals: list[Refusal]) -> None:  # type: ignore[no-untyped-def]
    async with app.state.db.write_session() as session:
        session.add_all(refusals)
        await session.commit()


def insert_old(engine: Engine, refusals: list[Refusal]) -> None:
    """Insert records into a database migrated to an older revision: only the columns its
    refusal table has then (the model may have grown since)."""
    present = {c["name"] for c in inspect(engine).get_columns("refusal")} - {"id"}
    with engine.begin() as conn:
        conn.execute(
            insert(Refusal.__table__),  # type: ignore[attr-defined]
            [{c: getattr(r, c) for c in present} for r in refusals],
        )
