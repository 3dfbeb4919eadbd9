"""Shared fixtures: a real embedded Valkey and a real database (SQLite, or PostgreSQL in CI).

The schema is migrated and seeded once per run into a template; every test gets a fresh copy
of it and an emptied Redis, so tests do not see each other's changes.

Set CAPACITY_TEST_DATABASE_URL=postgresql+psycopg://user@host:port/postgres to run the suite
on PostgreSQL: each test then gets a database created from the template database.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from capacity import setup
from capacity.main import create_app
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.redis import EmbeddedValkey
from tests import servers

PG_URL = os.environ.get("CAPACITY_TEST_DATABASE_URL")


def _sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


class Databases:
    """Hands out a fresh, migrated and seeded database per test."""

    def __init__(self, root: Path):
        self.root = root
        self.template: str | None = None
        self.made: list[str] = []

    def _pg_admin(self):  # type: ignore[no-untyped-def]
        assert PG_URL
        return create_engine(_sync_url(PG_URL), isolation_level="AUTOCOMMIT")

    def _pg_url(self, name: str) -> str:
        assert PG_URL
        return PG_URL.rsplit("/", 1)[0] + "/" + name

    def prepare(self) -> None:
        if PG_URL:
            name = f"capacity_tmpl_{uuid.uuid4().hex[:8]}"
            with self._pg_admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = self._pg_url(name)
        else:
            url = f"sqlite+aiosqlite:///{self.root / 'template.db'}"
        setup.migrate(url)

        async def seed() -> None:
            db = Database(url)
            await setup.seed(db=db, demo_users=True)
            await db.dispose()

        asyncio.run(seed())
        self.template = url

    def fresh(self) -> str:
        assert self.template
        if PG_URL:
            name = f"capacity_t_{uuid.uuid4().hex[:10]}"
            tmpl = self.template.rsplit("/", 1)[1]
            with self._pg_admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))
            self.made.append(name)
            return self._pg_url(name)
        path = self.root / f"{uuid.uuid4().hex[:10]}.db"
        shutil.copy(self.root / "template.db", path)
        return f"sqlite+aiosqlite:///{path}"

    def cleanup(self) -> None:
        if not PG_URL:
            return
        names = [*self.made, self.template.rsplit("/", 1)[1]] if self.template else self.made
        with self._pg_admin().connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey]:
    """One real Valkey server for the run (tests that kill Redis start their own)."""
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"), appendonly=False).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    dbs.prepare()
    yield dbs
    dbs.cleanup()


@pytest.fixture
def settings(databases: Databases, valkey: EmbeddedValkey, tmp_path: Path) -> Settings:
    """Settings of a fresh service: its own database copy, an emptied Redis, no demo figures."""
    redis.Redis.from_url(valkey.url).flushall()
    return Settings(
        database_url=databases.fresh(),
        redis_url=valkey.url,
        data_dir=tmp_path / "var",
        auto_setup=False,
        demo_data=False,
        expiry_interval_seconds=3600,
        frontend_dir=tmp_path / "no-frontend",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator:  # type: ignore[type-arg]
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class Login:
    """Bearer headers for the demo accounts (password 'demo'), cached per test."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client
        self.cache: dict[str, dict[str, str]] = {}

    async def __call__(self, username: str) -> dict[str, str]:
        if username not in self.cache:
            response = await self.client.post(
                "/api/v1/auth/token", data={"username": username, "password": "demo"}
            )
            assert response.status_code == 200, response.text
            self.cache[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self.cache[username]


@pytest.fixture
def login(client: httpx.AsyncClient) -> Login:
    return Login(client)


ERASMUS = "erasmus-mc-rotterdam"


@pytest.fixture
def api_server(
    databases: Databases, valkey: EmbeddedValkey, tmp_path: Path
) -> Iterator[servers.Server]:
    """One real server process (uvicorn) on a fresh database and an emptied Valkey, no frontend."""
    redis.Redis.from_url(valkey.url).flushall()
    made = servers.Server(
        database_url=databases.fresh(),
        redis_url=valkey.url,
        data_dir=tmp_path / "server",
        frontend_dir=str(tmp_path / "no-frontend"),
    )
    with servers.running([made]) as (running,):
        yield running
