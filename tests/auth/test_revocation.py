"""A revoked key or a deactivated account loses access at once, in every server process.

Each process keeps who-is-calling in memory (``capacity.auth.access``); these tests run two real
server processes on one database and one Redis, warm both caches, revoke through one process
and expect 401 from the other on the very next request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
import websockets

from capacity.realtime import messages
from capacity.storage.redis import EmbeddedValkey
from tests import servers
from tests.conftest import ERASMUS, Databases

SECRET = "test-secret-key-for-revocation-0123456789abcdef"
FIGURES = {"categories": {"delivery_room": {"available": 1, "staffed": 4}}}


@pytest.fixture
def two_servers(
    databases: Databases, valkey: EmbeddedValkey, tmp_path: Path
) -> Iterator[tuple[servers.Server, servers.Server]]:
    redis.Redis.from_url(valkey.url).flushall()
    url = databases.fresh()
    pair = [
        servers.Server(
            database_url=url,
            redis_url=valkey.url,
            data_dir=tmp_path / name,
            secret_key=SECRET,
            frontend_dir=str(tmp_path / "no-frontend"),
        )
        for name in "ab"
    ]
    with servers.running(pair) as (a, b):
        yield a, b


@pytest.fixture
async def http(
    two_servers: tuple[servers.Server, servers.Server],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    a, b = two_servers
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as on_b,
    ):
        yield on_a, on_b


async def bearer(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/auth/token", data={"username": username, "password": "demo"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def version(http: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await http.get("/api/v1/regions/zuidwest/capacity", headers=headers)
    assert response.status_code == 200, response.text
    return next(f["version"] for f in response.json()["facilities"] if f["facility_id"] == ERASMUS)


async def test_revoked_key_gets_401_on_the_next_request_in_every_process(http) -> None:  # type: ignore[no-untyped-def]
    on_a, on_b = http
    admin = await bearer(on_a, "admin")
    created = await on_a.post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}
    path = f"/api/v1/facilities/{ERASMUS}/capacity"
    for server in (on_a, on_b, on_b):  # both processes now know the key
        assert (await server.put(path, json=FIGURES, headers=key)).status_code == 200
    before = await version(on_a, admin)

    revoked = await on_a.delete(f"/api/v1/keys/{created.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None

    for server in (on_b, on_a):
        refused = await server.put(path, json=FIGURES, headers=key)
        assert refused.status_code == 401, refused.text
        assert "revoked" in refused.json()["detail"]
    assert await version(on_b, admin) == before  # the refused pushes changed nothing


async def test_deactivated_user_gets_401_on_the_next_request_in_every_process(http) -> None:  # type: ignore[no-untyped-def]
    on_a, on_b = http
    admin = await bearer(on_a, "admin")
    staff = await bearer(on_a, f"staff-{ERASMUS}")
    path = f"/api/v1/facilities/{ERASMUS}/capacity"
    assert (await on_b.put(path, json=FIGURES, headers=staff)).status_code == 200
    assert (await on_a.get("/api/v1/regions/zuidwest/capacity", headers=staff)).status_code == 200

    changed = await on_a.patch(
        f"/api/v1/users/staff-{ERASMUS}", json={"active": False}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["active"] is False

    refused = await on_b.put(path, json=FIGURES, headers=staff)
    assert refused.status_code == 401, refused.text
    assert "deactivated" in refused.json()["detail"]
    read = await on_a.get("/api/v1/regions/zuidwest/capacity", headers=staff)
    assert read.status_code == 401
    # The live stream refuses the same token: the socket is closed with the bad-token code.
    token = staff["Authorization"].split()[1]
    ws_url = str(on_b.base_url).replace("http", "ws", 1) + f"/ws/regions/zuidwest?token={token}"
    async with websockets.connect(ws_url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == messages.CLOSE_BAD_TOKEN
    again = await on_b.post(
        "/api/v1/auth/token", data={"username": f"staff-{ERASMUS}", "password": "demo"}
    )
    assert again.status_code == 401

    restored = await on_b.patch(
        f"/api/v1/users/staff-{ERASMUS}", json={"active": True}, headers=admin
    )
    assert restored.status_code == 200
    assert (await on_a.put(path, json=FIGURES, headers=staff)).status_code == 200


async def test_deactivating_an_unknown_user_is_404_and_bad_body_422(http) -> None:  # type: ignore[no-untyped-def]
    on_a, _ = http
    admin = await bearer(on_a, "admin")
    missing = await on_a.patch("/api/v1/users/nobody-here", json={"active": False}, headers=admin)
    assert missing.status_code == 404
    bad = await on_a.patch(f"/api/v1/users/staff-{ERASMUS}", json={"active": "x"}, headers=admin)
    assert bad.status_code == 422 and "active" in bad.text
    staff = await bearer(on_a, f"staff-{ERASMUS}")
    forbidden = await on_a.patch(
        f"/api/v1/users/staff-{ERASMUS}", json={"active": False}, headers=staff
    )
    assert forbidden.status_code == 403
