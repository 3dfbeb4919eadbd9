"""Two writers with the same If-Match at the same moment: exactly one wins, the other gets 412.

Two real server processes on one database and one Redis, so the version check must hold across
processes (the region lock), and also within one process (its group-commit writer may put both
into one batch). The loser changes nothing: the facility's version rose by exactly one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from capacity.storage.redis import EmbeddedValkey
from tests import servers
from tests.conftest import ERASMUS, Databases
from tests.faults.support import rows, sql

ROUNDS = 30


@pytest.fixture
def pair(
    databases: Databases, valkey: EmbeddedValkey, tmp_path: Path
) -> Iterator[list[servers.Server]]:
    redis.Redis.from_url(valkey.url).flushall()
    url = databases.fresh()
    two = [
        servers.Server(
            database_url=url,
            redis_url=valkey.url,
            data_dir=tmp_path / name,
            secret_key="test-secret-key-for-if-match-races-0123456789",
            frontend_dir=str(tmp_path / "no-frontend"),
        )
        for name in "ab"
    ]
    with servers.running(two, 90.0) as started:
        yield started


@pytest.fixture
async def clients(pair: list[servers.Server]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=pair[0].url, timeout=30) as a,
        httpx.AsyncClient(base_url=pair[1].url, timeout=30) as b,
    ):
        yield [a, b]


async def bearer(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/token", data={"username": username, "password": "demo"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def figures(available: int) -> dict[str, Any]:
    return {"json": {"categories": {"nicu": {"available": available, "staffed": 200}}}}


async def test_same_if_match_concurrently_one_200_one_412(pair, clients) -> None:  # type: ignore[no-untyped-def]
    a, b = clients
    staff = await bearer(a, f"staff-{ERASMUS}")
    admin = await bearer(b, "admin")
    engine = sql(pair[0].env["CAPACITY_DATABASE_URL"])
    capacity = f"/api/v1/facilities/{ERASMUS}/capacity"
    stop = f"/api/v1/facilities/{ERASMUS}/stop"
    try:
        first = await a.put(capacity, headers=staff, **figures(1))
        version = int(first.headers["ETag"].strip('"'))
        for i in range(ROUNDS):
            match = {"If-Match": f'"{version}"'}
            other = a if i % 3 == 0 else b  # same process (one batch) or the other process
            if i % 4 == 1:  # the ward's figures against a stop declared on another screen
                second = other.put(stop, headers={**admin, **match}, json={"reason": "beds"})
            else:
                second = other.put(capacity, headers={**admin, **match}, **figures(100 + i))
            answers = await asyncio.gather(
                a.put(capacity, headers={**staff, **match}, **figures(i)), second
            )
            codes = sorted(r.status_code for r in answers)
            assert codes == [200, 412], [r.text for r in answers]
            won = next(r for r in answers if r.status_code == 200)
            lost = next(r for r in answers if r.status_code == 412)
            version += 1
            assert won.headers["ETag"] == f'"{version}"'
            assert lost.json()["facility"]["version"] >= version
            [(stored,)] = rows(engine, "SELECT version FROM facility WHERE id = :f", f=ERASMUS)
            assert stored == version  # the loser raised nothing
            nicu = rows(
                engine,
                "SELECT available FROM capacity_figure "
                "WHERE facility_id = :f AND category = 'nicu'",
                f=ERASMUS,
            )
            assert nicu == [(won.json()["categories"]["nicu"]["available"],)]
            if won.json()["stop"] is not None:
                lifted = await a.delete(stop, headers=staff)
                version = int(lifted.headers["ETag"].strip('"'))
    finally:
        engine.dispose()
