"""The live stream across two server processes, and through a Redis restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from capacity.storage.redis import EmbeddedValkey
from tests.conftest import Databases
from tests.realtime.support import (
    ERASMUS,
    IKAZIA,
    REGION,
    STARTUP,
    Picture,
    Server,
    connect,
    figures,
    put_figures,
    token,
)
from tests.servers import running


async def _rest_picture(server: Server, bearer: str) -> dict:  # type: ignore[type-arg]
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(
            f"/api/v1/regions/{REGION}/capacity", headers={"Authorization": f"Bearer {bearer}"}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


def _converged(picture: Picture, rest: dict) -> bool:  # type: ignore[type-arg]
    return figures({"facilities": list(picture.facilities.values())}) == figures(rest)


@pytest.fixture
def two_servers(
    databases: Databases, valkey: EmbeddedValkey, tmp_path: Path
) -> Iterator[tuple[Server, Server]]:
    url = databases.fresh()
    pair = [Server(database_url=url, redis_url=valkey.url, data_dir=tmp_path / n) for n in "ab"]
    # The second runs uvicorn's own websocket protocol: the live stream's ASGI fallback.
    pair[1].ws = "websockets-sansio"
    with running(pair, STARTUP) as (a, b):
        yield a, b


async def test_a_change_accepted_by_one_process_reaches_clients_of_the_other(
    two_servers: tuple[Server, Server],
) -> None:
    a, b = two_servers
    midwife, admin = await token(a, "midwife"), await token(a, "admin")
    sockets = [await connect(s, midwife) for s in (a, b, b, a)]
    try:
        pictures = [Picture() for _ in sockets]
        for ws, picture in zip(sockets, pictures, strict=True):
            picture.apply(orjson.loads(await ws.recv()))
        start = max(p.seq for p in pictures)
        async with (
            httpx.AsyncClient(base_url=a.url) as on_a,
            httpx.AsyncClient(base_url=b.url) as on_b,
        ):
            for i in range(20):
                await put_figures((on_a, on_b)[i % 2], admin, (ERASMUS, IKAZIA)[i % 2], i % 7)
        await asyncio.gather(
            *(p.follow(ws, start + 20) for ws, p in zip(sockets, pictures, strict=True))
        )
        rest = await _rest_picture(b, midwife)
        for picture in pictures:
            assert picture.changes[-20:] == list(range(start + 1, start + 21))
            assert _converged(picture, rest)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


async def test_clients_converge_after_redis_restarts_empty(
    databases: Databases, tmp_path: Path
) -> None:
    valkey = EmbeddedValkey(tmp_path / "valkey", appendonly=False).start()
    server = Server(
        database_url=databases.fresh(), redis_url=valkey.url, data_dir=tmp_path / "server"
    ).start(STARTUP)
    sockets = []
    try:
        midwife, admin = await token(server, "midwife"), await token(server, "admin")
        sockets = [await connect(server, midwife) for _ in range(5)]
        pictures = [Picture() for _ in sockets]
        for ws, picture in zip(sockets, pictures, strict=True):
            picture.apply(orjson.loads(await ws.recv()))
        readers = [
            asyncio.create_task(_follow_forever(ws, p))
            for ws, p in zip(sockets, pictures, strict=True)
        ]
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            for i in range(5):
                await put_figures(http, admin, ERASMUS, i)
            valkey.kill()
            valkey.start()  # same port and data dir, but nothing kept
            for _attempt in range(300):  # writes answer 503 until the picture is rebuilt
                response = await http.put(
                    f"/api/v1/facilities/{IKAZIA}/capacity",
                    json={"categories": {"delivery_room": {"available": 1, "staffed": 4}}},
                    headers={"Authorization": f"Bearer {admin}"},
                )
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            assert response.status_code == 200, response.text
            for i in range(5):
                await put_figures(http, admin, ERASMUS, 10 + i)
        rest = await _rest_picture(server, midwife)
        async with asyncio.timeout(60):
            while not all(p.seq >= rest["seq"] and _converged(p, rest) for p in pictures):
                assert not any(r.done() for r in readers), [r.exception() for r in readers]
                await asyncio.sleep(0.1)
        assert all(p.snapshots >= 2 for p in pictures)  # the reset brought a fresh snapshot
        for reader in readers:
            reader.cancel()
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
        server.stop()
        valkey.stop()


async def _follow_forever(ws, picture: Picture) -> None:  # type: ignore[no-untyped-def]
    while True:
        picture.apply(orjson.loads(await ws.recv()))
