"""The live stream of offers and requests (``/ws/offers``) against a real server process."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.servers import Server
from tests.transfers.support import ERASMUS, FRANCISCUS, request


async def _token(http: httpx.AsyncClient, username: str) -> str:
    r = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def _next(ws: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            message = orjson.loads(await ws.recv())
            if message["type"] == kind:
                return dict(message)


async def _closed_with(server: Server, token: str) -> int | None:
    async with websockets.connect(f"{server.ws_url}/ws/offers?token={token}") as ws:
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(10):
                await ws.recv()
        return ws.close_code


async def test_ward_and_midwife_see_the_request_and_its_answer_live(api_server: Server) -> None:
    async with httpx.AsyncClient(base_url=api_server.url) as http:
        midwife, staff = await _token(http, "midwife"), await _token(http, f"staff-{ERASMUS}")
        assert await _closed_with(api_server, "nonsense") == 4401
        assert await _closed_with(api_server, await _token(http, "analyst")) == 4403
        base = f"{api_server.ws_url}/ws/offers?token="
        async with (
            websockets.connect(base + staff) as ward,
            websockets.connect(base + midwife) as asker,
        ):
            assert (await _next(ward, "snapshot"))["offers"] == []
            assert (await _next(asker, "snapshot"))["requests"] == []
            body = request(facilities=[ERASMUS, FRANCISCUS])
            auth = {"Authorization": f"Bearer {midwife}"}
            made = (await http.post("/api/v1/transfers", json=body, headers=auth)).json()
            offered = (await _next(ward, "offer"))["offer"]
            assert (offered["request_id"], offered["status"]) == (made["id"], "pending")
            assert (await _next(asker, "transfer"))["request"]["status"] == "open"
            r = await http.post(
                f"/api/v1/offers/{offered['id']}/accept",
                headers={"Authorization": f"Bearer {staff}"},
            )
            assert r.status_code == 200, r.text
            assert (await _next(ward, "offer"))["offer"]["status"] == "accepted"
            placed = (await _next(asker, "transfer"))["request"]
            assert (placed["status"], placed["placed_facility_id"]) == ("placed", ERASMUS)
