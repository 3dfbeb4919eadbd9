"""The SQL engine and sessions: SQLite file by default, PostgreSQL in production.

Writers serialise per region: on PostgreSQL through the region row lock that the first UPDATE
takes, on SQLite through ``BEGIN IMMEDIATE`` (one writer at a time across processes) plus an
in-process lock, so that waiting writers queue instead of polling SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class WritesRefused(Exception):
    """The database answers reads but cannot take a write (SQLite file locked or read-only)."""


class Database:
    """Owns the engines; created in the lifespan, handed out by dependencies."""

    def __init__(self, url: str, *, echo: bool = False):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not self.is_sqlite}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20, pool_timeout=5)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self.write_engine: AsyncEngine = self.engine
        if self.is_sqlite:
            self.write_engine = create_async_engine(url, **kwargs)
            for eng, begin in ((self.engine, "BEGIN"), (self.write_engine, "BEGIN IMMEDIATE")):
                event.listen(eng.sync_engine, "connect", sqlite_pragmas)
                event.listen(
                    eng.sync_engine, "begin", lambda conn, b=begin: conn.exec_driver_sql(b)
                )
        self._reader = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._writer = async_sessionmaker(
            self.write_engine, class_=AsyncSession, expire_on_commit=False
        )
        self._sqlite_write_lock = asyncio.Lock() if self.is_sqlite else None
        self.on_dispose: list[Callable[[], Awaitable[None]]] = []

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reading (and writes that need no region ordering)."""
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write_lock(self) -> AsyncIterator[None]:
        """On SQLite, one writer of this process at a time (others queue here, not in SQLite)."""
        if self._sqlite_write_lock is None:
            yield
            return
        async with self._sqlite_write_lock:
            yield

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction holds the write lock from its first statement (SQLite)."""
        async with self.write_lock(), self._writer() as session:
            yield session

    async def ping(self) -> None:
        """Raise unless the database answers and (SQLite) would take a write now."""
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        if self.is_sqlite:
            await asyncio.to_thread(self._sqlite_write_probe)

    def _sqlite_write_probe(self, wait: float = 2.0) -> None:
        # In WAL mode readers pass a held write lock, so SELECT 1 alone reports a file that
        # another process keeps locked (or that turned read-only) as fine.
        path = make_url(self.url).database
        if not path or path == ":memory:":
            return
        try:
            conn = sqlite3.connect(path, timeout=wait, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise WritesRefused(str(exc)) from exc

    async def dispose(self) -> None:
        for close in self.on_dispose:
            await close()
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
