"""Real server processes for the concurrency tests: a fresh database (SQLite, or PostgreSQL when
CAPACITY_TEST_DATABASE_URL is set) and the session's Valkey, emptied first."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from capacity.storage.redis import EmbeddedValkey
from tests.concurrency.support import STARTUP, Server
from tests.conftest import Databases
from tests.faults.support import sql
from tests.servers import running

Launch = Callable[..., list[Server]]


@pytest.fixture
def database_url(databases: Databases, valkey: EmbeddedValkey) -> str:
    redis.Redis.from_url(valkey.url).flushall()
    return databases.fresh()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = sql(database_url)
    yield made
    made.dispose()


@pytest.fixture
def launch(database_url: str, valkey: EmbeddedValkey, tmp_path: Path) -> Iterator[Launch]:
    """``launch(n, **settings)``: n server processes sharing the database and Valkey."""
    with ExitStack() as stack:

        def start(count: int = 1, **extra: str) -> list[Server]:
            made = [
                Server(
                    database_url=database_url,
                    redis_url=valkey.url,
                    data_dir=tmp_path / f"server-{time.monotonic_ns()}-{i}",
                    **extra,
                )
                for i in range(count)
            ]
            return stack.enter_context(running(made, STARTUP))

        yield start
