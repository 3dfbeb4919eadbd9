"""A region's live picture is missing from Redis while refusals, figures and logins arrive.

Issue 10, defect 1: on SQLite a refusal held the write session and then, finding the region
missing in Redis, asked for the same lock to rebuild it, and waited forever holding SQLite's
write lock: every later write and login hung or answered 503, and only SIGKILL stopped the
process. Promise: every request is answered (no 5xx, no hang), the picture comes back equal to
SQL, and the process still stops promptly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess

import httpx
from sqlalchemy import Engine

from capacity.storage.redis import EmbeddedValkey
from tests.concurrency.conftest import Launch
from tests.concurrency.support import (
    OUTCOME,
    Calls,
    bearer,
    drop_region,
    figures,
    refusal,
    settled,
    token,
)

REGION = "zuidwest"
STOP_WAIT = 60  # seconds a SIGTERM may take on a loaded machine (it took forever when locked)


async def test_writes_and_logins_are_answered_while_a_missing_region_is_rebuilt(
    launch: Launch, engine: Engine, valkey: EmbeddedValkey
) -> None:
    (server,) = launch()
    calls = Calls()
    async with httpx.AsyncClient(
        base_url=server.url, limits=httpx.Limits(max_connections=200)
    ) as http:
        listed = await http.get(
            f"/api/v1/facilities?region={REGION}", headers=bearer(await token(http, "admin"))
        )
        offered = {f["id"]: f["categories"] for f in listed.json()[:6]}
        midwife = await token(http, "midwife")
        staff = {f: await token(http, f"staff-{f}") for f in offered}
        one, one_offers = next(iter(offered.items()))
        made = await http.post(
            "/api/v1/refusals", json=refusal(one, one_offers[0]), headers=bearer(midwife)
        )
        assert made.status_code == 201, made.text
        drop_region(valkey.url, REGION)
        # The refusals go first: each reads the picture that is now missing.
        first = [
            asyncio.create_task(
                calls.send(
                    http, "POST", "/api/v1/refusals", json=refusal(f, c[0]), headers=bearer(midwife)
                )
            )
            for f, c in offered.items()
        ]
        await asyncio.sleep(0.2)
        rest = [
            calls.send(
                http,
                "PUT",
                f"/api/v1/facilities/{f}/capacity",
                json=figures(c, n),
                headers=bearer(staff[f]),
            )
            for n in range(3)
            for f, c in offered.items()
        ]
        rest += [
            calls.send(http, "POST", "/api/v1/auth/token", data={"username": u, "password": "demo"})
            for u in ["midwife", "admin", *(f"staff-{f}" for f in offered)]
        ]
        rest.append(
            calls.send(
                http,
                "PATCH",
                f"/api/v1/refusals/{made.json()['id']}",
                json=OUTCOME,
                headers=bearer(midwife),
            )
        )
        await asyncio.gather(*first, *rest)
        problems = list(calls.failures)
        problems += await settled(http, midwife, engine, valkey.url, REGION)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(STOP_WAIT)
    except subprocess.TimeoutExpired:
        problems.append(f"the server did not stop within {STOP_WAIT} s of SIGTERM")
    assert not problems, "\n".join(problems)
