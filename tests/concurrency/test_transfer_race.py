"""Twenty wards accept one transfer request at the same moment, on two server processes.

Exactly one accept wins (200); the nineteen others are told "already placed at another ward"
(409). SQL holds one placed request, one accepted offer and nineteen withdrawn ones, one
acceptance record and one ``transfer.accept`` audit event; nothing answers 5xx.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import Engine

from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, token
from tests.faults.support import rows
from tests.transfers.support import request

WARDS = 20
BATCH = 8  # at most 8 wards per send


async def _ask(http: httpx.AsyncClient, midwife: dict[str, str], wards: list[str]) -> Any:
    first = await http.post(
        "/api/v1/transfers", json=request(facilities=wards[:BATCH]), headers=midwife
    )
    assert first.status_code == 201, first.text
    made = first.json()
    for start in range(BATCH, len(wards), BATCH):
        more = {"facilities": wards[start : start + BATCH]}
        r = await http.post(f"/api/v1/transfers/{made['id']}/offers", json=more, headers=midwife)
        assert r.status_code == 201, r.text
        made = r.json()
    return made


async def test_twenty_wards_accepting_at_once_on_two_processes_place_it_once(
    launch: Launch, engine: Engine
) -> None:
    servers = launch(2)
    wards = [r.id for r in rows(engine, "SELECT id FROM facility WHERE active ORDER BY id")]
    wards = wards[:WARDS]
    calls = Calls()
    clients = [
        httpx.AsyncClient(base_url=s.url, limits=httpx.Limits(max_connections=50)) for s in servers
    ]
    try:
        midwife = bearer(await token(clients[0], "midwife"))
        made = await _ask(clients[0], midwife, wards)
        offers = {o["facility_id"]: o["id"] for o in made["offers"]}
        assert len(offers) == WARDS
        staff = await asyncio.gather(
            *(token(clients[n % 2], f"staff-{w}") for n, w in enumerate(wards))
        )
        answers = await asyncio.gather(
            *(
                calls.send(
                    clients[n % 2],
                    "POST",
                    f"/api/v1/offers/{offers[w]}/accept",
                    headers=bearer(staff[n]),
                )
                for n, w in enumerate(wards)
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    assert not calls.failures, calls.report()
    statuses = sorted(a.status_code for a in answers if a is not None)
    assert statuses == [200] + [409] * (WARDS - 1), statuses
    (won,) = [a for a in answers if a is not None and a.status_code == 200]
    winner = won.json()["request"]["placed_facility_id"]
    lost = {a.json()["detail"] for a in answers if a is not None and a.status_code == 409}
    assert lost == {"already placed at another ward"}
    (placed,) = rows(engine, "SELECT status, placed_facility_id FROM transfer_request")
    assert (placed.status, placed.placed_facility_id) == ("placed", winner)
    offer_rows = rows(engine, "SELECT facility_id, status FROM transfer_offer")
    assert sorted(o.status for o in offer_rows) == ["accepted"] + ["withdrawn"] * (WARDS - 1)
    assert [o.facility_id for o in offer_rows if o.status == "accepted"] == [winner]
    records = rows(engine, "SELECT facility_id, decision FROM refusal")
    assert [(r.facility_id, r.decision) for r in records] == [(winner, "accepted")]
    accepts = rows(engine, "SELECT id FROM audit_event WHERE action = 'transfer.accept'")
    assert len(accepts) == 1


async def test_every_ward_declining_at_once_leaves_the_request_exhausted(
    launch: Launch, engine: Engine
) -> None:
    """The last decline sees the others: the request ends ``exhausted``, one record each."""
    servers = launch(2)
    wards = [r.id for r in rows(engine, "SELECT id FROM facility WHERE active ORDER BY id")]
    wards = wards[:BATCH]
    calls = Calls()
    clients = [httpx.AsyncClient(base_url=s.url) for s in servers]
    try:
        midwife = bearer(await token(clients[0], "midwife"))
        made = await _ask(clients[0], midwife, wards)
        offers = {o["facility_id"]: o["id"] for o in made["offers"]}
        staff = await asyncio.gather(
            *(token(clients[n % 2], f"staff-{w}") for n, w in enumerate(wards))
        )
        answers = await asyncio.gather(
            *(
                calls.send(
                    clients[n % 2],
                    "POST",
                    f"/api/v1/offers/{offers[w]}/decline",
                    json={"reason": "no_bed"},
                    headers=bearer(staff[n]),
                )
                for n, w in enumerate(wards)
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    assert not calls.failures, calls.report()
    assert [a.status_code for a in answers if a is not None] == [200] * BATCH
    (state,) = rows(engine, "SELECT status FROM transfer_request")
    assert state.status == "exhausted"
    records = rows(engine, "SELECT reason FROM refusal WHERE decision = 'refused'")
    assert [r.reason for r in records] == ["no_bed"] * BATCH
