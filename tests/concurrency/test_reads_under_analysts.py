"""Midwives' reads keep being answered while analysts run the heaviest capacity-over-time query.

Issue 10, point 9: one analyst's ``period=day`` over a long range walked the whole history on
the event loop, and midwives' reads of the regional picture waited behind it. Promise: with
analysts looping the longest range allowed (400 days), every midwife read is answered (no 5xx,
no hang) and every analyst gets the same answer. Nothing here measures speed (bench/reads.py).
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, insert

from capacity.availability.models import CapacityChange
from capacity.refusals.service import LOCAL
from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, token
from tests.faults.support import rows

REGION = "zuidwest"


def history(engine: Engine, n: int = 20_000) -> None:
    """``n`` figures of the region's facilities over the last 400 days."""
    rng = random.Random(5)
    keys = [
        (f, c)
        for f, cats in rows(
            engine, "SELECT id, categories FROM facility WHERE region = :r", r=REGION
        )
        for c in (cats if isinstance(cats, list) else json.loads(cats))
    ]
    now = datetime.now(UTC)
    start = now - timedelta(days=400)
    step = (now - start) / n
    batch = []
    for i in range(n):
        facility, category = rng.choice(keys)
        batch.append(
            {
                "at": start + step * i,
                "region": REGION,
                "facility_id": facility,
                "seq": 0,
                "version": 0,
                "kind": "figures",
                "category": category,
                "available": rng.randint(0, 5),
                "staffed": 5,
                "actor": "test",
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(CapacityChange), batch)


async def test_midwife_reads_are_answered_while_analysts_run_the_heaviest_query(
    launch: Launch, engine: Engine
) -> None:
    history(engine)
    (server,) = launch()
    calls = Calls()
    today = datetime.now(LOCAL).date()
    params = {
        "region": REGION,
        "from": str(today - timedelta(days=399)),
        "to": str(today),
        "period": "day",
    }
    async with httpx.AsyncClient(base_url=server.url) as http:
        midwife = bearer(await token(http, "midwife"))
        analyst = bearer(await token(http, f"analyst-{REGION}"))
        done = asyncio.Event()
        answers: list[httpx.Response | None] = []

        async def analysts_query() -> None:
            while not done.is_set():
                answers.append(
                    await calls.send(
                        http, "GET", "/api/v1/capacity-over-time", params=params, headers=analyst
                    )
                )

        async def midwife_reads() -> list[httpx.Response | None]:
            await asyncio.sleep(0.5)  # the analysts' queries are under way
            read = []
            for _ in range(30):
                read.append(
                    await calls.send(
                        http, "GET", f"/api/v1/regions/{REGION}/capacity", headers=midwife
                    )
                )
                await asyncio.sleep(0.05)
            done.set()
            return read

        *_, read = await asyncio.gather(*(analysts_query() for _ in range(4)), midwife_reads())
        # One day more than the heaviest query allowed: refused before any work, naming `to`
        # (c7cad1a took up to 5 years of days: 34 s of server time over 1.5 M rows).
        longer = {**params, "from": str(today - timedelta(days=400))}
        refused = await http.get("/api/v1/capacity-over-time", params=longer, headers=analyst)
    assert refused.status_code == 422, refused.text
    assert refused.json()["message"].startswith("to: ")
    assert not calls.failures, calls.report()
    assert all(r is not None and r.status_code == 200 for r in read)
    assert answers and all(a is not None and a.status_code == 200 for a in answers)
    # every analyst got the same finished days (today's hours grow while they ask)
    finished = {
        json.dumps([r for r in a.json()["rows"] if r["period"] < str(today)])
        for a in answers
        if a is not None
    }
    assert len(finished) == 1
    body = answers[0].json()  # type: ignore[union-attr]
    assert len({r["period"] for r in body["rows"]}) == 400
