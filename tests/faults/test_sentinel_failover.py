"""Redis Sentinel: the primary killed (SIGKILL) under writes and live clients, a replica takes over.

Two servers follow the primary through three sentinels. Replication is asynchronous, and the
test makes sure the kill loses something: the replica is held back while the primary takes
changes (SQL commits them, the writers get 200), so the new primary lacks them. Region noord
is written only until the kill, so nothing but the rebuild after the failover can mend it.

Promises: every 2xx change is in SQL and, after the failover, in the live picture (REST and
every websocket client, on both servers); a write in the failover window gets 503, never
2xx-then-lost; clients converge within 10 s of the new primary being elected; no client was
ever shown a figure SQL does not hold.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import websockets
from sqlalchemy import Engine

from tests import servers
from tests.conftest import Databases
from tests.faults.sentinel_support import MASTER, SentinelDeployment
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
from tests.realtime.support import Picture, connect

NOORD = "noord"
UMCG = "universitair-medisch-centrum-groningen"
WRITERS = ((ERASMUS, 0), (IKAZIA, 1), (MAASSTAD, 0))  # (facility, server): written throughout
QUIET = (UMCG, 1)  # written only until the kill
REGIONS = (REGION, NOORD)
CLIENTS = 2  # per server and region
CONVERGE_SECONDS = 10.0
BALLAST = 48 << 20  # more than loopback buffers hold: what follows stays in the primary


@dataclass
class Listener:
    """A live client that resumes after a close, as the browser does; remembers all it saw."""

    server: Server
    region: str
    picture: Picture = field(default_factory=Picture)
    seen: set[tuple[str, int, int]] = field(default_factory=set)  # (facility, version, available)

    def take(self, message: dict[str, Any]) -> None:
        self.picture.apply(message)
        entries = message.get("facilities") or [message.get("facility") or {}]
        for entry in entries:
            figure = (entry.get("categories") or {}).get("delivery_room") or {}
            if figure.get("available") is not None:
                self.seen.add((entry["facility_id"], entry["version"], figure["available"]))

    async def run(self, bearer: str) -> None:
        while True:
            since = self.picture.seq or None
            try:
                async with await connect(self.server, bearer, self.region, since) as ws:
                    async for raw in ws:
                        self.take(orjson.loads(raw))
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                pass
            await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def deployment_and_servers(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SentinelDeployment, list[Server]]]:
    root = tmp_path_factory.mktemp("sentinel")
    deployment = SentinelDeployment(root).start()
    url = databases.fresh()
    pair = [
        Server(database_url=url, redis_url="", data_dir=root / f"server-{i}", **deployment.settings)
        for i in range(2)
    ]
    try:
        with servers.running(pair) as started:
            yield deployment, started
    finally:
        deployment.stop()


def _shown(entries: Any) -> dict[str, tuple[int, int | None]]:
    """facility -> (version, delivery rooms available), from REST or a client's picture."""
    found = {}
    for entry in entries:
        figure = (entry.get("categories") or {}).get("delivery_room") or {}
        found[entry["facility_id"]] = (entry["version"], figure.get("available"))
    return found


def _sql_picture(engine: Engine, region: str) -> dict[str, tuple[int, int | None]]:
    return {
        fid: (version, available)
        for fid, version, available in rows(
            engine,
            "SELECT f.id, f.version, c.available FROM facility f LEFT JOIN capacity_figure c "
            "ON c.facility_id = f.id AND c.category = 'delivery_room' "
            "WHERE f.region = :r AND f.active",
            r=region,
        )
    }


async def _rest(server: Server, bearer: str, region: str) -> dict[str, tuple[int, int | None]]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.get(
            f"/api/v1/regions/{region}/capacity", headers={"Authorization": f"Bearer {bearer}"}
        )
        assert response.status_code == 200, response.text
        return _shown(response.json()["facilities"])


async def _new_primary(deployment: SentinelDeployment, old: int) -> float:
    """When the sentinels name another primary than ``old``."""
    while True:
        port = await asyncio.to_thread(deployment.primary_port)
        if port not in (None, old):
            return time.monotonic()
        await asyncio.sleep(0.05)


@dataclass
class Run:
    answers: list[Answers]
    quiet: Answers
    listeners: list[Listener]
    taken_by_the_primary_alone: int
    converged_after: float
    truth: dict[str, dict[str, tuple[int, int | None]]]  # region -> SQL's picture at the end


async def _kill_primary(deployment: SentinelDeployment, quiet: Answers, hush: Any) -> int:
    """SIGKILL the primary after it alone took some changes; returns how many of the quiet
    writer's 200s were among them."""
    primary, replica = deployment.roles()
    # Hold the replica back: what the primary takes from here on never reaches it.
    replica.pause()
    await asyncio.to_thread(primary.client().set, "ballast", b"b" * BALLAST)
    before = len(quiet.accepted)
    await asyncio.sleep(0.4)
    await hush()
    taken_alone = len(quiet.accepted) - before
    primary.kill()
    replica.resume()
    return taken_alone


async def _hand_over(deployment: SentinelDeployment, hush: Any) -> int:
    """A planned failover: the sentinels make the replica primary; the old one stays up."""
    await hush()
    await asyncio.to_thread(deployment.sentinels[0].client().sentinel_failover, MASTER)
    return 0


