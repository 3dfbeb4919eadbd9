"""SQL is the record: figures survive restarts of the service and of Redis, and Redis going down
during a write leaves nothing half-written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from capacity.availability.models import CapacityFigure
from capacity.main import create_app
from capacity.settings import Settings
from capacity.storage.redis import EmbeddedValkey
from tests.api.support import entry, history_rows, picture, put_figures
from tests.conftest import ERASMUS

FIGURES = {"delivery_room": {"available": 2, "staffed": 7}, "nicu": {"available": 1, "staffed": 9}}


@asynccontextmanager
async def service(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """A running app (lifespan started) and a client for it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


async def token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": "demo"}
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def own_valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    """A Valkey of this test alone, with append-only persistence, that the test may kill."""
    server = EmbeddedValkey(tmp_path / "v", appendonly=True).start()
    yield server
    server.stop()


@pytest.fixture
def own_settings(settings: Settings, own_valkey: EmbeddedValkey) -> Settings:
    return settings.model_copy(update={"redis_url": own_valkey.url})


async def sql_figures(app: Any) -> list[tuple[str, int, int]]:
    async with app.state.db.session() as session:
        rows = (
            await session.exec(select(CapacityFigure).where(CapacityFigure.facility_id == ERASMUS))
        ).all()
        return sorted((r.category.value, r.available, r.staffed) for r in rows)


async def test_figure_survives_a_restart_of_the_service(settings):  # type: ignore[no-untyped-def]
    async with service(settings) as (_, client):
        assert (
            await put_figures(client, ERASMUS, FIGURES, await token(client, f"staff-{ERASMUS}"))
        ).status_code == 200
        before = await picture(client, await token(client, "midwife"))
    async with service(settings) as (_, client):
        after = await picture(client, await token(client, "midwife"))
    assert after["seq"] == before["seq"]
    assert after["facilities"] == before["facilities"]


async def test_figure_survives_a_restart_of_the_service_with_redis_emptied(settings, valkey):  # type: ignore[no-untyped-def]
    async with service(settings) as (app, client):
        await put_figures(client, ERASMUS, FIGURES, await token(client, f"staff-{ERASMUS}"))
        before = await picture(client, await token(client, "midwife"))
        await app.state.store.redis.flushall()
    async with service(settings) as (_, client):
        after = await picture(client, await token(client, "midwife"))
    assert after["seq"] > before["seq"]
    assert after["facilities"] == before["facilities"]


async def test_figure_survives_a_crash_and_restart_of_redis(own_settings, own_valkey):  # type: ignore[no-untyped-def]
    async with service(own_settings) as (_, client):
        staff = await token(client, f"staff-{ERASMUS}")
        midwife = await token(client, "midwife")
        await put_figures(client, ERASMUS, FIGURES, staff)
        before = await picture(client, midwife)
        own_valkey.kill()
        EmbeddedValkey(own_valkey.data_dir, port=own_valkey.port, appendonly=True).start()
        after = await picture(client, midwife)
        assert after["seq"] >= before["seq"]
        assert entry(after, ERASMUS)["categories"] == entry(before, ERASMUS)["categories"]
        response = await put_figures(
            client, ERASMUS, {"delivery_room": {"available": 0, "staffed": 7}}, staff
        )
        assert response.status_code == 200
        latest = await picture(client, midwife)
        assert latest["seq"] == after["seq"] + 1
        assert entry(latest, ERASMUS)["categories"]["delivery_room"]["status"] == "red"


