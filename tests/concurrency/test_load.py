"""Fifty clients at once against real server processes (one, or two sharing database and
Redis): figures from staff and API keys across three regions, stops declared and lifted,
refusals and their outcomes, logins, admin writes, and websocket listeners on the regions.

Promise: no request gets a 5xx or goes unanswered; every change answered 2xx is in SQL; and
afterwards SQL, GET capacity on every server, Redis's state hash and every listener's picture
agree on each facility's figures, stop and version.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from capacity.storage.redis import EmbeddedValkey
from tests.concurrency.conftest import Launch
from tests.concurrency.load import Facility, Load
from tests.concurrency.support import (
    TIMEOUT,
    bearer,
    redis_picture,
    shown,
    sql_picture,
    token,
    until,
)
from tests.faults.support import rows

REGIONS = ("zuidwest", "noord", "west")
PER_REGION = 4
LISTENERS = 6


async def _facilities(http: httpx.AsyncClient, admin: str) -> list[Facility]:
    found: list[Facility] = []
    for region in REGIONS:
        listed = await http.get(f"/api/v1/facilities?region={region}", headers=bearer(admin))
        found += [{**f, "region": region} for f in listed.json()[:PER_REGION]]
    return found


async def _workers(load: Load, http: httpx.AsyncClient, facilities: list[Facility]) -> list[Any]:
    admin, midwife = bearer(await token(http, "admin")), bearer(await token(http, "midwife"))
    staff = {f["id"]: bearer(await token(http, f"staff-{f['id']}")) for f in facilities}
    keys = {}
    for f in facilities[:6]:
        made = await http.post(f"/api/v1/facilities/{f['id']}/keys", headers=admin)
        assert made.status_code == 201, made.text
        keys[f["id"]] = {"X-API-Key": made.json()["key"]}
    work: list[Any] = [load.figures(n, f, staff[f["id"]]) for n, f in enumerate(facilities)]
    work += [load.figures(20 + n, f, keys[f["id"]]) for n, f in enumerate(facilities[:6])]
    work += [load.stops(30 + n, f, staff[f["id"]]) for n, f in enumerate(facilities[6:])]
    work += [load.refusals(40 + n, f, midwife) for n, f in enumerate(facilities)]
    work += [load.logins(60 + n, name) for n, name in enumerate(["midwife", "admin"] * 2)]
    work += [load.admin(70 + n, f, admin) for n, f in enumerate(facilities[:4])]
    return work


def _unrecorded(engine: Engine, load: Load) -> list[str]:
    """The 2xx changes SQL's history does not hold (or holds with other figures)."""
    held: dict[tuple[str, int], dict[str, tuple[int, int]]] = {}
    for row in rows(
        engine, "SELECT facility_id, version, category, available, staffed FROM capacity_change"
    ):
        figs = held.setdefault((row.facility_id, row.version), {})
        if row.category is not None:
            figs[row.category] = (row.available, row.staffed)
    missing = []
    for facility, version, entry in load.changes:
        figs = held.get((facility, version))
        sent = {c: (v["available"], v["staffed"]) for c, v in entry["categories"].items()}
        if figs is None or any(sent.get(c) != v for c, v in figs.items()):
            missing.append(f"{facility} v{version}: answered {sent}, SQL {figs}")
    return missing


async def _agree(load: Load, engine: Engine, redis_url: str, admin: str) -> list[str]:
    problems = []
    for region in REGIONS:
        record = sql_picture(engine, region)
        seq = 0
        for server in load.servers:
            async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as http:
                got = await http.get(f"/api/v1/regions/{region}/capacity", headers=bearer(admin))
            assert got.status_code == 200, got.text
            seq = max(seq, got.json()["seq"])
            if shown(got.json()["facilities"]) != record:
                listed = shown(got.json()["facilities"])
                problems.append(f"GET {region} on {server.url}: {listed}\n SQL {record}")
        if redis_picture(redis_url, region) != record:
            problems.append(f"Redis {region}: {redis_picture(redis_url, region)}\n SQL {record}")
        for listened, picture in load.listeners:
            if listened != region:
                continue
            await until(
                lambda p=picture, s=seq: p.seq >= s or bool(load.calls.failures),  # type: ignore[misc]
                f"a {region} listener to reach seq {seq}",
            )
            if shown(list(picture.facilities.values())) != record:
                problems.append(
                    f"websocket {region} at seq {picture.seq}: differs from SQL {record}"
                )
    return problems


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "two-processes"])
async def test_fifty_clients_leave_sql_and_every_live_picture_equal(
    processes: int, launch: Launch, engine: Engine, valkey: EmbeddedValkey
) -> None:
    load = Load(launch(processes))
    async with httpx.AsyncClient(base_url=load.servers[0].url, timeout=TIMEOUT) as http:
        admin, midwife = await token(http, "admin"), await token(http, "midwife")
        facilities = await _facilities(http, admin)
        work = await _workers(load, http, facilities)
    listening = [
        asyncio.create_task(load.listen(n, midwife, REGIONS[n % len(REGIONS)]))
        for n in range(LISTENERS)
    ]
    try:
        await until(
            lambda: all(p.snapshots for _, p in load.listeners) or bool(load.calls.failures),
            "every listener's snapshot",
        )
        load.started = time.monotonic()
        await asyncio.gather(*work)
        assert len(work) + LISTENERS >= 50
        assert not load.calls.failures, load.calls.report()
        assert load.changes, load.calls.report()
        assert not _unrecorded(engine, load), _unrecorded(engine, load)
        problems = await _agree(load, engine, valkey.url, admin)
        assert not problems, "\n".join(problems)
        assert not load.calls.failures, load.calls.report()
    finally:
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
    print("answers:", dict(load.calls.statuses), "changes:", len(load.changes))
