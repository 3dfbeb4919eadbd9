"""The live stream over real websockets against a real server process and real Valkey."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
import websockets

from capacity.realtime import messages
from tests.realtime.support import (
    ERASMUS,
    IKAZIA,
    REGION,
    Picture,
    Server,
    connect,
    figures,
    put_figures,
    token,
)


async def test_snapshot_then_changes_in_order(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    async with await connect(server, midwife) as ws, httpx.AsyncClient(base_url=server.url) as http:
        first = orjson.loads(await ws.recv())
        assert first["type"] == "snapshot" and first["region"] == REGION
        picture = Picture()
        picture.apply(first)
        entry = await put_figures(http, admin, ERASMUS, 3)
        await put_figures(http, admin, IKAZIA, 0)
        await picture.follow(ws, first["seq"] + 2)
        assert picture.changes == [first["seq"] + 1, first["seq"] + 2]
        assert picture.facilities[ERASMUS] == entry
        assert picture.facilities[IKAZIA]["categories"]["delivery_room"]["status"] == "red"


async def test_idle_client_gets_pings(server: Server) -> None:
    async with await connect(server, await token(server, "midwife")) as ws:
        assert orjson.loads(await ws.recv())["type"] == "snapshot"
        async with asyncio.timeout(20):
            assert orjson.loads(await ws.recv()) == {"type": "ping"}


@pytest.mark.parametrize(
    ("bearer", "region", "code"),
    [
        ("not-a-token", REGION, messages.CLOSE_BAD_TOKEN),
        ("", REGION, messages.CLOSE_BAD_TOKEN),
        ("midwife", "atlantis", messages.CLOSE_UNKNOWN_REGION),
        ("analyst-noord", REGION, messages.CLOSE_FORBIDDEN),
    ],
)
async def test_refused_connections_close_with_their_code(
    server: Server, bearer: str, region: str, code: int
) -> None:
    if bearer in ("midwife", "analyst-noord"):
        bearer = await token(server, bearer)
    async with await connect(server, bearer, region=region) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_picture_matches_rest_after_changes(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    async with await connect(server, midwife) as ws, httpx.AsyncClient(base_url=server.url) as http:
        picture = Picture()
        picture.apply(orjson.loads(await ws.recv()))
        for i in range(5):
            await put_figures(http, admin, ERASMUS, i)
        rest = (await http.get(
            f"/api/v1/regions/{REGION}/capacity", headers={"Authorization": f"Bearer {midwife}"}
        )).json()
        await picture.follow(ws, rest["seq"])
        assert figures({"facilities": list(picture.facilities.values())}) == figures(rest)