async def test_redis_restarted_empty_is_rebuilt_from_sql_and_seq_never_goes_back(
    own_settings, own_valkey
):  # type: ignore[no-untyped-def]
    async with service(own_settings) as (app, client):
        staff = await token(client, f"staff-{ERASMUS}")
        midwife = await token(client, "midwife")
        await put_figures(client, ERASMUS, FIGURES, staff)
        before = await picture(client, midwife)
        own_valkey.kill()
        own_valkey.appendonly = False
        for leftover in own_valkey.data_dir.glob("appendonly*"):
            if leftover.is_dir():
                for part in leftover.iterdir():
                    part.unlink()
                leftover.rmdir()
            else:
                leftover.unlink()
        own_valkey.start()
        assert await app.state.store.redis.dbsize() == 0
        # The read is answered from SQL at once (a read never writes) ...
        served = await picture(client, midwife)
        assert served["seq"] >= before["seq"]
        assert served["facilities"] == before["facilities"]
        # ... and the process's repairer rebuilds Redis under a newer seq.
        for _ in range(200):
            if await app.state.store.current_seq("zuidwest") is not None:
                break
            await asyncio.sleep(0.05)
        after = await picture(client, midwife)
        assert after["seq"] > before["seq"]
        assert after["facilities"] == before["facilities"]
        # a write straight after an empty restart (before any read) is not lost either
        await app.state.store.redis.flushall()
        response = await put_figures(
            client, ERASMUS, {"nicu": {"available": 4, "staffed": 9}}, staff
        )
        assert response.status_code == 200
        latest = await picture(client, midwife)
        assert latest["seq"] > after["seq"]
        assert entry(latest, ERASMUS)["categories"]["nicu"]["available"] == 4
        assert entry(latest, ERASMUS)["categories"]["delivery_room"]["available"] == 2


async def test_redis_down_during_a_write_is_503_and_nothing_is_written(own_settings, own_valkey):  # type: ignore[no-untyped-def]
    async with service(own_settings) as (app, client):
        staff = await token(client, f"staff-{ERASMUS}")
        midwife = await token(client, "midwife")
        await put_figures(client, ERASMUS, FIGURES, staff)
        before = await picture(client, midwife)
        figures, rows = await sql_figures(app), await history_rows(app.state.db)
        own_valkey.kill()
        response = await put_figures(
            client, ERASMUS, {"delivery_room": {"available": 0, "staffed": 7}}, staff
        )
        assert response.status_code == 503
        assert "nothing was changed" in response.json()["detail"]
        stop = await client.put(
            f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "beds"}, headers=staff
        )
        assert stop.status_code == 503
        assert (
            await client.get("/api/v1/regions/zuidwest/capacity", headers=midwife)
        ).status_code == 503
        assert await sql_figures(app) == figures
        assert await history_rows(app.state.db) == rows
        own_valkey.start()
        after = await picture(client, midwife)
        assert after["facilities"] == before["facilities"]
        assert after["seq"] >= before["seq"]


async def test_readyz_is_503_while_redis_is_down(own_settings, own_valkey):  # type: ignore[no-untyped-def]
    async with service(own_settings) as (_, client):
        assert (await client.get("/readyz")).status_code == 200
        own_valkey.kill()
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["redis"].startswith("unreachable")
        assert response.json()["database"] == "ok"
        assert (await client.get("/healthz")).status_code == 200
        own_valkey.start()
        assert (await client.get("/readyz")).status_code == 200


async def test_redis_back_with_an_older_picture_is_rebuilt_by_load_all(client, login, app):  # type: ignore[no-untyped-def]
    """The append-only file may lose its last second: Redis then holds an older seq and state."""
    from capacity.availability.service import load_all
    from capacity.storage import keys

    staff = await login(f"staff-{ERASMUS}")
    await put_figures(client, ERASMUS, {"delivery_room": {"available": 1, "staffed": 7}}, staff)
    redis = app.state.store.redis
    old_seq = await redis.get(keys.region_seq("zuidwest"))
    old_raw = await redis.hget(keys.region_state("zuidwest"), ERASMUS)
    await put_figures(client, ERASMUS, {"delivery_room": {"available": 5, "staffed": 7}}, staff)
    newest = await picture(client, await login("midwife"))
    await redis.set(keys.region_seq("zuidwest"), old_seq)  # as if the last write never reached disk
    await redis.hset(keys.region_state("zuidwest"), ERASMUS, old_raw)
    assert await load_all(db=app.state.db, store=app.state.store, settings=app.state.settings) >= 1
    rebuilt = await picture(client, await login("midwife"))
    assert rebuilt["seq"] > newest["seq"]
    assert entry(rebuilt, ERASMUS)["categories"]["delivery_room"]["available"] == 5
