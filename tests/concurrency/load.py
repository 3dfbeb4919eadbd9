"""The mixed load of the concurrency suite: each worker is one client doing one kind of work
until the time is up or it reached its count; answers are kept for the checks after."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from tests.concurrency.support import OUTCOME, Calls, bearer, figures, refusal
from tests.realtime.support import Picture, Server, connect

Facility = dict[str, Any]  # as GET /facilities lists it: id, region, categories, ...


@dataclass(repr=False)
class Load:
    servers: list[Server]
    seconds: float = 4.0  # each worker goes on this long after its first ``min_ops`` ...
    min_ops: int = 3
    max_ops: int = 25  # ... but no further than this
    calls: Calls = field(default_factory=Calls)
    changes: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)  # 2xx entries
    listeners: list[tuple[str, Picture]] = field(default_factory=list)
    started: float = 0.0

    def client(self, n: int) -> httpx.AsyncClient:
        """Client number ``n``: its own connections, to server ``n`` modulo their number."""
        return httpx.AsyncClient(base_url=self.servers[n % len(self.servers)].url)

    async def loop(self, n: int, step: Callable[[httpx.AsyncClient, int], Awaitable[None]]) -> None:
        async with self.client(n) as http:
            i = 0
            end = self.started + self.seconds
            while i < self.min_ops or (i < self.max_ops and time.monotonic() < end):
                await step(http, i)
                i += 1

    def keep(self, answer: httpx.Response | None, facility: str) -> None:
        if answer is not None and answer.status_code == 200:
            self.changes.append((facility, answer.json()["version"], answer.json()))

    # ---- the kinds of work ------------------------------------------------------------------

    def figures(self, n: int, facility: Facility, headers: dict[str, str]) -> Awaitable[None]:
        async def step(http: httpx.AsyncClient, i: int) -> None:
            path = f"/api/v1/facilities/{facility['id']}/capacity"
            body = figures(facility["categories"], n + i)
            self.keep(
                await self.calls.send(http, "PUT", path, json=body, headers=headers), facility["id"]
            )

        return self.loop(n, step)

    def stops(self, n: int, facility: Facility, headers: dict[str, str]) -> Awaitable[None]:
        async def step(http: httpx.AsyncClient, i: int) -> None:
            path = f"/api/v1/facilities/{facility['id']}/stop"
            if i % 2:
                await self.calls.send(http, "DELETE", path, headers=headers)
                return
            until = None if i % 4 else (datetime.now(UTC) + timedelta(days=1)).isoformat()
            body = {"reason": ("beds", "staff", "other")[i % 3], "until": until}
            self.keep(
                await self.calls.send(http, "PUT", path, json=body, headers=headers), facility["id"]
            )

        return self.loop(n, step)

    def refusals(self, n: int, facility: Facility, headers: dict[str, str]) -> Awaitable[None]:
        async def step(http: httpx.AsyncClient, i: int) -> None:
            body = refusal(facility["id"], facility["categories"][0])
            made = await self.calls.send(
                http, "POST", "/api/v1/refusals", json=body, headers=headers
            )
            if made is not None and made.status_code == 201:
                path = f"/api/v1/refusals/{made.json()['id']}"
                await self.calls.send(http, "PATCH", path, json=OUTCOME, headers=headers)

        return self.loop(n, step)

    def logins(self, n: int, username: str, count: int = 2) -> Awaitable[None]:
        async def step(http: httpx.AsyncClient, i: int) -> None:
            if i < count:  # an argon2 verify each: a few suffice
                form = {"username": username, "password": "demo"}
                await self.calls.send(http, "POST", "/api/v1/auth/token", data=form)

        return self.loop(n, step)

    def admin(self, n: int, facility: Facility, headers: dict[str, str]) -> Awaitable[None]:
        async def step(http: httpx.AsyncClient, i: int) -> None:
            if i == 0:
                user = {"username": f"load-{n}", "password": "load-password", "role": "midwife"}
                await self.calls.send(http, "POST", "/api/v1/users", json=user, headers=headers)
            elif i % 2:
                phone = {"phone": f"010 300 {n:02d}{i % 100:02d}"}
                path = f"/api/v1/facilities/{facility['id']}"
                await self.calls.send(http, "PATCH", path, json=phone, headers=headers)
            else:
                path = f"/api/v1/facilities/{facility['id']}/keys"
                await self.calls.send(http, "POST", path, headers=headers)

        return self.loop(n, step)

    async def listen(self, n: int, bearer_token: str, region: str) -> None:
        """A websocket client of the region; its picture is compared with SQL at the end."""
        picture = Picture()
        self.listeners.append((region, picture))
        try:
            ws = await connect(self.servers[n % len(self.servers)], bearer_token, region)
            async with ws:
                async for raw in ws:
                    picture.apply(orjson.loads(raw))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a closed or broken stream is a failure of the suite
            self.calls.failures.append(f"websocket {region} #{n}: {exc!r}")


__all__ = ["bearer"]
