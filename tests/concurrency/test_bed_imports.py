"""Issue 14.1: 300-bed lists pushed at once by a hospital's key, its staff and an admin, on two
server processes (SQLite, or PostgreSQL with CAPACITY_TEST_DATABASE_URL).

Promise: no 5xx and no hang; every list is either one change (the facility's version rises by
exactly one) or a confirmation (no new version); the figures left are those of one whole list,
never a mix of two; SQL, Redis, GET and a websocket client following the region all agree.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine

from capacity.storage.redis import EmbeddedValkey
from tests.beds.support import CSV, MAPPING, beds, csv_of, expected
from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, settled, sql_picture, token
from tests.faults.support import rows
from tests.realtime.support import Picture, connect

ERASMUS = "erasmus-mc-rotterdam"
REGION = "zuidwest"
ROUNDS = 24
SHIFTS = 3  # lists 0, 1 and 2: mostly 0 again (a confirmation) racing with changes to 1 or 2


def shift_of(k: int) -> int:
    return 0 if k % 4 else 1 + k // 4 % 2


def as_figures(found: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {c: (f["available"], f["staffed"]) for c, f in found.items()}


async def test_concurrent_bed_lists_leave_one_whole_list_and_every_reader_agrees(
    launch: Launch, engine: Engine, valkey: EmbeddedValkey
) -> None:
    servers = launch(2)
    calls = Calls()
    clients = [
        httpx.AsyncClient(base_url=s.url, limits=httpx.Limits(max_connections=100)) for s in servers
    ]
    try:
        admin_token = await token(clients[0], "admin")
        admin = bearer(admin_token)
        staff = bearer(await token(clients[1], f"staff-{ERASMUS}"))
        mapped = await clients[0].put(
            f"/api/v1/facilities/{ERASMUS}/wards", json=MAPPING, headers=admin
        )
        assert mapped.status_code == 200, mapped.text
        made = await clients[0].post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
        key = {"X-API-Key": made.json()["key"]}
        start = rows(engine, "SELECT version FROM facility WHERE id = :f", f=ERASMUS)[0].version
        first = await clients[0].post(
            f"/api/v1/facilities/{ERASMUS}/beds", json={"beds": beds()}, headers=key
        )
        assert first.status_code == 200, first.text
        start += 1
        ws = await connect(servers[1], admin_token)
        follower = Picture()
        follower.apply(orjson.loads(await ws.recv()))
        sends = []
        for k in range(ROUNDS):
            who = (key, staff, admin)[k % 3]
            shift = shift_of(k)
            if k % 2:
                sends.append(
                    calls.send(
                        clients[k % 2],
                        "POST",
                        f"/api/v1/facilities/{ERASMUS}/beds",
                        content=csv_of(beds(shift=shift)),
                        headers={**who, **CSV},
                    )
                )
            else:
                sends.append(
                    calls.send(
                        clients[k % 2],
                        "POST",
                        f"/api/v1/facilities/{ERASMUS}/beds",
                        json={"beds": beds(shift=shift)},
                        headers=who,
                    )
                )
        answers = await asyncio.gather(*sends)
        assert not calls.failures, calls.report()
        assert all(a is not None and a.status_code == 200 for a in answers), calls.report()
        bodies = [a.json() for a in answers if a is not None]
        changes = [b for b in bodies if not b["confirmed"]]
        whole = [
            {c: (f["available"], f["staffed"]) for c, f in expected(shift=s).items()}
            for s in range(SHIFTS)
        ]
        # Every answer, change or confirmation, shows the figures of the list it was sent.
        for k, body in enumerate(bodies):
            assert as_figures(body["facility"]["categories"]) == whole[shift_of(k)], (k, body)
        # Each change raised the version by exactly one; confirmations not at all.
        end = rows(engine, "SELECT version FROM facility WHERE id = :f", f=ERASMUS)[0].version
        assert end - start == len(changes), f"{len(bodies) - len(changes)} confirmations"
        assert sorted(b["version"] for b in changes) == list(range(start + 1, end + 1))
        # What is left is one whole list's figures: the list of the last change.
        record = sql_picture(engine, REGION)[ERASMUS]
        last = max(changes, key=lambda b: b["version"])
        assert record[1] == as_figures(last["facility"]["categories"])
        assert record[1] in whole
        assert not await settled(clients[0], admin_token, engine, valkey.url, REGION)
        # The websocket client, on the other process, sees the same figures and version.
        await follower.follow(
            ws, until_seq=rows(engine, "SELECT seq FROM region WHERE id = :r", r=REGION)[0].seq
        )
        seen = follower.facilities[ERASMUS]
        assert seen["version"] == end and as_figures(seen["categories"]) == record[1]
        await ws.close()
    finally:
        for http in clients:
            await http.aclose()
