"""Admins moving and deactivating a facility while its ward pushes figures and other admins edit
it, against a real server with a live client in each region.

Promise: no 5xx; concurrent PATCHes of one facility lose none of each other's fields; the facility
is never in two regions' pictures or in none while active (no half move), its figures travel
with it, and every live client ends with exactly what SQL and the REST picture hold.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection

from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, token
from tests.faults.support import rows
from tests.realtime.support import Picture, connect

IKAZIA = "ikazia-ziekenhuis-rotterdam"  # starts in zuidwest
REGIONS = ("zuidwest", "west")
ROUNDS = 6


async def listen(ws: ClientConnection, picture: Picture) -> None:
    while True:
        picture.apply(orjson.loads(await ws.recv()))


async def test_moves_deactivations_edits_and_pushes_at_once(launch: Launch, engine: Engine) -> None:
    (server,) = launch()
    calls = Calls()
    async with httpx.AsyncClient(
        base_url=server.url, limits=httpx.Limits(max_connections=100)
    ) as http:
        admin = bearer(await token(http, "admin"))
        staff = bearer(await token(http, f"staff-{IKAZIA}"))
        midwife = await token(http, "midwife")
        pictures = {region: Picture() for region in REGIONS}
        sockets = [await connect(server, midwife, region) for region in REGIONS]
        readers = [
            asyncio.create_task(listen(ws, pictures[r]))
            for ws, r in zip(sockets, REGIONS, strict=True)
        ]
        pushed: list[int] = []

        async def push(n: int) -> None:
            body = {"categories": {"delivery_room": {"available": n % 5, "staffed": 5}}}
            path = f"/api/v1/facilities/{IKAZIA}/capacity"
            answer = await calls.send(http, "PUT", path, json=body, headers=staff)
            if answer is not None:
                assert answer.status_code in (200, 409), answer.text  # 409: deactivated
                if answer.status_code == 200:
                    pushed.append(answer.json()["version"])

        async def patch(body: dict[str, Any]) -> httpx.Response | None:
            path = f"/api/v1/facilities/{IKAZIA}"
            return await calls.send(http, "PATCH", path, json=body, headers=admin)

        for round_ in range(ROUNDS):
            target = REGIONS[(round_ + 1) % 2]
            phone = f"010 {round_:03d} 0000"
            answers = await asyncio.gather(
                patch({"region": target}),
                patch({"phone": phone}),
                patch({"active": round_ % 2 == 0}),
                patch({"name": f"Ikazia ronde {round_}"}),
                *(push(round_ * 10 + i) for i in range(8)),
            )
            assert not calls.failures, calls.report()
            assert all(a is not None and a.status_code == 200 for a in answers[:4]), [
                a.text for a in answers[:4] if a is not None
            ]
            ((region, active, name, facility_phone),) = rows(
                engine, "SELECT region, active, name, phone FROM facility WHERE id = :f", f=IKAZIA
            )
            # no PATCH lost another's field
            assert (region, bool(active), name, facility_phone) == (
                target,
                round_ % 2 == 0,
                f"Ikazia ronde {round_}",
                phone,
            )
            await assert_one_home(http, admin, pictures, region if active else None)
        for task in readers:
            task.cancel()
        for ws in sockets:
            await ws.close()
    assert pushed, "some pushes were accepted"


async def assert_one_home(
    http: httpx.AsyncClient, admin: dict[str, str], pictures: dict[str, Picture], home: str | None
) -> None:
    """The facility is in ``home``'s picture only (REST and live), with its current figures."""
    expected = None
    for region in REGIONS:
        rest = (await http.get(f"/api/v1/regions/{region}/capacity", headers=admin)).json()
        entries = {f["facility_id"]: f for f in rest["facilities"]}
        assert (IKAZIA in entries) == (region == home), (region, home)
        if region == home:
            expected = entries[IKAZIA]
        # the live client catches up with the REST picture, and holds the same
        async with asyncio.timeout(20):
            while pictures[region].seq < rest["seq"]:  # noqa: ASYNC110 - read by another task
                await asyncio.sleep(0.05)
        live = pictures[region].facilities
        assert (IKAZIA in live) == (region == home), (region, home, pictures[region].seq)
        if region == home:
            assert live[IKAZIA]["version"] == expected["version"]
            assert live[IKAZIA]["categories"] == expected["categories"]
