"""A ward screen that stops reading must not cost the server memory or the other wards time."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
import redis.asyncio as aioredis
import websockets
from websockets.asyncio.client import ClientConnection

from capacity.realtime import messages
from capacity.storage import keys
from capacity.storage.redis import EmbeddedValkey
from tests.conftest import Databases
from tests.servers import Server
from tests.transfers.support import ERASMUS, FRANCISCUS, request

LIMIT = 64  # messages buffered per socket
FLOOD = 1500  # offer messages of ~4 KB: far more than the buffer and the kernel's socket buffers


@pytest.fixture(scope="module")
def server(
    databases: Databases, valkey: EmbeddedValkey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    redis.Redis.from_url(valkey.url).flushall()
    running = Server(
        database_url=databases.fresh(),
        redis_url=valkey.url,
        data_dir=tmp_path_factory.mktemp("server"),
        frontend_dir=str(tmp_path_factory.mktemp("no-frontend")),
        ws_queue_limit=str(LIMIT),
    ).start()
    yield running
    running.stop()


async def _token(http: httpx.AsyncClient, username: str) -> str:
    r = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def _connect(server: Server, bearer: str, **kwargs: Any) -> ClientConnection:
    url = f"{server.ws_url}/ws/offers?token={bearer}"
    return await websockets.connect(url, compression=None, open_timeout=20, **kwargs)


async def _message(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(30):
        return dict(orjson.loads(await ws.recv()))


async def _flood(redis_url: str, ward: str, request_id: int) -> None:
    """Offer changes of the ward as ``capacity.transfers.live`` publishes them, numbered."""
    client = aioredis.Redis.from_url(redis_url)
    pad = "x" * 4000  # clients ignore fields they do not know
    try:
        for start in range(0, FLOOD, 50):
            pipe = client.pipeline(transaction=False)
            for n in range(start, min(start + 50, FLOOD)):
                offer = {"id": n, "request_id": request_id, "status": "pending"}
                message = {"type": "offer", "offer": offer, "pad": pad}
                pipe.publish(keys.transfer_facility_channel(ward), orjson.dumps(message))
            await pipe.execute()
    finally:
        await client.aclose()


async def _offers(ws: ClientConnection, count: int) -> list[int]:
    seen: list[int] = []
    while len(seen) < count:
        message = await _message(ws)
        if message["type"] == "offer" and "pad" in message:
            seen.append(message["offer"]["id"])
    return seen


async def test_a_ward_screen_that_stops_reading_is_closed_and_the_others_get_everything(
    server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        midwife, staff = await _token(http, "midwife"), await _token(http, f"staff-{ERASMUS}")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the kernel buffers little
        sock.connect(("127.0.0.1", server.port))
        slow = await _connect(server, staff, sock=sock, max_queue=1)
        fast = [await _connect(server, staff) for _ in range(3)]
        try:
            for ws in (slow, *fast):
                assert (await _message(ws))["type"] == "snapshot"
            body = request(facilities=[ERASMUS, FRANCISCUS])
            auth = {"Authorization": f"Bearer {midwife}"}
            made = (await http.post("/api/v1/transfers", json=body, headers=auth)).json()
            for ws in (slow, *fast):
                assert (await _message(ws))["offer"]["request_id"] == made["id"]
            # The slow screen reads nothing more; the flood goes to all four.
            readers = [asyncio.create_task(_offers(ws, FLOOD)) for ws in fast]
            await _flood(server.env["CAPACITY_REDIS_URL"], ERASMUS, made["id"])
            for seen in await asyncio.gather(*readers):
                assert seen == list(range(FLOOD))
            # The slow screen then reads what was on the wire, and the close frame.
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(60):
                    while True:
                        await slow.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == messages.CLOSE_TOO_SLOW
            # Reconnecting, it starts again from the ward's pending offers.
            async with await _connect(server, staff) as again:
                snapshot = await _message(again)
                assert [o["request_id"] for o in snapshot["offers"]] == [made["id"]]
        finally:
            await asyncio.gather(slow.close(), *(ws.close() for ws in fast))


async def test_many_ward_screens_share_one_subscription_and_all_see_the_offer(
    server: Server,
) -> None:
    """Each screen used to hold a Redis connection of the server's pool (100 at most): past a
    hundred screens every Redis call of the process failed, the offers' publishing too."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        midwife, staff = await _token(http, "midwife"), await _token(http, f"staff-{ERASMUS}")
        screens = await asyncio.gather(*(_connect(server, staff) for _ in range(120)))
        try:
            for ws in screens:
                assert (await _message(ws))["type"] == "snapshot"
            body = request(facilities=[ERASMUS])
            auth = {"Authorization": f"Bearer {midwife}"}
            made = (await http.post("/api/v1/transfers", json=body, headers=auth)).json()
            for ws in screens:
                while (message := await _message(ws))["type"] != "offer":
                    pass
                assert message["offer"]["request_id"] == made["id"]
        finally:
            await asyncio.gather(*(ws.close() for ws in screens))


async def test_ward_screens_start_again_after_redis_restarts(
    databases: Databases, tmp_path: Path
) -> None:
    """The process's one subscription breaks with Redis: every screen is closed with 1013, and
    screens that reconnect get a fresh snapshot and the offers sent after."""
    valkey = EmbeddedValkey(tmp_path / "valkey", appendonly=False).start()
    server = Server(
        database_url=databases.fresh(),
        redis_url=valkey.url,
        data_dir=tmp_path / "server",
        frontend_dir=str(tmp_path / "no-frontend"),
    ).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            midwife, staff = await _token(http, "midwife"), await _token(http, f"staff-{ERASMUS}")
            screens = [await _connect(server, staff) for _ in range(3)]
            for ws in screens:
                assert (await _message(ws))["type"] == "snapshot"
            valkey.kill()
            for ws in screens:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await _message(ws)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == messages.CLOSE_UNAVAILABLE
            valkey.start()  # same port, nothing kept
            async with await _connect(server, staff) as again:
                assert (await _message(again))["type"] == "snapshot"
                auth = {"Authorization": f"Bearer {midwife}"}
                made = await http.post(
                    "/api/v1/transfers", json=request(facilities=[ERASMUS]), headers=auth
                )
                assert made.status_code == 201, made.text
                offered = await _message(again)
                assert offered["offer"]["request_id"] == made.json()["id"]
    finally:
        server.stop()
        valkey.stop()
