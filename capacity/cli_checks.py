"""What the command line checks before it works, and how it tells a refusal: one line on
stderr naming the CAPACITY_ variable to change, never a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from capacity import urls
from capacity.observability.logs import redact
from capacity.settings import Settings, explain


class Refused(Exception):
    """The command cannot run as configured; the message says why and what to set."""


def require_database(settings: Settings) -> None:
    """Refuse to work on a SQLite database that does not exist rather than make an empty one.

    A command run outside the service's folder would otherwise find no ``./var`` and quietly
    start a new, empty database there.
    """
    path = urls.sqlite_file(settings.resolved_database_url)
    if path is None or path.exists():
        return
    if settings.database_url:
        raise Refused(
            f"CAPACITY_DATABASE_URL names {path}, which does not exist; point it at the "
            "service's database, or make a new one with `capacity migrate`"
        )
    raise Refused(
        f"no database in {path.parent} (CAPACITY_DATA_DIR={settings.data_dir}, seen from "
        f"{Path.cwd()}); run this in the service's folder or set CAPACITY_DATA_DIR to its data "
        "folder; `capacity migrate` makes a new database"
    )


def require_services(settings: Settings) -> None:
    """A server's database and Redis answer (before it logs or changes anything)."""
    asyncio.run(_reach(settings))


async def _reach(settings: Settings) -> None:
    from sqlalchemy import text

    from capacity.storage.db import Database
    from capacity.storage.redis import client_for

    if urls.sqlite_file(settings.resolved_database_url) is None:  # SQLite is made by migrate
        db = Database(settings.resolved_database_url)
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await db.dispose()
    if settings.external_redis:
        client = client_for(settings)
        try:
            await client.ping()
        finally:
            await client.aclose()


def one_line(exc: BaseException) -> tuple[str, int] | None:
    """The refusal line and exit code for a failure the user can mend by configuration."""
    from pydantic import ValidationError
    from redis.exceptions import RedisError
    from sqlalchemy.exc import DBAPIError

    from capacity.storage.redis import ValkeyInUse

    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        return explain(exc), 2
    if isinstance(exc, Refused | ValkeyInUse):
        return str(exc), 1
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig or exc).strip().splitlines()[0]
        return f"CAPACITY_DATABASE_URL: the database refused: {reason}", 1
    if isinstance(exc, RedisError):
        return f"CAPACITY_REDIS_URL: Redis refused: {str(exc).splitlines()[0]}", 1
    return None


def report(exc: BaseException) -> tuple[str, int] | None:
    """``one_line`` with any secret taken out of the line."""
    found = one_line(exc)
    return None if found is None else (f"error: {redact(found[0])}", found[1])
