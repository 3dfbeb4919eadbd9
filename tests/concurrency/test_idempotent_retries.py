"""Issue 14.2: a hospital's system retries one push many times at once, on two server processes.

Each round sends the same figures with the same Idempotency-Key eight times at once, spread over
two processes sharing one database and Valkey. Promise: exactly one change per round (one
history row, the facility's version up by one); exactly one answer is the first one, every other
is its replay (the same body, ``Idempotent-Replayed: true``) or 409 "still in progress"; no 5xx.
An API key's retries and an account's retries behave alike.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import Engine

from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, token
from tests.faults.support import rows

ERASMUS = "erasmus-mc-rotterdam"
ROUNDS = 12
AT_ONCE = 8


def changes(engine: Engine) -> int:
    found = rows(
        engine, "SELECT count(*) AS n FROM capacity_change WHERE facility_id = :f", f=ERASMUS
    )
    return int(found[0].n)


async def test_concurrent_retries_with_one_key_make_one_change(
    launch: Launch, engine: Engine
) -> None:
    servers = launch(2)
    calls = Calls()
    async with (
        httpx.AsyncClient(base_url=servers[0].url) as a,
        httpx.AsyncClient(base_url=servers[1].url) as b,
    ):
        staff = bearer(await token(a, f"staff-{ERASMUS}"))
        admin = bearer(await token(a, "admin"))
        made = await a.post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
        system = {"X-API-Key": made.json()["key"]}
        for n in range(ROUNDS):
            caller = staff if n % 2 else system
            headers = {**caller, "Idempotency-Key": f"round-{n}"}
            body = {"categories": {"nicu": {"available": n % 10, "staffed": 10}}}
            before = changes(engine)
            answers = await asyncio.gather(
                *(
                    calls.send(
                        (a, b)[i % 2],
                        "PUT",
                        f"/api/v1/facilities/{ERASMUS}/capacity",
                        json=body,
                        headers=headers,
                    )
                    for i in range(AT_ONCE)
                )
            )
            assert not calls.failures, calls.report()
            got = [r for r in answers if r is not None]
            first = [
                r for r in got if r.status_code == 200 and "idempotent-replayed" not in r.headers
            ]
            replays = [r for r in got if r.headers.get("idempotent-replayed") == "true"]
            busy = [r for r in got if r.status_code == 409]
            assert len(first) == 1, [(r.status_code, r.text[:100]) for r in got]
            assert len(first) + len(replays) + len(busy) == AT_ONCE
            assert all(r.content == first[0].content for r in replays)
            assert changes(engine) == before + 1
            version = int(first[0].json()["version"])
            shown = await a.get(f"/api/v1/facilities/{ERASMUS}/capacity", headers=staff)
            assert shown.json()["version"] == version


async def test_a_group_key_and_an_admin_retrying_concurrently(
    launch: Launch, engine: Engine
) -> None:
    """A hospital group's key pushes for its two facilities at once on both processes (each
    push retried with its key), while an admin's key creation is retried: one change per push,
    one key made, and the group key is refused for a third facility."""
    ikazia, sophia = "ikazia-ziekenhuis-rotterdam", "geboortecentrum-sophia-rotterdam"
    servers = launch(2)
    calls = Calls()
    async with (
        httpx.AsyncClient(base_url=servers[0].url) as a,
        httpx.AsyncClient(base_url=servers[1].url) as b,
    ):
        admin = {**bearer(await token(a, "admin")), "Idempotency-Key": "group-key-1"}
        made = await asyncio.gather(
            *(
                calls.send(
                    (a, b)[i % 2],
                    "POST",
                    "/api/v1/keys",
                    json={"facility_ids": [ERASMUS, ikazia]},
                    headers=admin,
                )
                for i in range(AT_ONCE)
            )
        )
        assert not calls.failures, calls.report()
        created = {r.json()["id"] for r in made if r is not None and r.status_code == 201}
        assert len(created) == 1
        assert rows(engine, "SELECT count(*) AS n FROM api_key")[0].n == 1
        key = next(r for r in made if r is not None and r.status_code == 201).json()["key"]
        before = {
            f: int(rows(engine, "SELECT version FROM facility WHERE id = :f", f=f)[0].version)
            for f in (ERASMUS, ikazia)
        }
        pushes = []
        for n in range(ROUNDS):
            for facility in (ERASMUS, ikazia):
                body = {"categories": {"delivery_room": {"available": n % 4, "staffed": 4}}}
                headers = {"X-API-Key": key, "Idempotency-Key": f"{facility}-{n}"}
                pushes += [
                    calls.send(
                        (a, b)[i % 2],
                        "PUT",
                        f"/api/v1/facilities/{facility}/capacity",
                        json=body,
                        headers=headers,
                    )
                    for i in range(3)
                ]
        answers = await asyncio.gather(*pushes)
        assert not calls.failures, calls.report()
        assert all(r is not None and r.status_code in (200, 409) for r in answers)
        for facility in (ERASMUS, ikazia):
            version = rows(engine, "SELECT version FROM facility WHERE id = :f", f=facility)[0]
            assert int(version.version) == before[facility] + ROUNDS
        other = await a.put(
            f"/api/v1/facilities/{sophia}/capacity",
            json={"categories": {"delivery_room": {"available": 1, "staffed": 4}}},
            headers={"X-API-Key": key},
        )
        assert other.status_code == 403
