"""Issue 12.1: a facility's numbers replaced by many clients at once, on two server processes.

Staff, an admin and CSV imports replace the set of the same facility concurrently. Promise: no
5xx and no hang; what SQL holds afterwards is exactly one of the sets sent (never a mix of two),
and the audit trail is one unbroken chain: each change's "before" is the previous change's set,
so no answered change was silently lost in between.
"""

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
IKAZIA = "ikazia-ziekenhuis-rotterdam"
TYPES = ["verloskunde", "neonatologie", "coordinator"]
ROUNDS = 30


def contact_set(k: int) -> list[dict[str, Any]]:
    """Set k: a different subset of types each time, each number naming k and its type."""
    chosen = [t for i, t in enumerate(TYPES) if (k + i) % 3 != 0] or TYPES[:1]
    return [
        {"type": t, "phone": f"+31 10 55{TYPES.index(t)} {k:04d}", "demo": False} for t in chosen
    ]


def csv_of(k: int) -> str:
    lines = ["facility_id;type;phone"]
    for f in (ERASMUS, IKAZIA):
        lines += [f"{f};{c['type']};{c['phone']}" for c in contact_set(k)]
    return "\n".join(lines) + "\n"


def stored(engine: Engine, facility: str) -> list[dict[str, Any]]:
    found = rows(
        engine,
        "SELECT type, phone, demo FROM facility_contact WHERE facility_id = :f",
        f=facility,
    )
    return sorted(
        ({"type": r.type, "phone": r.phone, "demo": bool(r.demo)} for r in found),
        key=lambda c: TYPES.index(c["type"]),
    )


def audit_chain(engine: Engine, facility: str) -> list[dict[str, Any]]:
    found = rows(
        engine,
        "SELECT detail FROM audit_event WHERE action = 'contacts.update' AND entity_id = :f"
        " ORDER BY id",
        f=facility,
    )
    return [json.loads(r.detail) if isinstance(r.detail, str) else r.detail for r in found]


async def test_concurrent_replacements_leave_one_whole_set_and_an_unbroken_audit_chain(
    launch: Launch, engine: Engine
) -> None:
    servers = launch(2)
    calls = Calls()
    clients = [
        httpx.AsyncClient(base_url=s.url, limits=httpx.Limits(max_connections=100)) for s in servers
    ]
    try:
        admin = bearer(await token(clients[0], "admin"))
        staff = bearer(await token(clients[1], f"staff-{ERASMUS}"))
        sends = []
        for k in range(ROUNDS):
            http = clients[k % 2]
            if k % 5 == 4:
                sends.append(
                    calls.send(
                        http,
                        "POST",
                        "/api/v1/contacts/import",
                        content=csv_of(k).encode(),
                        headers={**admin, "Content-Type": "text/csv"},
                    )
                )
            else:
                sends.append(
                    calls.send(
                        http,
                        "PUT",
                        f"/api/v1/facilities/{ERASMUS}/contacts",
                        json={"contacts": contact_set(k)},
                        headers=staff if k % 2 else admin,
                    )
                )
        answers = await asyncio.gather(*sends)
    finally:
        for http in clients:
            await http.aclose()
    assert not calls.failures, calls.report()
    assert all(a is not None and a.status_code == 200 for a in answers), calls.report()

    sent = [contact_set(k) for k in range(ROUNDS)]
    now = stored(engine, ERASMUS)
    assert now in sent  # one whole set, never a mix of two
    chain = audit_chain(engine, ERASMUS)
    assert len(chain) == ROUNDS  # every answered change is in the trail
    assert chain[-1]["contacts"] == now
    for earlier, later in itertools.pairwise(chain):
        assert later["before"] == earlier["contacts"]  # nothing happened in between unseen
    assert sorted(json.dumps(c["contacts"]) for c in chain) == sorted(json.dumps(s) for s in sent)
    ikazia = audit_chain(engine, IKAZIA)
    assert len(ikazia) == ROUNDS // 5 and stored(engine, IKAZIA) == ikazia[-1]["contacts"]
