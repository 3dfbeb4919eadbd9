"""Redis killed (SIGKILL) and restarted while writers PUT figures and clients listen.

Promises: every figure the service answered 2xx is in SQL and, after recovery, in the live
picture; during the outage a write either succeeds durably or gets 503, never 2xx-then-lost;
every client converges to the same picture within 5 s of Redis being back. Once with Redis
restarted from its append-only file, once restarted empty.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from capacity.storage.redis import EmbeddedValkey
from tests.conftest import Databases
from tests.faults.support import (
    ERASMUS,
    IKAZIA,
    MAASSTAD,
    REGION,
    Answers,
    Server,
    rows,
    sql,
    token,
    write_until,
)
from tests.realtime.support import Picture, connect, figures

WRITERS = (ERASMUS, IKAZIA, MAASSTAD)  # one writer per facility, so its last 2xx is the truth
CLIENTS = 4
CONVERGE_SECONDS = 5.0


@pytest.fixture(scope="module")
def redis_and_server(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EmbeddedValkey, Server]]:
    root = tmp_path_factory.mktemp("redis-crash")
    valkey = EmbeddedValkey(root / "valkey", appendonly=True).start()
    server = Server(
        database_url=databases.fresh(), redis_url=valkey.url, data_dir=root / "server"
    ).start()
    yield valkey, server
    server.stop()
    valkey.stop()


async def _listen(ws: Any, picture: Picture) -> None:
    while True:
        picture.apply(orjson.loads(await ws.recv()))


async def _rest(server: Server, bearer: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.get(
            f"/api/v1/regions/{REGION}/capacity", headers={"Authorization": f"Bearer {bearer}"}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


async def _crash_and_restart(
    valkey: EmbeddedValkey, server: Server, *, empty: bool
) -> tuple[list[Answers], float]:
    """Write and listen across the crash; returns the answers and seconds to convergence."""
    midwife, admin = (
        await asyncio.to_thread(token, server, "midwife"),
        await asyncio.to_thread(token, server, "admin"),
    )
    sockets = [await connect(server, midwife) for _ in range(CLIENTS)]
    pictures = [Picture() for _ in sockets]
    listeners = [
        asyncio.create_task(_listen(ws, p)) for ws, p in zip(sockets, pictures, strict=True)
    ]
    stop = asyncio.Event()
    answers = [Answers(f) for f in WRITERS]
    writers = [asyncio.create_task(write_until(server, admin, a, stop)) for a in answers]
    try:
        await asyncio.sleep(1.5)
        valkey.kill()
        await asyncio.sleep(1.5)  # the outage: writers keep trying
        if empty:
            shutil.rmtree(valkey.data_dir / "appendonlydir", ignore_errors=True)
            valkey.appendonly = False
        valkey.start()  # not from a worker thread: Valkey dies with the thread that started it
        back = time.monotonic()
        await asyncio.sleep(1.5)  # writers go on after Redis is back
        stop.set()
        await asyncio.gather(*writers)
        rest = await _rest(server, midwife)
        while True:
            rest = await _rest(server, midwife)
            if all(p.seq >= rest["seq"] and _same(p, rest) for p in pictures):
                break
            assert not any(t.done() for t in listeners), [t.exception() for t in listeners]
            assert time.monotonic() - back < 60, "clients never converged"
            await asyncio.sleep(0.05)
        return answers, time.monotonic() - back
    finally:
        stop.set()
        for task in listeners:
            task.cancel()
        await asyncio.gather(*writers, *listeners, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in sockets))


def _same(picture: Picture, rest: dict[str, Any]) -> bool:
    return figures({"facilities": list(picture.facilities.values())}) == figures(rest)


def _check(server: Server, answers: list[Answers], converged_after: float) -> None:
    engine = sql(server.env["CAPACITY_DATABASE_URL"])
    rest = asyncio.run(_rest(server, token(server, "midwife")))
    live = {f["facility_id"]: f for f in rest["facilities"]}
    for a in answers:
        assert a.errors == [], a.errors  # every request got an answer
        assert set(a.refused) <= {503}, a.refused  # refused only as unavailable
        assert a.accepted, f"{a.facility}: nothing accepted"
        # every 2xx is a change in SQL: same facility version, same figure
        history = dict(
            rows(
                engine,
                "SELECT version, available FROM capacity_change "
                "WHERE facility_id = :f AND category = 'delivery_room'",
                f=a.facility,
            )
        )
        lost = [(v, n) for v, n in a.accepted if history.get(v) != n]
        assert lost == [], f"{a.facility}: accepted but not in SQL: {lost}"
        # the last accepted figure is what SQL and the live picture hold (a 503 wrote nothing)
        version, available = a.accepted[-1]
        stored = rows(
            engine,
            "SELECT f.available, v.version FROM capacity_figure f JOIN facility v "
            "ON v.id = f.facility_id WHERE f.facility_id = :f AND f.category = 'delivery_room'",
            f=a.facility,
        )
        assert [tuple(r) for r in stored] == [(available, version)]
        entry = live[a.facility]
        assert (entry["version"], entry["categories"]["delivery_room"]["available"]) == (
            version,
            available,
        )
    engine.dispose()
    assert sum(len(a.refused) for a in answers) > 0  # the outage did reach the writers
    assert converged_after < CONVERGE_SECONDS, converged_after


@pytest.mark.parametrize("empty", [False, True], ids=["with-aof", "restarted-empty"])
def test_redis_killed_and_restarted_loses_no_accepted_figure(redis_and_server, empty: bool) -> None:  # type: ignore[no-untyped-def]
    valkey, server = redis_and_server
    answers, converged_after = asyncio.run(_crash_and_restart(valkey, server, empty=empty))
    accepted, refused = (sum(len(getattr(a, k)) for a in answers) for k in ("accepted", "refused"))
    print(f"{accepted} accepted, {refused} refused (503); converged {converged_after:.2f} s after")
    _check(server, answers, converged_after)
