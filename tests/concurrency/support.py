"""Many concurrent clients against real server processes, and what SQL and Redis hold after.

Every request has a generous client timeout (``TIMEOUT``); a request not answered within it is
a hang and counts as a failure, like any 5xx. Nothing here measures speed.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import redis
from sqlalchemy import Engine

from capacity.storage import keys
from tests.faults.support import rows
from tests.realtime.support import Server

TIMEOUT = 30.0  # seconds a request may take on a loaded CI machine before it counts as a hang
STARTUP = 90.0
Entry = tuple[int, dict[str, tuple[int, int]], str | None]  # version, figures, stop reason


class Calls:
    """Every answer the clients got; a 5xx, a hang or a broken connection is a failure."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.statuses: Counter[int] = Counter()

    async def send(
        self, http: httpx.AsyncClient, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        try:
            response = await http.request(method, path, timeout=TIMEOUT, **kwargs)
        except httpx.TimeoutException:
            self.failures.append(f"{method} {path}: no answer within {TIMEOUT:.0f} s")
            return None
        except httpx.HTTPError as exc:
            self.failures.append(f"{method} {path}: {exc!r}")
            return None
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response

    def report(self) -> str:
        shown = "\n".join(self.failures[:40])
        return f"{len(self.failures)} failed requests (statuses {dict(self.statuses)}):\n{shown}"


async def token(http: httpx.AsyncClient, username: str) -> str:
    response = await http.post(
        "/api/v1/auth/token", data={"username": username, "password": "demo"}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def refusal(facility: str, category: str = "delivery_room") -> dict[str, Any]:
    return {
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "facility_id": facility,
        "category": category,
        "request_type": "medical",
        "reason": "no_nurse",
        "gestational_age_band": ">=37",
        "indication": "failure_to_progress",
    }


OUTCOME = {"outcome": "placed_outside_region", "calls_until_placement": 2}


def figures(categories: list[str], n: int) -> dict[str, Any]:
    return {
        "categories": {
            c: {"available": (n + i) % 10, "staffed": 10} for i, c in enumerate(categories)
        }
    }


# ---- what each side holds --------------------------------------------------------------------


def sql_picture(engine: Engine, region: str) -> dict[str, Entry]:
    """Facility -> (version, figures, stop reason) as SQL (the record) holds them."""
    found = rows(
        engine,
        "SELECT id, version, categories FROM facility WHERE region = :r AND active",
        r=region,
    )
    offered = {
        f.id: set(json.loads(f.categories) if isinstance(f.categories, str) else f.categories)
        for f in found
    }
    figs: dict[str, dict[str, tuple[int, int]]] = {f.id: {} for f in found}
    for row in rows(
        engine,
        "SELECT f.facility_id, f.category, f.available, f.staffed FROM capacity_figure f"
        " JOIN facility ON facility.id = f.facility_id WHERE facility.region = :r",
        r=region,
    ):
        if row.facility_id in figs and row.category in offered[row.facility_id]:
            figs[row.facility_id][row.category] = (row.available, row.staffed)
    stops = {
        row.facility_id: row.reason
        for row in rows(
            engine,
            "SELECT s.facility_id, s.reason FROM stop s"
            " JOIN facility ON facility.id = s.facility_id"
            " WHERE facility.region = :r AND s.ended_at IS NULL",
            r=region,
        )
    }
    return {f.id: (f.version, figs[f.id], stops.get(f.id)) for f in found}


def shown(entries: list[dict[str, Any]]) -> dict[str, Entry]:
    """The same from public entries (GET capacity, websocket messages)."""
    return {
        e["facility_id"]: (
            e["version"],
            {c: (v["available"], v["staffed"]) for c, v in e["categories"].items()},
            e["stop"]["reason"] if e["stop"] else None,
        )
        for e in entries
    }


def redis_picture(url: str, region: str) -> dict[str, Entry]:
    """The same from the region's state hash in Redis, read directly."""
    raw = redis.Redis.from_url(url).hgetall(keys.region_state(region))
    out: dict[str, Entry] = {}
    for facility, value in raw.items():
        state = json.loads(value)
        out[facility.decode()] = (
            state["version"],
            {c: (v["available"], v["staffed"]) for c, v in state["categories"].items()},
            state["stop"]["reason"] if state["stop"] else None,
        )
    return out


def drop_region(url: str, region: str) -> None:
    """Take the region's live picture out of Redis (as after an eviction or a partial restore)."""
    redis.Redis.from_url(url).delete(
        keys.region_seq(region), keys.region_state(region), keys.region_stream(region)
    )


async def until(check: Callable[[], bool], what: str, wait: float = TIMEOUT) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``wait`` seconds."""
    try:
        async with asyncio.timeout(wait):
            while True:
                if check():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {wait:.0f} s waiting for {what}") from None


async def settled(
    http: httpx.AsyncClient, who: str, engine: Engine, redis_url: str, region: str
) -> list[str]:
    """Wait (bounded) until GET capacity and Redis's state hash equal SQL; else say how not."""
    seen: Any = None
    for _ in range(int(TIMEOUT / 0.5)):
        try:
            response = await http.get(
                f"/api/v1/regions/{region}/capacity", headers=bearer(who), timeout=TIMEOUT
            )
        except httpx.HTTPError as exc:
            return [f"GET capacity after the writes: {exc!r}"]
        record = sql_picture(engine, region)
        if response.status_code != 200:
            seen = f"{response.status_code} {response.text[:300]}"
        else:
            seen = shown(response.json()["facilities"])
            if seen == record and redis_picture(redis_url, region) == record:
                return []
        await asyncio.sleep(0.5)
    record = sql_picture(engine, region)
    differ = sorted(f for f in record if not isinstance(seen, dict) or seen.get(f) != record[f])
    kept = redis_picture(redis_url, region)
    return [
        f"live picture of {region} never equalled SQL; differing: {differ}\n"
        + "\n".join(
            f"{f}: SQL {record[f]} shown {seen.get(f) if isinstance(seen, dict) else seen}"
            f" Redis {kept.get(f)}"
            for f in differ[:10]
        )
    ]


__all__ = ["Server"]
