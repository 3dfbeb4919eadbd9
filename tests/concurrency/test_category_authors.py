"""Who set each category last, with colleagues and the hospital's system writing at once (12.6).

Two server processes; a nurse, her colleague and the facility's API key write the same ward's
categories concurrently, one category each plus one they share. Promise: no 5xx; every answer
names, per category, the author of the newest accepted write of it at that answer's version;
and afterwards the public picture, Redis and SQL all name the same author per category.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import Engine

from tests.concurrency.conftest import Launch
from tests.concurrency.support import Calls, bearer, settled, token
from tests.faults.support import rows

REGION = "zuidwest"
WARD = "erasmus-mc-rotterdam"
ROUNDS = 12
SHARED = "delivery_room"


async def test_each_category_names_its_last_writer_under_concurrent_writes(
    launch: Launch, engine: Engine, valkey
) -> None:  # type: ignore[no-untyped-def]
    servers = launch(2)
    calls = Calls()
    async with httpx.AsyncClient(
        base_url=servers[0].url, limits=httpx.Limits(max_connections=100)
    ) as http:
        admin = bearer(await token(http, "admin"))
        made = await http.post(
            f"/api/v1/facilities/{WARD}/keys", json={"label": "HiX"}, headers=admin
        )
        key = {"X-API-Key": made.json()["key"]}
        colleague = {
            "username": "nurse-b",
            "password": "night-shift-42",
            "role": "facility_staff",
            "facility_id": WARD,
        }
        assert (await http.post("/api/v1/users", json=colleague, headers=admin)).status_code == 201
        answer = await http.post(
            "/api/v1/auth/token", data={"username": "nurse-b", "password": "night-shift-42"}
        )
        writers: dict[str, tuple[dict[str, str], str]] = {
            f"staff-{WARD}": (bearer(await token(http, f"staff-{WARD}")), "maternity_bed"),
            "nurse-b": (bearer(answer.json()["access_token"]), "nicu"),
            f"key:{WARD}": (key, "obstetric_high_care"),
        }
        accepted: list[tuple[int, str, str, dict[str, Any]]] = []  # version, author, cat, entry

        async def write(author: str, headers: dict[str, str], own: str) -> None:
            for n in range(ROUNDS):
                category = SHARED if n % 2 else own
                body = {"categories": {category: {"available": n % 5, "staffed": 9}}}
                base = servers[n % 2].url  # both processes take writes
                response = await calls.send(
                    http,
                    "PUT",
                    f"{base}/api/v1/facilities/{WARD}/capacity",
                    json=body,
                    headers=headers,
                )
                if response is not None and response.status_code == 200:
                    entry = response.json()
                    accepted.append((entry["version"], author, category, entry))

        await asyncio.gather(*(write(a, h, c) for a, (h, c) in writers.items()))
        assert not calls.failures, calls.report()
        assert len(accepted) == ROUNDS * len(writers), calls.report()

        # Every answer: per category, the author of the newest write of it up to its version.
        accepted.sort(key=lambda a: a[0])
        assert len({a[0] for a in accepted}) == len(accepted)  # each write its own version
        for version, _, _, entry in accepted:
            for category, fig in entry["categories"].items():
                last = [a for v, a, c, _ in accepted if c == category and v <= version][-1]
                assert fig["updated_by"] == last, (version, category, fig, last)
                label = "HiX" if last.startswith("key:") else None
                assert fig["updated_by_label"] == label, (version, category, fig)

        midwife = await token(http, "midwife")
        assert await settled(http, midwife, engine, valkey.url, REGION) == []
        picture = await http.get(f"/api/v1/regions/{REGION}/capacity", headers=bearer(midwife))
        shown = next(f for f in picture.json()["facilities"] if f["facility_id"] == WARD)
    stored = {
        c: by
        for c, by in rows(
            engine,
            "SELECT category, updated_by FROM capacity_figure WHERE facility_id = :f",
            f=WARD,
        )
    }
    final = {c: [a for _, a, cat, _ in accepted if cat == c][-1] for c in stored}
    assert {c: f["updated_by"] for c, f in shown["categories"].items()} == final
    for c, author in final.items():  # SQL keeps the actor: user:<name>, or key:<the key>
        assert stored[c] == (f"user:{author}" if not author.startswith("key:") else stored[c])
        assert stored[c].startswith("key:") == author.startswith("key:")
