"""Migration 0006 replaces the episodes a client once typed by random tokens (issue 11.6).

A database written before server-issued tokens holds patient details in ``refusal.episode``;
after the upgrade none is left, the refusals of one search still share one token (so searches
count as before) and every token is in ``episode``, issued to the recorder and already expired.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, text

from capacity.setup import alembic_config
from tests.conftest import ERASMUS, Databases, _sync_url
from tests.reporting.data import IKAZIA, insert_old, make

TYPED = ["Maria_de_Vries-1991-03-15", "Maria_de_Vries-1991-03-15", "BSN-123456782", None]


def test_upgrade_replaces_typed_episodes_and_keeps_searches(databases: Databases) -> None:
    url = databases.fresh()
    command.downgrade(alembic_config(url), "0003")
    engine = create_engine(_sync_url(url))
    try:
        insert_old(
            engine,
            [
                make(ERASMUS if n % 2 else IKAZIA, f"2026-10-0{n + 1}T10:00:00", episode=episode)
                for n, episode in enumerate(TYPED)
            ],
        )
        daily = "SELECT SUM(n), SUM(n_no_episode) FROM refusal_daily WHERE dim = 'all'"
        with engine.connect() as conn:
            counted = conn.execute(text(daily)).one()

        command.upgrade(alembic_config(url), "head")

        with engine.connect() as conn:
            rows = conn.execute(text("SELECT episode FROM refusal ORDER BY id"))
            stored = [row[0] for row in rows]
            issued = conn.execute(text("SELECT token, issued_by, expires_at FROM episode")).all()
            assert conn.execute(text(daily)).one() == counted
    finally:
        engine.dispose()
    assert not {"Maria_de_Vries-1991-03-15", "BSN-123456782"} & set(stored)
    assert stored[0] == stored[1] != stored[2] and stored[3] is None
    assert all(re.fullmatch(r"[0-9a-f]{32}", token) for token in stored[:3])
    assert {token for token, _, _ in issued} == set(stored[:3])
    assert {by for _, by, _ in issued} == {1}
    now = datetime.now(UTC).replace(tzinfo=None)
    assert all(_naive(expires) < now for _, _, expires in issued)


def _naive(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite hands the stored text back to a plain SELECT
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
