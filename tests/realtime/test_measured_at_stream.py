"""Figures pushed with ``measured_at``: the live stream shows it, and they turn stale counting
from it (the scheduler's stale mark, too), while figures without it count from their arrival."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from capacity.availability import jobs
from capacity.availability.store import CapacityStore
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.redis import create_client
from tests.realtime.support import ERASMUS, IKAZIA, Picture, Server, connect, token


async def test_measured_at_reaches_the_stream_and_starts_the_stale_clock(server: Server) -> None:
    midwife, admin = await token(server, "midwife"), await token(server, "admin")
    env = server.env
    settings = Settings(
        database_url=env["CAPACITY_DATABASE_URL"],
        redis_url=env["CAPACITY_REDIS_URL"],
        data_dir=Path(env["CAPACITY_DATA_DIR"]),
        auto_setup=False,
    )
    limit = timedelta(minutes=settings.freshness_limit_minutes)
    measured = datetime.now(UTC) - limit + timedelta(minutes=30)
    db, client = Database(settings.resolved_database_url), create_client(env["CAPACITY_REDIS_URL"])
    try:
        async with (
            await connect(server, midwife) as ws,
            httpx.AsyncClient(base_url=server.url) as http,
        ):
            picture = Picture()
            picture.apply(orjson.loads(await ws.recv()))
            headers = {"Authorization": f"Bearer {admin}"}
            figures = {"delivery_room": {"available": 5, "staffed": 9}}
            pushed = await http.put(
                f"/api/v1/facilities/{ERASMUS}/capacity",
                json={"categories": figures, "measured_at": measured.isoformat()},
                headers=headers,
            )
            assert pushed.status_code == 200, pushed.text
            plain = await http.put(
                f"/api/v1/facilities/{IKAZIA}/capacity",
                json={"categories": figures},
                headers=headers,
            )
            assert plain.status_code == 200
            await picture.follow(ws, picture.seq + 2)
            shown = picture.facilities[ERASMUS]["categories"]["delivery_room"]
            assert datetime.fromisoformat(shown["measured_at"]) == measured
            assert datetime.fromisoformat(shown["stale_at"]) == measured + limit
            assert picture.facilities[IKAZIA]["categories"]["delivery_room"]["measured_at"] is None
            # An hour on: past the limit counted from the measurement, not from the arrival.
            later = datetime.now(UTC) + timedelta(hours=1)
            result = await jobs.expire_due(
                db=db, store=CapacityStore(client, replay=10), settings=settings, now=later
            )
            assert result.stale == [ERASMUS]
            await picture.follow(ws, picture.seq + 1)
            figure = picture.facilities[ERASMUS]["categories"]["delivery_room"]
            assert figure["stale"] is True and figure["status"] == "unknown"
            assert figure["measured_at"] == shown["measured_at"]
    finally:
        await client.aclose()
        await db.dispose()
