"""A revoked key or a deactivated account loses access at once, in every server process.

Each process keeps who-is-calling in memory (``capacity.auth.access``); these tests run two real
server processes on one database and one Redis, warm both caches, revoke through one process
and expect 401 from the other on the very next request. Live streams opened before are closed
with ``CLOSE_BAD_TOKEN`` (4401) within seconds, in every process, and at the token's expiry
(``capacity.realtime.sessions``); reactivating an account does not bring its old tokens back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
import websockets
from sqlalchemy import text

from capacity.auth.models import Role, User
from capacity.auth.service import create_token
from capacity.realtime import messages
from capacity.storage.redis import EmbeddedValkey
from tests import servers
from tests.conftest import ERASMUS, Databases
from tests.faults.support import sql

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
    # Reactivated, the account signs in afresh: the token issued before stays refused.
    for server in (on_a, on_b):
        old = await server.put(path, json=FIGURES, headers=staff)
        assert old.status_code == 401, old.text
    fresh = await bearer(on_b, f"staff-{ERASMUS}")
    assert (await on_a.put(path, json=FIGURES, headers=fresh)).status_code == 200


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


def ws_url(http: httpx.AsyncClient, headers: dict[str, str], region: str = "zuidwest") -> str:
    token = headers["Authorization"].split()[1]
    return str(http.base_url).replace("http", "ws", 1) + f"/ws/regions/{region}?token={token}"


async def open_stream(url: str) -> websockets.ClientConnection:
    """A live stream that is open and has sent its snapshot."""
    ws = await websockets.connect(url)
    first = await asyncio.wait_for(ws.recv(), 10)
    assert '"type":"snapshot"' in str(first), first
    return ws


async def close_code(ws: websockets.ClientConnection, within: float = 10) -> int | None:
    """Read until the server closes the stream (at most ``within`` s); its close code."""
    try:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return None  # still open after 10 s


async def is_open(ws: websockets.ClientConnection, http: httpx.AsyncClient, key: str) -> bool:
    """Whether the stream still delivers: a push made now reaches it."""
    pushed = await http.put(
        f"/api/v1/facilities/{ERASMUS}/capacity", json=FIGURES, headers={"X-API-Key": key}
    )
    assert pushed.status_code == 200, pushed.text
    try:
        async with asyncio.timeout(10):
            while True:
                if '"type":"facility"' in str(await ws.recv()):
                    return True
    except (websockets.ConnectionClosed, TimeoutError):
        return False


async def test_deactivation_closes_open_streams_in_every_process_for_good(http) -> None:  # type: ignore[no-untyped-def]
    on_a, on_b = http
    admin = await bearer(on_a, "admin")
    created = await on_a.post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
    key = created.json()["key"]
    midwife = await bearer(on_a, "midwife")
    other = await bearer(on_a, "analyst")
    on_b_stream = await open_stream(ws_url(on_b, midwife))
    on_a_stream = await open_stream(ws_url(on_a, midwife))
    bystander = await open_stream(ws_url(on_b, other))
    assert await is_open(on_b_stream, on_a, key)

    changed = await on_a.patch("/api/v1/users/midwife", json={"active": False}, headers=admin)
    assert changed.status_code == 200, changed.text

    # Closed within seconds with "sign in again", also in the process that did not revoke.
    assert await close_code(on_b_stream) == messages.CLOSE_BAD_TOKEN
    assert await close_code(on_a_stream) == messages.CLOSE_BAD_TOKEN
    assert await is_open(bystander, on_a, key)  # another account's stream goes on

    restored = await on_b.patch("/api/v1/users/midwife", json={"active": True}, headers=admin)
    assert restored.status_code == 200, restored.text
    # The token of before stays dead: no request, no reconnect.
    for server in (on_a, on_b):
        old = await server.get("/api/v1/regions/zuidwest/capacity", headers=midwife)
        assert old.status_code == 401, old.text
        async with websockets.connect(ws_url(server, midwife)) as again:
            assert await close_code(again) == messages.CLOSE_BAD_TOKEN
    fresh = await bearer(on_b, "midwife")
    for server in (on_a, on_b):
        read = await server.get("/api/v1/regions/zuidwest/capacity", headers=fresh)
        assert read.status_code == 200, read.text
    stream = await open_stream(ws_url(on_b, fresh))
    assert await is_open(stream, on_a, key)
    await stream.close()
    await bystander.close()


async def test_stream_is_closed_when_its_token_expires(http) -> None:  # type: ignore[no-untyped-def]
    on_a, on_b = http
    admin = await bearer(on_a, "admin")
    users = (await on_a.get("/api/v1/users", headers=admin)).json()
    account = next(u for u in users if u["username"] == "midwife")
    created = await on_a.post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
    key = created.json()["key"]
    # A token as the service issues it (same secret), with a lifetime of seconds rather than
    # the setting's minutes.
    user = User(
        id=account["id"],
        username="midwife",
        password_hash="-",
        role=Role.midwife,
        created_at=datetime.now(UTC),
    )
    token, _ = create_token(user=user, secret=SECRET, lifetime=timedelta(seconds=6))
    short = {"Authorization": f"Bearer {token}"}
    expires = time.time() + 6
    lasting = await bearer(on_a, "midwife")
    streams = [await open_stream(ws_url(server, short)) for server in (on_a, on_b)]
    steady = await open_stream(ws_url(on_b, lasting))
    assert await is_open(streams[1], on_a, key)

    for stream in streams:
        assert await close_code(stream) == messages.CLOSE_BAD_TOKEN
    assert time.time() >= expires - 1  # closed for the expiry, not for something else
    assert await is_open(steady, on_a, key)  # the same account's valid token streams on
    refused = await on_b.get("/api/v1/regions/zuidwest/capacity", headers=short)
    assert refused.status_code == 401
    await steady.close()


async def test_unannounced_deactivation_still_closes_the_stream(two_servers, http) -> None:  # type: ignore[no-untyped-def]
    """A deactivation that never reached Redis (written while Redis was away, or by a tool that
    does not announce) ends the stream anyway, once the process reads the accounts again."""
    on_a, on_b = http
    midwife = await bearer(on_a, "midwife")
    stream = await open_stream(ws_url(on_b, midwife))
    engine = sql(two_servers[0].env["CAPACITY_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE \"user\" SET active = false WHERE username = 'midwife'"))
    finally:
        engine.dispose()
    # Without an announcement the guard reads the accounts every MAX_AGE_SECONDS (10 s).
    assert await close_code(stream, within=30) == messages.CLOSE_BAD_TOKEN
