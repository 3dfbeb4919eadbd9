"""Redis stops answering (a network cut, or Redis stalled past the client's timeout) while a
figure is written: the writer answers 503 after one timeout, not after a minute of nested
retries, keeps nothing of the change in SQL, and the live picture keeps the accepted figure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from capacity.main import create_app
from capacity.settings import Settings
from capacity.storage.redis import EmbeddedValkey
from tests.api.support import entry, history_rows, picture, put_figures
from tests.conftest import ERASMUS
from tests.faults.proxy import SwallowingProxy

SOCKET_TIMEOUT = 5  # seconds, as storage.redis.create_client sets it


@pytest.fixture
async def proxy(valkey: EmbeddedValkey) -> AsyncIterator[SwallowingProxy]:
    made = await SwallowingProxy(valkey.port, valkey.password).start()
    yield made
    await made.stop()


async def test_redis_not_answering_a_write_is_a_prompt_503_that_changes_nothing(
    settings: Settings, proxy: SwallowingProxy
) -> None:
    app = create_app(settings.model_copy(update={"redis_url": proxy.url}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            login = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": "demo"}
            )
            admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
            accepted = {"delivery_room": {"available": 1, "staffed": 9}}
            assert (await put_figures(client, ERASMUS, accepted, admin)).status_code == 200
            rows = await history_rows(app.state.db)
            proxy.swallow = True
            started = time.monotonic()
            refused = await put_figures(
                client, ERASMUS, {"delivery_room": {"available": 7, "staffed": 9}}, admin
            )
            waited = time.monotonic() - started
            proxy.swallow = False
            assert refused.status_code == 503, refused.text
            assert "Redis" in refused.json()["detail"]
            # A bound on a hang, not a benchmark: it took 60 s when timeouts were retried.
            assert waited < 3 * SOCKET_TIMEOUT, waited
            assert await history_rows(app.state.db) == rows
            async with asyncio.timeout(10):
                shown = entry(await picture(client, admin), ERASMUS)
            assert shown["categories"]["delivery_room"]["available"] == 1