async def _failover(
    deployment: SentinelDeployment, pair: list[Server], engine: Engine, *, planned: bool
) -> Run:
    old = deployment.ensure_replica().port
    midwife = await asyncio.to_thread(token, pair[0], "midwife")
    admin = await asyncio.to_thread(token, pair[0], "admin")
    listeners = [Listener(s, r) for s in pair for r in REGIONS for _ in range(CLIENTS)]
    listening = [asyncio.create_task(li.run(midwife)) for li in listeners]
    stop, quieted = asyncio.Event(), asyncio.Event()
    answers = [Answers(f) for f, _ in WRITERS]
    writers = [
        asyncio.create_task(write_until(pair[i], admin, a, stop))
        for a, (_, i) in zip(answers, WRITERS, strict=True)
    ]
    quiet = Answers(QUIET[0])
    quiet_writer = asyncio.create_task(write_until(pair[QUIET[1]], admin, quiet, quieted))

    async def hush() -> None:
        quieted.set()
        await quiet_writer

    try:
        await asyncio.sleep(2.0)  # writes and clients under way
        if planned:
            taken_alone = await _hand_over(deployment, hush)
        else:
            taken_alone = await _kill_primary(deployment, quiet, hush)
        elected = await _new_primary(deployment, old)
        await asyncio.sleep(2.0)  # writes go on against the new primary
        stop.set()
        await asyncio.gather(*writers)
        while True:
            truth = {r: await asyncio.to_thread(_sql_picture, engine, r) for r in REGIONS}
            shown = [(r, await _rest(s, midwife, r)) for s in pair for r in REGIONS]
            shown += [(li.region, _shown(li.picture.facilities.values())) for li in listeners]
            wrong = [
                (r, f, got, truth[r].get(f))
                for r, picture in shown
                for f, got in picture.items()
                if got != truth[r].get(f)
            ]
            if not wrong and all(picture.keys() == truth[r].keys() for r, picture in shown):
                break
            assert not any(t.done() for t in listening), [t.exception() for t in listening]
            # (region, facility, shown, SQL)
            assert time.monotonic() - elected < 2 * CONVERGE_SECONDS, f"never converged: {wrong}"
            await asyncio.sleep(0.05)
        return Run(answers, quiet, listeners, taken_alone, time.monotonic() - elected, truth)
    finally:
        stop.set()
        quieted.set()
        for task in listening:
            task.cancel()
        await asyncio.gather(*writers, quiet_writer, *listening, return_exceptions=True)


def _history(engine: Engine) -> dict[tuple[str, int], int]:
    """(facility, version) -> delivery rooms available, for every change SQL holds."""
    return {
        (fid, version): available
        for fid, version, available in rows(
            engine,
            "SELECT facility_id, version, available FROM capacity_change "
            "WHERE category = 'delivery_room'",
        )
    }


def _run(
    deployment_and_servers: tuple[SentinelDeployment, list[Server]], *, planned: bool
) -> tuple[Run, dict[tuple[str, int], int]]:
    deployment, pair = deployment_and_servers
    engine = sql(pair[0].env["CAPACITY_DATABASE_URL"])
    try:
        run = asyncio.run(_failover(deployment, pair, engine, planned=planned))
        return run, _history(engine)
    finally:
        engine.dispose()


def _check(run: Run, history: dict[tuple[str, int], int]) -> None:
    every = [*run.answers, run.quiet]
    accepted, refused = (sum(len(getattr(a, k)) for a in every) for k in ("accepted", "refused"))
    print(
        f"{accepted} accepted, {refused} refused (503), {run.taken_by_the_primary_alone} taken "
        f"by the primary alone; converged {run.converged_after:.2f} s after the election"
    )
    for a in every:
        assert a.errors == [], a.errors  # every request got an answer
        assert set(a.refused) <= {503}, a.refused  # refused only as unavailable
        lost = [(v, n) for v, n in a.accepted if history.get((a.facility, v)) != n]
        assert lost == [], f"{a.facility}: answered 200 but not in SQL: {lost}"
        # the last 200 is what SQL (and, converged, everyone) shows: a 503 wrote nothing
        region = NOORD if a is run.quiet else REGION
        assert run.truth[region][a.facility] == a.accepted[-1], a.facility
    # No client was shown a figure that SQL does not hold.
    for listener in run.listeners:
        phantoms = {s for s in listener.seen if history.get((s[0], s[1])) != s[2]}
        assert phantoms == set(), phantoms
    assert run.converged_after < CONVERGE_SECONDS, run.converged_after


def test_primary_killed_a_replica_takes_over_and_nothing_accepted_is_lost(
    deployment_and_servers: tuple[SentinelDeployment, list[Server]],
) -> None:
    run, history = _run(deployment_and_servers, planned=False)
    assert run.taken_by_the_primary_alone > 0  # the failover did lose changes in Redis
    assert sum(len(a.refused) for a in run.answers) > 0  # the failover did reach the writers
    _check(run, history)


def test_a_planned_failover_keeps_every_client_live(
    deployment_and_servers: tuple[SentinelDeployment, list[Server]],
) -> None:
    """SENTINEL FAILOVER (maintenance): the old primary stays up as a replica, and a reader
    left on it would never hear of another change."""
    run, history = _run(deployment_and_servers, planned=True)
    _check(run, history)
