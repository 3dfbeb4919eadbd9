"""Issue 14.1: a facility's ward map replaced by its staff and an admin at once, on two server
processes. Promise: no 5xx and no hang; SQL holds exactly one of the maps sent (never a mix of
two), and the audit trail is one unbroken chain (each change's "before" is the previous map)."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx
from sqlalchemy import Engine

from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, token
from tests.faults.support import rows

ERASMUS = "erasmus-mc-rotterdam"
CATEGORIES = ["delivery_room", "maternity_bed", "obstetric_high_care", "neonatal_high_care", "nicu"]
ROUNDS = 24


def ward_map(k: int) -> list[dict[str, Any]]:
    """Map k: 1 to 5 wards named after k, sorted by code as the service answers them."""
    made = [{"ward": f"W{k:02d}{i}", "category": CATEGORIES[(k + i) % 5]} for i in range(k % 5 + 1)]
    return sorted(made, key=lambda w: w["ward"])


def chain(engine: Engine) -> list[dict[str, Any]]:
    found = rows(
        engine,
        "SELECT detail FROM audit_event WHERE action = 'wards.update' AND entity_id = :f"
        " ORDER BY id",
        f=ERASMUS,
    )
    return [json.loads(r.detail) if isinstance(r.detail, str) else r.detail for r in found]


async def test_concurrent_ward_maps_leave_one_whole_map_and_an_unbroken_audit_chain(
    launch: Launch, engine: Engine
) -> None:
    servers = launch(2)
    calls = Calls()
    clients = [httpx.AsyncClient(base_url=s.url) for s in servers]
    try:
        admin = bearer(await token(clients[0], "admin"))
        staff = bearer(await token(clients[1], f"staff-{ERASMUS}"))
        answers = await asyncio.gather(
            *(
                calls.send(
                    clients[k % 2],
                    "PUT",
                    f"/api/v1/facilities/{ERASMUS}/wards",
                    json={"wards": ward_map(k)},
                    headers=staff if k % 3 else admin,
                )
                for k in range(ROUNDS)
            )
        )
    finally:
        for http in clients:
            await http.aclose()
    assert not calls.failures, calls.report()
    assert all(a is not None and a.status_code == 200 for a in answers), calls.report()
    stored = [
        {"ward": r.ward, "category": r.category}
        for r in rows(
            engine,
            "SELECT ward, category FROM ward_mapping WHERE facility_id = :f ORDER BY ward",
            f=ERASMUS,
        )
    ]
    sent = [ward_map(k) for k in range(ROUNDS)]
    assert stored in sent  # one whole map, never a mix of two
    trail = chain(engine)
    assert len(trail) == ROUNDS and trail[-1]["wards"] == stored
    for earlier, later in itertools.pairwise(trail):
        assert later["before"] == earlier["wards"]  # nothing happened in between unseen
