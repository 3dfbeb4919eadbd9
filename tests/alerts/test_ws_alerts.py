"""``/ws/alerts``: a user's in-app alerts reach her open app live, and nobody else's, against a
real server process (the watcher, the delivery job and the stream all in it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
import websockets
from websockets.asyncio.client import ClientConnection

from capacity.storage.redis import EmbeddedValkey
from tests import servers
from tests.alerts.support import ERASMUS, IKAZIA
from tests.conftest import Databases

NEW_PASSWORD = "another-long-password-2026"


@pytest.fixture
def alert_server(
    databases: Databases, valkey: EmbeddedValkey, tmp_path: Path
) -> Iterator[servers.Server]:
    """A server whose delivery job drains the outbox every 0.2 s."""
    redis.Redis.from_url(valkey.url).flushall()
    made = servers.Server(
        database_url=databases.fresh(),
        redis_url=valkey.url,
        data_dir=tmp_path / "server",
        frontend_dir=str(tmp_path / "no-frontend"),
        alert_drain_seconds="0.2",
    )
    with servers.running([made]) as (running,):
        yield running


async def _auth(http: httpx.AsyncClient, username: str) -> tuple[str, dict[str, str]]:
    r = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    assert r.status_code == 200, r.text
    token = str(r.json()["access_token"])
    return token, {"Authorization": f"Bearer {token}"}


async def _next(ws: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(15):
        while True:
            message = orjson.loads(await ws.recv())
            if message["type"] == kind:
                return dict(message)


async def _subscribe_to_stop(http: httpx.AsyncClient, auth: dict[str, str], facility: str) -> None:
    body = {"rule": "facility_stop", "facility_id": facility}
    r = await http.post("/api/v1/alerts/subscriptions", json=body, headers=auth)
    assert r.status_code == 201, r.text


async def _stop(http: httpx.AsyncClient, auth: dict[str, str], facility: str) -> None:
    r = await http.put(f"/api/v1/facilities/{facility}/stop", json={"reason": "beds"}, headers=auth)
    assert r.status_code == 200, r.text


async def test_a_stop_reaches_the_subscribers_socket_and_no_one_elses(
    alert_server: servers.Server,
) -> None:
    async with httpx.AsyncClient(base_url=alert_server.url) as http:
        midwife, midwife_auth = await _auth(http, "midwife")
        staff, staff_auth = await _auth(http, f"staff-{ERASMUS}")
        _, admin_auth = await _auth(http, "admin")
        await _subscribe_to_stop(http, midwife_auth, ERASMUS)
        await _subscribe_to_stop(http, staff_auth, IKAZIA)
        base = f"{alert_server.ws_url}/ws/alerts?token="
        async with (
            websockets.connect(base + midwife) as mine,
            websockets.connect(base + staff) as hers,
        ):
            first = await _next(mine, "snapshot")
            assert (first["unread"], first["alerts"]) == (0, [])
            assert (await _next(hers, "snapshot"))["unread"] == 0
            await asyncio.sleep(1.2)  # the watcher has loaded the new subscriptions

            await _stop(http, staff_auth, ERASMUS)
            alert = (await _next(mine, "alert"))["alert"]
            assert (alert["rule"], alert["payload"]["facility_id"]) == ("facility_stop", ERASMUS)
            assert "Erasmus" in alert["payload"]["text"]["nl"] and alert["read_at"] is None
            listed = (await http.get("/api/v1/alerts", headers=midwife_auth)).json()
            assert [a["id"] for a in listed] == [alert["id"]]

            # Her colleague's socket got nothing of that: the first alert it gets is her own.
            await _stop(http, admin_auth, IKAZIA)
            theirs = (await _next(hers, "alert"))["alert"]
            assert theirs["payload"]["facility_id"] == IKAZIA

        # A new socket starts from the inbox: one unread, the alert in it.
        async with websockets.connect(base + midwife) as again:
            snapshot = await _next(again, "snapshot")
            assert snapshot["unread"] == 1
            assert [a["id"] for a in snapshot["alerts"]] == [alert["id"]]


async def _closed(ws: ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(15):
            while True:
                await ws.recv()
    return ws.close_code


async def test_an_open_alert_stream_ends_when_its_token_is_revoked(
    alert_server: servers.Server,
) -> None:
    async with httpx.AsyncClient(base_url=alert_server.url) as http:
        for bad in ("nonsense", ""):
            async with websockets.connect(f"{alert_server.ws_url}/ws/alerts?token={bad}") as ws:
                assert await _closed(ws) == 4401
        token, auth = await _auth(http, "midwife")
        async with websockets.connect(f"{alert_server.ws_url}/ws/alerts?token={token}") as ws:
            await _next(ws, "snapshot")
            body = {"current_password": "demo", "new_password": NEW_PASSWORD}
            r = await http.post("/api/v1/auth/password", json=body, headers=auth)
            assert r.status_code == 200, r.text
            assert await _closed(ws) == 4401


async def test_every_open_app_shares_one_subscription_and_all_get_the_alert(
    alert_server: servers.Server,
) -> None:
    """Every signed-in app opens /ws/alerts (the bell). A socket that held a Redis connection of
    its own took the server's pool (100): past a hundred open apps every Redis call of the
    process failed, writes and the alerts' own delivery too."""
    async with httpx.AsyncClient(base_url=alert_server.url) as http:
        midwife, midwife_auth = await _auth(http, "midwife")
        _, staff_auth = await _auth(http, f"staff-{ERASMUS}")
        await _subscribe_to_stop(http, midwife_auth, ERASMUS)
        url = f"{alert_server.ws_url}/ws/alerts?token={midwife}"
        apps = await asyncio.gather(*(websockets.connect(url) for _ in range(120)))
        try:
            for ws in apps:
                assert (await _next(ws, "snapshot"))["unread"] == 0
            await asyncio.sleep(1.2)  # the watcher has loaded the new subscription
            await _stop(http, staff_auth, ERASMUS)  # a write that needs Redis, as every one does
            ids = {(await _next(ws, "alert"))["alert"]["id"] for ws in apps}
            assert len(ids) == 1  # the one alert, on every open app
        finally:
            await asyncio.gather(*(ws.close() for ws in apps))
