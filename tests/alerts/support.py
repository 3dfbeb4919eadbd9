"""Waiting for what a user would notice, without blocking the app's event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

ERASMUS = "erasmus-mc-rotterdam"
IKAZIA = "ikazia-ziekenhuis-rotterdam"


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 10.0) -> None:
    end = time.monotonic() + within
    while True:
        outcome = check()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.05)


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    answer = await client.post("/api/v1/alerts/subscriptions", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def app_alerts(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/alerts", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def declare_stop(client: httpx.AsyncClient, headers: dict[str, str], reason: str) -> None:
    answer = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": reason}, headers=headers
    )
    assert answer.status_code == 200, answer.text


async def lift_stop(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    answer = await client.delete(f"/api/v1/facilities/{ERASMUS}/stop", headers=headers)
    assert answer.status_code == 200, answer.text


async def set_figures(
    client: httpx.AsyncClient, headers: dict[str, str], category: str, available: int
) -> None:
    body = {"categories": {category: {"available": available, "staffed": max(available, 6)}}}
    answer = await client.put(f"/api/v1/facilities/{ERASMUS}/capacity", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
