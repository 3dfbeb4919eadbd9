"""Logins, account and facility administration, refusals and outcomes arriving all at once.

Issue 10, defect 3: on SQLite these writes opened ordinary (deferred) transactions next to the
locked write path, and concurrent ones failed with "database is locked" as 503 (two logins at
once: one 503; eight at once: six). Promise: none of them ever gets a 5xx, and every write that
was answered 2xx is in SQL.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import Engine

from tests.concurrency.conftest import Launch
from tests.concurrency.support import OUTCOME, Calls, bearer, refusal, token
from tests.faults.support import rows

REGION = "zuidwest"
LOGINS = 10  # each costs an argon2 verify: about a second of CPU on a loaded CI machine


def _login(calls: Calls, http: httpx.AsyncClient, username: str):  # type: ignore[no-untyped-def]
    return calls.send(
        http, "POST", "/api/v1/auth/token", data={"username": username, "password": "demo"}
    )


async def test_many_logins_at_once_all_succeed(launch: Launch) -> None:
    (server,) = launch()
    calls = Calls()
    async with httpx.AsyncClient(base_url=server.url) as http:
        listed = await http.get(
            f"/api/v1/facilities?region={REGION}", headers=bearer(await token(http, "admin"))
        )
        names = ["midwife", "admin"] + [f"staff-{f['id']}" for f in listed.json()]
        for _ in range(2):
            answers = await asyncio.gather(
                *(_login(calls, http, names[i % len(names)]) for i in range(LOGINS))
            )
            assert not calls.failures, calls.report()
            assert all(a is not None and a.status_code == 200 for a in answers), calls.report()


async def test_admin_writes_refusals_and_outcomes_at_once_get_no_5xx(
    launch: Launch, engine: Engine
) -> None:
    (server,) = launch()
    calls = Calls()
    async with httpx.AsyncClient(
        base_url=server.url, limits=httpx.Limits(max_connections=200)
    ) as http:
        admin, midwife = await token(http, "admin"), await token(http, "midwife")
        listed = (
            await http.get(f"/api/v1/facilities?region={REGION}", headers=bearer(admin))
        ).json()[:8]
        made = []
        for f in listed:
            response = await http.post(
                "/api/v1/refusals",
                json=refusal(f["id"], f["categories"][0]),
                headers=bearer(midwife),
            )
            assert response.status_code == 201, response.text
            made.append(response.json()["id"])
        work = [_login(calls, http, n) for n in ["midwife", "admin"] * 3]
        work += [
            calls.send(
                http,
                "POST",
                "/api/v1/users",
                json={"username": f"conc-user-{i}", "password": "not-a-demo-pw", "role": "midwife"},
                headers=bearer(admin),
            )
            for i in range(4)
        ]
        work += [
            calls.send(
                http,
                "PATCH",
                f"/api/v1/facilities/{f['id']}",
                json={"phone": f"010 200 00{i:02d}"},
                headers=bearer(admin),
            )
            for i, f in enumerate(listed)
        ]
        work += [
            calls.send(http, "POST", f"/api/v1/facilities/{f['id']}/keys", headers=bearer(admin))
            for f in listed
        ]
        work += [
            calls.send(
                http,
                "POST",
                "/api/v1/refusals",
                json=refusal(f["id"], f["categories"][0]),
                headers=bearer(midwife),
            )
            for f in listed
        ]
        work += [
            calls.send(
                http, "PATCH", f"/api/v1/refusals/{i}", json=OUTCOME, headers=bearer(midwife)
            )
            for i in made
        ]
        answers = await asyncio.gather(*work)
    assert not calls.failures, calls.report()
    refused = [
        f"{a.request.method} {a.request.url.path}: {a.status_code} {a.text[:200]}"
        for a in answers
        if a is not None and a.status_code >= 300
    ]
    assert not refused, refused
    users = {r.username for r in rows(engine, 'SELECT username FROM "user"')}
    assert {f"conc-user-{i}" for i in range(4)} <= users
    keys = [r.facility_id for r in rows(engine, "SELECT facility_id FROM api_key")]
    assert sorted(keys) == sorted(f["id"] for f in listed)
    refusals = rows(engine, "SELECT id, outcome FROM refusal")
    assert len(refusals) == 2 * len(listed)
    assert {r.id for r in refusals if r.outcome == "placed_outside_region"} == set(made)
    phones = {r.id: r.phone for r in rows(engine, "SELECT id, phone FROM facility")}
    assert all(phones[f["id"]] == f"010 200 00{i:02d}" for i, f in enumerate(listed))
