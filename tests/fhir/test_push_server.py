"""Hospitals pushing MeasureReports at once against a real server process: every push is one
change, in the live stream and the picture; none is lost, none lands on another facility.

Runs on SQLite, and on PostgreSQL with CAPACITY_TEST_DATABASE_URL set (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis

from capacity.storage.redis import EmbeddedValkey
from tests.conftest import Databases
from tests.fhir.support import group, report, valid
from tests.realtime.support import STARTUP, Picture, Server, connect, figures, token

HOSPITALS = [
    "erasmus-mc-rotterdam",
    "ikazia-ziekenhuis-rotterdam",
    "maasstad-ziekenhuis-rotterdam",
    "franciscus-gasthuis-rotterdam",
]
ROUNDS = 12


@pytest.fixture
def server(databases: Databases, valkey: EmbeddedValkey, tmp_path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    redis.Redis.from_url(valkey.url).flushall()
    running = Server(
        database_url=databases.fresh(), redis_url=valkey.url, data_dir=tmp_path / "server"
    ).start(STARTUP)
    yield running
    running.stop()


async def _push_rounds(http: httpx.AsyncClient, key: str, facility: str, base: str) -> list[int]:
    """This hospital's pushes, one after another (its system's loop); the versions answered."""
    versions = []
    for i in range(ROUNDS):
        body = report(
            facility,
            group("delivery_room", base, total=20, available=i),
            group("maternity_bed", base, total=30, occupied=30 - i),
            base=base,
        )
        got = await http.post(
            "/fhir/MeasureReport",
            content=orjson.dumps(body),
            headers={"X-API-Key": key, "Content-Type": "application/fhir+json"},
        )
        assert got.status_code == 201, got.text
        versions.append(int(valid(got.json())["meta"]["versionId"]))
    return versions


async def _intrude(http: httpx.AsyncClient, key: str, victim: str, base: str) -> None:
    for _ in range(ROUNDS):
        body = report(victim, group("delivery_room", base, total=20, available=19), base=base)
        got = await http.post("/fhir/MeasureReport", json=body, headers={"X-API-Key": key})
        assert got.status_code == 403, got.text


async def test_concurrent_pushes_each_change_the_picture_and_the_stream_once(server) -> None:  # type: ignore[no-untyped-def]
    base = f"{server.url}/fhir"
    admin = {"Authorization": f"Bearer {await token(server, 'admin')}"}
    midwife = await token(server, "midwife")
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        keys = {}
        for facility in HOSPITALS:
            made = await http.post(f"/api/v1/facilities/{facility}/keys", json={}, headers=admin)
            assert made.status_code == 201, made.text
            keys[facility] = made.json()["key"]
        ws = await connect(server, midwife)
        seen = Picture()
        seen.apply(orjson.loads(await ws.recv()))
        start = {f: seen.facilities[f]["version"] for f in HOSPITALS}
        start_seq = seen.seq

        results = await asyncio.gather(
            *(_push_rounds(http, keys[f], f, base) for f in HOSPITALS),
            _intrude(http, keys[HOSPITALS[0]], HOSPITALS[1], base),
        )
        for facility, versions in zip(HOSPITALS, results, strict=False):
            # each push raised the facility's version by one, in the hospital's own order
            assert versions == [start[facility] + i + 1 for i in range(ROUNDS)]

        picture = (
            await http.get(
                "/api/v1/regions/zuidwest/capacity", headers={"Authorization": f"Bearer {midwife}"}
            )
        ).json()
        assert picture["seq"] == start_seq + ROUNDS * len(HOSPITALS)
        await seen.follow(ws, picture["seq"])
        await ws.close()
        assert figures({"facilities": list(seen.facilities.values())}) == figures(picture)
        for facility in HOSPITALS:
            entry = next(f for f in picture["facilities"] if f["facility_id"] == facility)
            assert entry["categories"]["delivery_room"]["available"] == ROUNDS - 1
            assert entry["categories"]["maternity_bed"]["available"] == ROUNDS - 1
            assert entry["version"] == start[facility] + ROUNDS  # the intruder changed nothing

        found = await http.get(
            "/fhir/MeasureReport",
            params={"region": "zuidwest"},
            headers={"Authorization": f"Bearer {midwife}"},
        )
        bundle: dict[str, Any] = valid(found.json())
        assert {e["resource"]["id"] for e in bundle["entry"]} == set(HOSPITALS)
