"""The scheduler as a process of its own: killed and restarted it still turns figures stale on
time, and two schedulers running at once never both run a job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import bindparam, text

from capacity.availability.jobs import LOCK_SECONDS
from capacity.storage import keys
from capacity.storage.redis import EmbeddedValkey
from capacity.storage.types import UTCDateTime
from tests.conftest import Databases
from tests.faults.support import (
    ERASMUS,
    IKAZIA,
    MAASSTAD,
    SOPHIA,
    Scheduler,
    Server,
    flush,
    rows,
    sql,
    token,
    wait_for,
)

INTERVAL = 1  # seconds between runs of the expiry job
LIMIT = timedelta(minutes=1)  # freshness limit (the smallest the settings allow)
JOBS = {"expiry_interval_seconds": str(INTERVAL), "freshness_limit_minutes": "1"}


@pytest.fixture(scope="module")
def app_instance(
    databases: Databases, valkey: EmbeddedValkey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    """An app instance that runs no jobs (CAPACITY_SCHEDULER=false), shared by the module."""
    flush(valkey.url)
    url = databases.fresh()
    server = Server(
        database_url=url,
        redis_url=valkey.url,
        data_dir=tmp_path_factory.mktemp("app"),
        scheduler="false",
        **JOBS,
    ).start()
    yield server, url
    server.stop()


@pytest.fixture
def world(
    app_instance: tuple[Server, str], valkey: EmbeddedValkey, tmp_path: Path
) -> Iterator[dict]:  # type: ignore[type-arg]
    """The app instance, its database and Redis, and a way to start schedulers (stopped after)."""
    server, url = app_instance
    client = redis.Redis.from_url(valkey.url)
    client.delete(keys.job_runs("expire"), keys.job_running("expire"))
    schedulers: list[Scheduler] = []

    def scheduler() -> Scheduler:
        made = Scheduler(
            database_url=url, redis_url=valkey.url, data_dir=tmp_path / "sched", **JOBS
        )
        schedulers.append(made)
        return made.start()

    try:
        yield {"server": server, "url": url, "redis": valkey.url, "scheduler": scheduler}
    finally:
        for made in schedulers:
            made.stop()


def report(server: Server, facility: str, due_in: float) -> datetime:
    """PUT a figure; returns when it should pass the freshness limit once dated back."""
    admin = token(server, "admin")
    response = httpx.put(
        f"{server.url}/api/v1/facilities/{facility}/capacity",
        json={"categories": {"delivery_room": {"available": 3, "staffed": 8}}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 200, response.text
    return datetime.now(UTC) + timedelta(seconds=due_in)


def backdate(url: str, facility: str, due: datetime) -> None:
    engine = sql(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE capacity_figure SET updated_at = :at WHERE facility_id = :f").bindparams(
                bindparam("at", type_=UTCDateTime())
            ),
            {"at": due - LIMIT, "f": facility},
        )
    engine.dispose()


def stale_marks(url: str, facility: str) -> int:
    """How many times the scheduler recorded the facility's figures turning stale."""
    engine = sql(url)
    try:
        found = rows(
            engine,
            "SELECT count(*) FROM audit_event WHERE action = 'capacity.stale' AND entity_id = :f",
            f=facility,
        )
        return int(found[0][0])
    finally:
        engine.dispose()


def job_counters(redis_url: str) -> dict[bytes, bytes]:
    return redis.Redis.from_url(redis_url).hgetall(keys.job_runs("expire"))  # type: ignore[return-value]


def test_scheduler_killed_mid_run_and_restarted_still_turns_figures_stale_on_time(world) -> None:  # type: ignore[no-untyped-def]
    server, url = world["server"], world["url"]
    first = world["scheduler"]()
    client = redis.Redis.from_url(world["redis"])

    # Kill it while it holds the job's lock, the worst moment: its lock is left behind. Wait for
    # a run it has counted, so that the restarted scheduler's run is the second in the counters.
    def mid_run() -> bool:
        counted = client.hget(keys.job_runs("expire"), "runs")
        return bool(counted) and bool(client.exists(keys.scheduler_lock("expire")))

    wait_for(mid_run, 30, "a counted run of the job", 0.005)
    first.kill()
    due = report(server, ERASMUS, due_in=3)
    backdate(url, ERASMUS, due)
    world["scheduler"]()
    time.sleep(max((due - datetime.now(UTC)).total_seconds() - 0.5, 0))
    assert stale_marks(url, ERASMUS) == 0  # not before its time
    # On time: at the latest one lock lifetime (left by the killed run) and two runs after due.
    wait_for(lambda: stale_marks(url, ERASMUS), LOCK_SECONDS + 2 * INTERVAL + 5, "the stale mark")
    marked = rows(
        sql(url),
        "SELECT stale FROM capacity_figure WHERE facility_id = :f",
        f=ERASMUS,
    )
    assert [bool(r[0]) for r in marked] == [True]
    counters = job_counters(world["redis"])
    assert int(counters[b"runs"]) >= 2
    assert b"overlaps" not in counters


def test_two_schedulers_at_once_never_both_run_a_job(world) -> None:  # type: ignore[no-untyped-def]
    server, url = world["server"], world["url"]
    world["scheduler"]()
    world["scheduler"]()
    dues = {f: report(server, f, due_in=2) for f in (IKAZIA, MAASSTAD, SOPHIA)}
    for facility, due in dues.items():
        backdate(url, facility, due)
    for facility in dues:
        wait_for(lambda f=facility: stale_marks(url, f), 20, f"{facility} marked stale")
    time.sleep(4 * INTERVAL)  # more runs of both, with nothing left to do
    for facility in dues:
        assert stale_marks(url, facility) == 1
    counters = job_counters(world["redis"])
    assert int(counters[b"runs"]) >= 4
    assert b"overlaps" not in counters, counters
