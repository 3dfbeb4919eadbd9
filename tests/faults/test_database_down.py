"""The database unavailable: SQLite locked by another process's write transaction, or the
PostgreSQL database refusing connections (its sessions killed), as CI runs both.

Promises: writes get 503 with a message naming the database; nothing is half-written in Redis;
/readyz answers 503 naming the database; once it is back, writes succeed without a restart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, make_url, text

from capacity.storage import keys
from capacity.storage.redis import EmbeddedValkey
from tests.conftest import PG_URL, Databases, _sync_url
from tests.faults.support import ERASMUS, REGION, Server, flush, rows, sql, token, wait_for


@contextmanager
def sqlite_locked(url: str) -> Iterator[None]:
    """Another process's view: a connection that holds the write lock until released."""
    conn = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@contextmanager
def postgres_down(url: str) -> Iterator[None]:
    """The database refuses new connections and every open session is killed."""
    assert PG_URL
    name = make_url(url).database
    admin = create_engine(_sync_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def _put(server: Server, admin: str, available: int) -> httpx.Response:
    return httpx.put(
        f"{server.url}/api/v1/facilities/{ERASMUS}/capacity",
        json={"categories": {"delivery_room": {"available": available, "staffed": 9}}},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=60,
    )


def _redis_picture(client: redis.Redis) -> tuple[object, object, object]:
    return (
        client.get(keys.region_seq(REGION)),
        client.hgetall(keys.region_state(REGION)),
        client.xlen(keys.region_stream(REGION)),
    )


def test_database_down_refuses_writes_with_503_and_recovers_without_restart(
    databases: Databases, valkey: EmbeddedValkey, tmp_path: Path
) -> None:
    flush(valkey.url)
    url = databases.fresh()
    outage = postgres_down if PG_URL else sqlite_locked
    server = Server(database_url=url, redis_url=valkey.url, data_dir=tmp_path / "app").start()
    client = redis.Redis.from_url(valkey.url)
    try:
        admin = token(server, "admin")
        assert _put(server, admin, 1).status_code == 200
        before = _redis_picture(client)
        with outage(url):
            response = _put(server, admin, 2)
            assert response.status_code == 503, response.text
            assert "database" in response.json()["detail"]
            assert _redis_picture(client) == before  # nothing half-written in Redis
            ready = httpx.get(server.url + "/readyz", timeout=30)
            assert ready.status_code == 503
            assert ready.json()["database"] != "ok" and ready.json()["redis"] == "ok"
        wait_for(
            lambda: httpx.get(server.url + "/readyz", timeout=30).status_code == 200,
            30,
            "/readyz ok again",
            0.2,
        )
        # back without a restart: the first write after the outage is accepted and kept
        response = _put(server, admin, 3)
        assert response.status_code == 200, response.text
        engine = sql(url)
        stored = rows(
            engine,
            "SELECT available FROM capacity_figure WHERE facility_id = :f "
            "AND category = 'delivery_room'",
            f=ERASMUS,
        )
        engine.dispose()
        assert [r[0] for r in stored] == [3]
        assert int(client.get(keys.region_seq(REGION)) or 0) > int(before[0] or 0)  # type: ignore[arg-type]
    finally:
        server.stop()
