"""The SQL engine, sessions and the unit of work: SQLite file by default, PostgreSQL in production.

Every write goes through one unit of work (``Database.unit_of_work``): one transaction that on
SQLite holds the write lock from its first statement (``BEGIN IMMEDIATE`` plus an in-process lock,
so writers queue instead of failing on SQLite's lock upgrade), commits once at the end and rolls
back on any error. Services flush, never commit. Writers of a region serialise on PostgreSQL
through the region row lock that their first UPDATE takes.

The in-process lock is not reentrant, and taking it twice in one task would wait forever while
holding SQLite's lock: ``write_session`` refuses that with an error instead.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
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


log = logging.getLogger(__name__)

# The task holding this process's write lock (SQLite); a second take in the same task is a bug.
_holder: ContextVar[asyncio.Task[Any] | None] = ContextVar(
    "capacity_write_lock_holder", default=None
)


class WritesRefused(Exception):
    """The database answers reads but cannot take a write (SQLite file locked or read-only)."""


class Database:
    """Owns the engines; created in the lifespan, handed out by dependencies."""

    def __init__(self, url: str, *, echo: bool = False):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: an error's message must not carry the values (password hashes, key
        # digests, episode tokens) that were bound to the statement; the log gets the statement.
        kwargs: dict[str, Any] = {
            "echo": echo,
            "pool_pre_ping": not self.is_sqlite,
            "hide_parameters": True,
        }
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
        self.writers: dict[type, Any] = {}  # group-commit writers, one of each kind

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
        task = asyncio.current_task()
        if task is not None and _holder.get() is task:
            raise RuntimeError("the write lock was asked for twice in one task (would deadlock)")
        async with self._sqlite_write_lock:
            token = _holder.set(task)
            try:
                yield
            finally:
                _holder.reset(token)

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction holds the write lock from its first statement (SQLite)."""
        async with self.write_lock(), self._writer() as session:
            yield session

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """One write transaction: committed when the block ends, rolled back on any error.

        Actions registered with ``UnitOfWork.on_failure`` run when it does not commit (e.g. a
        region whose Redis picture took a change that SQL then dropped is queued for repair).
        """
        async with self.write_session() as session:
            uow = UnitOfWork(session, self)
            try:
                yield uow
                await session.commit()
            except BaseException:
                try:
                    await session.rollback()
                except Exception:  # the connection is gone; the transaction went with it
                    log.warning("rollback failed", exc_info=True)
                uow.failed()
                raise

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


class UnitOfWork:
    """A request's (or a job's) write transaction and what to do should it not commit."""

    def __init__(self, session: AsyncSession, db: Database):
        self.session = session
        self.db = db
        self._on_failure: list[Callable[[], None]] = []

    async def commit_now(self) -> None:
        """Commit before the end (e.g. before announcing a revocation that others must see);
        the unit of work goes on in a new transaction."""
        await self.session.commit()

    def on_failure(self, action: Callable[[], None]) -> None:
        """Run ``action`` (quick, non-blocking) if this unit of work rolls back."""
        self._on_failure.append(action)

    def failed(self) -> None:
        for action in self._on_failure:
            try:
                action()
            except Exception:
                log.exception("failure action of a unit of work raised")
