"""A record sent twice at once, and undone while its outcome is being set (issue 12.5).

Two tabs of one phone flush the same offline queue into two server processes at the same
moment: every send gets the one stored record (201 once, 200 for the rest), SQL holds exactly
one, and the audit trail one ``refusal.create``. Undo racing another undo and an outcome never
answers 5xx nor leaves half a record: the record is gone once, the statistics agree.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
from sqlalchemy import Engine

from tests.concurrency.conftest import Launch
from tests.concurrency.support import OUTCOME, Calls, bearer, refusal, token
from tests.faults.support import rows
from tests.reporting.daily import agrees

ERASMUS = "erasmus-mc-rotterdam"
SENDS = 12  # per key: six tabs per server process
KEYS = 4


async def test_the_same_key_sent_at_once_to_two_processes_is_one_record(
    launch: Launch, engine: Engine, database_url: str
) -> None:
    servers = launch(2)
    calls = Calls()
    clients = [
        httpx.AsyncClient(base_url=s.url, limits=httpx.Limits(max_connections=100)) for s in servers
    ]
    try:
        midwife = bearer(await token(clients[0], "midwife"))
        bodies = [{**refusal(ERASMUS), "client_key": str(uuid.uuid4())} for _ in range(KEYS)]
        answers = await asyncio.gather(
            *(
                calls.send(clients[i % 2], "POST", "/api/v1/refusals", json=body, headers=midwife)
                for body in bodies
                for i in range(SENDS)
            )
        )
    finally:
        for c in clients:
            await c.aclose()
    assert not calls.failures, calls.report()
    assert all(a is not None for a in answers)
    by_key: dict[str, set[int]] = {}
    statuses: Counter[int] = Counter()
    for a in answers:
        assert a is not None and a.status_code in (200, 201), a.text if a else None
        statuses[a.status_code] += 1
        by_key.setdefault(a.json()["client_key"], set()).add(a.json()["id"])
    assert statuses[201] == KEYS and statuses[200] == KEYS * (SENDS - 1), statuses
    stored = rows(engine, "SELECT id, client_key FROM refusal")
    assert len(stored) == KEYS
    assert {r.client_key: {r.id} for r in stored} == by_key
    created = rows(engine, "SELECT entity_id FROM audit_event WHERE action = 'refusal.create'")
    assert sorted(int(r.entity_id) for r in created) == sorted(r.id for r in stored)
    assert agrees(database_url)


async def test_undo_racing_undo_and_outcome_leaves_no_half_state(
    launch: Launch, engine: Engine, database_url: str
) -> None:
    servers = launch(2)
    calls = Calls()
    clients = [
        httpx.AsyncClient(base_url=s.url, limits=httpx.Limits(max_connections=100)) for s in servers
    ]
    try:
        midwife = bearer(await token(clients[0], "midwife"))
        kept = await clients[0].post("/api/v1/refusals", json=refusal(ERASMUS), headers=midwife)
        assert kept.status_code == 201, kept.text
        made = []
        for _ in range(6):
            r = await clients[0].post("/api/v1/refusals", json=refusal(ERASMUS), headers=midwife)
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
        work = []
        for n, rid in enumerate(made):
            path = f"/api/v1/refusals/{rid}"
            work += [
                calls.send(clients[n % 2], "DELETE", path, headers=midwife),
                calls.send(clients[(n + 1) % 2], "DELETE", path, headers=midwife),
                calls.send(clients[n % 2], "PATCH", path, json=OUTCOME, headers=midwife),
                calls.send(clients[(n + 1) % 2], "PATCH", path, json=OUTCOME, headers=midwife),
            ]
        answers = await asyncio.gather(*work)
    finally:
        for c in clients:
            await c.aclose()
    assert not calls.failures, calls.report()
    for n in range(len(made)):
        undo = sorted(a.status_code for a in answers[4 * n : 4 * n + 2] if a is not None)
        outcome = {a.status_code for a in answers[4 * n + 2 : 4 * n + 4] if a is not None}
        assert undo == [204, 404], undo
        assert outcome <= {200, 404}, outcome
    assert [r.id for r in rows(engine, "SELECT id FROM refusal")] == [kept.json()["id"]]
    deleted = rows(engine, "SELECT entity_id FROM audit_event WHERE action = 'refusal.delete'")
    assert sorted(int(r.entity_id) for r in deleted) == sorted(made)
    assert agrees(database_url)
