"""Many midwives send transfer requests at the same moment, on two server processes.

Requests are written in batches (``capacity.transfers.writer``): a batch shares one transaction,
so these tests check what a batch must never do: lose a request, mix up two requests' offers, let
one request's bad ward or database refusal fail the others, or answer before its commit.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import orjson
import websockets
from sqlalchemy import Engine, text

from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, token, until
from tests.faults.support import rows
from tests.transfers.support import (
    DELFT,
    ERASMUS,
    FRANCISCUS,
    IJSSELLAND,
    IKAZIA,
    MAASSTAD,
    SOPHIA,
    request,
)

WARDS = [ERASMUS, FRANCISCUS, IKAZIA, MAASSTAD, IJSSELLAND, DELFT]
GOOD = 48
BAD = 16


def _asked(n: int) -> list[str]:
    return [WARDS[(n + k) % len(WARDS)] for k in range(3)]


async def _screen(url: str, bearer_token: str, seen: list[dict[str, Any]]) -> None:
    async with websockets.connect(f"{url}/ws/offers?token={bearer_token}") as ws:
        seen.append({"type": "connected"})
        async for raw in ws:
            seen.append(orjson.loads(raw))


async def test_a_burst_of_requests_on_two_processes_is_written_whole_and_each_ward_sees_its_own(
    launch: Launch, engine: Engine
) -> None:
    servers = launch(2)
    clients = [
        httpx.AsyncClient(base_url=s.url, limits=httpx.Limits(max_connections=100)) for s in servers
    ]
    calls = Calls()
    seen: dict[str, list[dict[str, Any]]] = {w: [] for w in WARDS}
    screens: list[asyncio.Task[None]] = []
    try:
        midwife = bearer(await token(clients[0], "midwife"))
        for n, ward in enumerate(WARDS):  # each ward's screen on one of the two processes
            staff = await token(clients[n % 2], f"staff-{ward}")
            url = servers[n % 2].url.replace("http", "ws")
            screens.append(asyncio.create_task(_screen(url, staff, seen[ward])))
        await until(
            lambda: sum(len(s) for s in seen.values()) == 2 * len(WARDS),  # connected, snapshot
            "every ward's screen connected",
        )
        bodies = [request(facilities=_asked(n)) for n in range(GOOD)]
        # a ward that does not offer NICU, as the second ward asked
        bodies += [request(category="nicu", facilities=[ERASMUS, SOPHIA]) for _ in range(BAD)]
        order = list(range(len(bodies)))
        order = order[::2] + order[1::2]  # good and bad mixed, so that batches hold both
        answers = await asyncio.gather(
            *(
                calls.send(
                    clients[i % 2], "POST", "/api/v1/transfers", json=bodies[i], headers=midwife
                )
                for i in order
            )
        )
        by_body = dict(zip(order, answers, strict=True))
        made = [by_body[n] for n in range(GOOD)]
        refused = [by_body[n] for n in range(GOOD, GOOD + BAD)]
        assert not calls.failures, calls.report()
        assert [r.status_code for r in made if r is not None] == [201] * GOOD
        for r in refused:
            assert r is not None and r.status_code == 422, r and r.text
            (error,) = r.json()["detail"]
            assert error["loc"] == ["body", "facilities", 1]
        # each answer is its own request, with offers to exactly the wards it asked
        shown = [r.json() for r in made if r is not None]
        for n, body in enumerate(shown):
            assert [o["facility_id"] for o in body["offers"]] == _asked(n)
            assert {o["request_id"] for o in body["offers"]} == {body["id"]}
        offer_ids = [o["id"] for body in shown for o in body["offers"]]
        assert len(set(offer_ids)) == 3 * GOOD
        # every ward's screen got an offer for each request that asked it, none for others
        expected = Counter(w for n in range(GOOD) for w in _asked(n))

        def offers_seen(ward: str) -> set[int]:
            return {m["offer"]["id"] for m in seen[ward] if m.get("type") == "offer"}

        await until(
            lambda: all(len(offers_seen(w)) == expected[w] for w in WARDS),
            "every offer on its ward's screen",
        )
        for ward in WARDS:
            mine = {o["id"] for body in shown for o in body["offers"] if o["facility_id"] == ward}
            assert offers_seen(ward) == mine, ward
    finally:
        for task in screens:
            task.cancel()
        await asyncio.gather(*screens, return_exceptions=True)
        for c in clients:
            await c.aclose()
    # SQL holds exactly the answered requests, their offers and an audit event each
    stored = rows(engine, "SELECT id FROM transfer_request")
    assert sorted(r.id for r in stored) == sorted(body["id"] for body in shown)
    offers = rows(engine, "SELECT id, request_id, facility_id, status FROM transfer_offer")
    assert sorted((o.id, o.request_id, o.facility_id, o.status) for o in offers) == sorted(
        (o["id"], body["id"], o["facility_id"], "pending") for body in shown for o in body["offers"]
    )
    audited = rows(
        engine, "SELECT entity_id FROM audit_event WHERE action = 'transfer.create' ORDER BY id"
    )
    assert sorted(int(a.entity_id) for a in audited) == sorted(body["id"] for body in shown)


REFUSE_SQLITE = """
CREATE TRIGGER refuse_far_north BEFORE INSERT ON transfer_request
WHEN NEW.origin_lat > 53.5 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
"""
REFUSE_PG = [
    """
    CREATE FUNCTION refuse_far_north() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.origin_lat > 53.5 THEN RAISE EXCEPTION 'refused by the test'; END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER refuse_far_north BEFORE INSERT ON transfer_request
    FOR EACH ROW EXECUTE FUNCTION refuse_far_north()
    """,
]


async def test_a_request_the_database_refuses_does_not_take_the_others_in_its_batch_with_it(
    launch: Launch, engine: Engine
) -> None:
    (server,) = launch(1)
    with engine.begin() as conn:
        for statement in [REFUSE_SQLITE] if engine.dialect.name == "sqlite" else REFUSE_PG:
            conn.execute(text(statement))
    calls = Calls()
    async with httpx.AsyncClient(
        base_url=server.url, limits=httpx.Limits(max_connections=100)
    ) as http:
        midwife = bearer(await token(http, "midwife"))
        far = request(lat=53.6, lon=6.6, facilities=[ERASMUS])  # the trigger refuses these
        near = request(facilities=[ERASMUS, FRANCISCUS])
        bodies = [far if n % 4 == 0 else near for n in range(60)]
        answers = await asyncio.gather(
            *(
                calls.send(http, "POST", "/api/v1/transfers", json=b, headers=midwife)
                for b in bodies
            )
        )
    statuses = Counter(a.status_code for a in answers if a is not None)
    # the refused ones are 503 (and so counted as failures by Calls); nothing else is
    assert statuses == Counter({201: 45, 503: 15}), statuses
    for body, answer in zip(bodies, answers, strict=True):
        assert answer is not None
        if body is far:
            assert answer.json()["detail"] == "the database did not accept the change"
    stored = rows(engine, "SELECT id, origin_lat FROM transfer_request")
    made = sorted(a.json()["id"] for a in answers if a is not None and a.status_code == 201)
    assert sorted(r.id for r in stored) == made
    assert {r.origin_lat for r in stored} == {51.92}
    (offers,) = rows(engine, "SELECT count(*) AS n FROM transfer_offer")
    assert offers.n == 2 * 45


async def test_a_server_killed_in_a_burst_loses_no_answered_request_and_leaves_none_half_written(
    launch: Launch, engine: Engine
) -> None:
    """SIGKILL while batches are being written: every request answered 201 is in SQL as
    answered (a restarted server shows it), and every request SQL holds has all its offers
    and its audit event (a batch lands whole or not at all)."""
    (server,) = launch(1)
    async with httpx.AsyncClient(
        base_url=server.url, limits=httpx.Limits(max_connections=200)
    ) as http:
        midwife = bearer(await token(http, "midwife"))
        answered: list[dict[str, Any]] = []

        async def send(n: int) -> None:
            try:
                r = await http.post(
                    "/api/v1/transfers", json=request(facilities=_asked(n)), headers=midwife
                )
            except httpx.HTTPError:
                return  # killed before it answered: unknown, and allowed to be either
            assert r.status_code == 201, r.text
            answered.append(r.json())

        sending = [asyncio.create_task(send(n)) for n in range(400)]
        await until(lambda: len(answered) >= 20, "the first answers")
        server.kill()
        await asyncio.gather(*sending)
    assert 20 <= len(answered) < 400, len(answered)  # the kill landed inside the burst
    stored = {r.id for r in rows(engine, "SELECT id FROM transfer_request")}
    assert {a["id"] for a in answered} <= stored
    offers = rows(engine, "SELECT request_id, facility_id FROM transfer_offer")
    by_request: dict[int, list[str]] = {}
    for o in offers:
        by_request.setdefault(o.request_id, []).append(o.facility_id)
    assert set(by_request) == stored
    assert all(len(wards) == 3 for wards in by_request.values())
    audited = rows(engine, "SELECT entity_id FROM audit_event WHERE action = 'transfer.create'")
    assert sorted(int(a.entity_id) for a in audited) == sorted(stored)
    (again,) = launch(1)
    async with httpx.AsyncClient(base_url=again.url) as http:
        midwife = bearer(await token(http, "midwife"))
        for made in answered:
            r = await http.get(f"/api/v1/transfers/{made['id']}", headers=midwife)
            assert r.status_code == 200, r.text
            assert r.json() == made
