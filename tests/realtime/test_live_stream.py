"""The live stream over real websockets against a real server process and real Valkey."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from capacity.availability import jobs
from capacity.availability.store import CapacityStore
from capacity.realtime import messages
from capacity.settings import Settings
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.redis import create_client
from tests.realtime.support import (
    ERASMUS,
    IKAZIA,
    NOORD,
    REGION,
    UMCG,
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
        rest = (
            await http.get(
                f"/api/v1/regions/{REGION}/capacity", headers={"Authorization": f"Bearer {midwife}"}
            )
        ).json()
        await picture.follow(ws, rest["seq"])
        assert figures({"facilities": list(picture.facilities.values())}) == figures(rest)


async def _drive(server: Server, admin: str, changes: int, lanes: int = 4) -> None:
    """``changes`` accepted PUTs, ``lanes`` at a time, alternating over two facilities."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

        async def lane(n: int) -> None:
            for i in range(n, changes, lanes):
                await put_figures(http, admin, (ERASMUS, IKAZIA)[i % 2], i % 10)

        await asyncio.gather(*(lane(n) for n in range(lanes)))


async def test_fifty_clients_get_two_hundred_changes_complete_and_in_order(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    sockets = await asyncio.gather(*(connect(server, midwife) for _ in range(50)))
    try:
        pictures = [Picture() for _ in sockets]
        for ws, picture in zip(sockets, pictures, strict=True):
            picture.apply(orjson.loads(await ws.recv()))
        start = pictures[0].seq
        assert {p.seq for p in pictures} == {start}
        readers = [
            asyncio.create_task(p.follow(ws, start + 200, wait=60))
            for ws, p in zip(sockets, pictures, strict=True)
        ]
        await _drive(server, admin, 200)
        await asyncio.gather(*readers)
        for picture in pictures:
            assert picture.changes == list(range(start + 1, start + 201))
            assert picture.snapshots == 1
        assert all(p.facilities == pictures[0].facilities for p in pictures)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


async def test_resume_with_since_replays_the_missed_changes(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    async with await connect(server, midwife) as ws:
        seen = orjson.loads(await ws.recv())["seq"]
    await _drive(server, admin, 3, lanes=1)
    async with await connect(server, midwife, since=seen) as ws:
        replayed = [orjson.loads(await ws.recv()) for _ in range(3)]
        assert [m["type"] for m in replayed] == ["facility"] * 3
        assert [m["seq"] for m in replayed] == [seen + 1, seen + 2, seen + 3]
        await _drive(server, admin, 1, lanes=1)
        live = orjson.loads(await ws.recv())
        assert (live["type"], live["seq"]) == ("facility", seen + 4)


async def test_resume_after_a_gap_longer_than_the_replay_window_sends_a_snapshot(
    server: Server,
) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    async with await connect(server, midwife) as ws:
        seen = orjson.loads(await ws.recv())["seq"]
    # The server keeps ~10 entries; Redis trims whole stream nodes (100 entries), so go past that.
    await _drive(server, admin, 250)
    async with await connect(server, midwife, since=seen) as ws:
        first = orjson.loads(await ws.recv())
        assert first["type"] == "snapshot" and first["seq"] >= seen + 250


async def test_resume_when_nothing_was_missed_sends_nothing_but_pings(server: Server) -> None:
    midwife = await token(server, "midwife")
    async with await connect(server, midwife) as ws:
        seen = orjson.loads(await ws.recv())["seq"]
    async with await connect(server, midwife, since=seen) as ws:
        assert orjson.loads(await ws.recv()) == {"type": "ping"}


async def _flood(redis_url: str, region: str, facility: str, changes: int) -> int:
    """Append ``changes`` large entries to the region's stream the way the write path does.

    Straight into Redis (the hub's upstream), because the kernel buffers a stalled socket by
    megabytes; SQL is behind afterwards and the next write there rebuilds the region.
    """
    client = create_client(redis_url)
    try:
        store = CapacityStore(client, replay=changes)  # keep them all: no client may miss one
        raw = await client.hget(keys.region_state(region), facility)
        assert raw is not None
        first = await store.current_seq(region)
        assert first is not None
        pad = "x" * 4000  # clients ignore fields they do not know
        for start in range(first + 1, first + changes + 1, 100):
            batch = []
            for seq in range(start, min(start + 100, first + changes + 1)):
                entry = {"facility_id": facility, "version": seq, "stop": None, "categories": {}}
                message = {"type": "facility", "region": region, "seq": seq, "facility": entry}
                batch.append((region, seq, facility, raw, orjson.dumps({**message, "pad": pad})))
            assert all(a.applied for a in await store.apply_many(batch))
        return first + changes
    finally:
        await client.aclose()


async def test_a_client_that_stops_reading_is_closed_and_the_others_get_everything(
    server: Server,
) -> None:
    midwife = await token(server, "midwife")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the kernel buffers little
    sock.connect(("127.0.0.1", server.port))
    slow = await connect(server, midwife, region=NOORD, sock=sock, max_queue=1)
    fast = [await connect(server, midwife, region=NOORD) for _ in range(3)]
    try:
        start = orjson.loads(await slow.recv())["seq"]
        pictures = [Picture() for _ in fast]
        for ws, picture in zip(fast, pictures, strict=True):
            picture.apply(orjson.loads(await ws.recv()))
        readers = [
            asyncio.create_task(p.follow(ws, start + 3000, wait=60))
            for ws, p in zip(fast, pictures, strict=True)
        ]
        end = await _flood(server.env["CAPACITY_REDIS_URL"], NOORD, UMCG, 3000)
        assert end == start + 3000
        await asyncio.gather(*readers)
        for picture in pictures:
            assert picture.changes == list(range(start + 1, end + 1))
        # The slow client now reads what was on the wire, then the close frame.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(60):
                while True:
                    await slow.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == messages.CLOSE_TOO_SLOW
    finally:
        await asyncio.gather(slow.close(), *(ws.close() for ws in fast))


async def test_a_figure_turning_stale_arrives_as_a_message(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    env = server.env
    settings = Settings(
        database_url=env["CAPACITY_DATABASE_URL"],
        redis_url=env["CAPACITY_REDIS_URL"],
        data_dir=Path(env["CAPACITY_DATA_DIR"]),
        auto_setup=False,
    )
    db, client = Database(settings.resolved_database_url), create_client(env["CAPACITY_REDIS_URL"])
    try:
        async with (
            await connect(server, midwife) as ws,
            httpx.AsyncClient(base_url=server.url) as http,
        ):
            picture = Picture()
            picture.apply(orjson.loads(await ws.recv()))
            await put_figures(http, admin, IKAZIA, 5)
            await picture.follow(ws, picture.seq + 1)
            assert picture.facilities[IKAZIA]["categories"]["delivery_room"]["status"] == "green"
            later = datetime.now(UTC) + timedelta(days=2)
            result = await jobs.expire_due(
                db=db, store=CapacityStore(client, replay=10), settings=settings, now=later
            )
            assert IKAZIA in result.stale
            await picture.follow(ws, picture.seq + len(result.stale))
            figure = picture.facilities[IKAZIA]["categories"]["delivery_room"]
            assert figure["stale"] is True and figure["status"] == "unknown"
            # Facilities without a fresh figure are kept for reminders.
            assert IKAZIA in result.overdue[REGION]
            assert await client.sismember(keys.overdue_reporters(REGION), IKAZIA)
    finally:
        await client.aclose()
        await db.dispose()


async def test_a_connect_storm_gets_a_snapshot_each_and_then_every_change(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    sockets = await asyncio.gather(*(connect(server, midwife) for _ in range(300)))
    try:
        firsts = [orjson.loads(await ws.recv()) for ws in sockets]
        assert {m["type"] for m in firsts} == {"snapshot"}  # nobody turned away (1013)
        assert len({m["seq"] for m in firsts}) == 1
        async with httpx.AsyncClient(base_url=server.url) as http:
            before = datetime.now(UTC)
            entry = await put_figures(http, admin, ERASMUS, 7)
            after = datetime.now(UTC)
        for ws in sockets:
            async with asyncio.timeout(30):
                message = orjson.loads(await ws.recv())
                while message["type"] == "ping":
                    message = orjson.loads(await ws.recv())
            assert message["type"] == "facility" and message["seq"] == firsts[0]["seq"] + 1
            assert message["facility"] == entry
            # It says when it was accepted: fan-out lag is measured from there.
            assert before <= datetime.fromisoformat(message["at"]) <= after
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


async def test_metrics_show_clients_and_the_fan_out_lag_of_a_change(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    async with await connect(server, midwife) as ws, httpx.AsyncClient(base_url=server.url) as http:
        picture = Picture()
        picture.apply(orjson.loads(await ws.recv()))
        before = _metric(await http.get("/metrics"), "capacity_fanout_lag_seconds_count")
        await put_figures(http, admin, ERASMUS, 2)
        await picture.follow(ws, picture.seq + 1)
        scraped = await http.get("/metrics")
        assert _metric(scraped, "capacity_ws_clients") >= 1
        assert _metric(scraped, "capacity_fanout_lag_seconds_count") == before + 1


def _metric(response: httpx.Response, name: str) -> float:
    assert response.status_code == 200, response.text
    for line in response.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")
