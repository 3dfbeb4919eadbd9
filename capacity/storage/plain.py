"""Plain SQL for the group-commit writers: statements SQLite and PostgreSQL both speak, run on
the driver's own cursor of a sync connection on the writer's thread.

The hot paths skip SQLAlchemy's statement execution (compiling, type processing, result
metadata: most of a write's cost in the profiles). Times are bound as the dialect stores them:
SQLite keeps UTC text without offset (as SQLAlchemy writes it), PostgreSQL timestamptz.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, create_engine, event

from capacity.storage.db import Database, sqlite_pragmas


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite", "sqlite").replace("+asyncpg", "+psycopg")


def writer_engine(db: Database) -> Engine:
    """A one-connection sync engine for a writer's thread (SQLite: ``BEGIN IMMEDIATE``)."""
    engine = create_engine(sync_url(db.url), pool_size=1, max_overflow=0, hide_parameters=True)
    if db.is_sqlite:
        event.listen(engine, "connect", sqlite_pragmas)
        event.listen(engine, "begin", lambda c: c.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


class PlainSQL:
    """Statement text and bound values in the dialect's own forms."""

    def __init__(self, sqlite: bool):
        self.sqlite = sqlite

    def named(self, query: str) -> str:
        """``:name`` placeholders as the driver wants them (psycopg: ``%(name)s``)."""
        return query if self.sqlite else re.sub(r":(\w+)", r"%(\1)s", query)

    def marks(self, count: int) -> str:
        """``count`` positional placeholders, comma-separated (only these go into the text)."""
        return ", ".join(["?" if self.sqlite else "%s"] * count)

    def time(self, moment: datetime) -> Any:
        moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment

    def read_time(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite's text
            value = datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def json(self, value: Any) -> Any:
        return orjson.dumps(value).decode() if self.sqlite else Jsonb(value)

    def json_list(self, value: Any) -> list[Any]:
        """A JSON column read back (SQLite: text; PostgreSQL: already a list)."""
        return value if isinstance(value, list) else orjson.loads(value)
