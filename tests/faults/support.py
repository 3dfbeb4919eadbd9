"""Processes the fault tests start and kill: the scheduler, Valkey, and plain SQL access."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from tests import servers
from tests.conftest import _sync_url

SECRET = "test-secret-key-for-the-fault-tests-0123456789"
REGION = "zuidwest"
ERASMUS = "erasmus-mc-rotterdam"
IKAZIA = "ikazia-ziekenhuis-rotterdam"
MAASSTAD = "maasstad-ziekenhuis-rotterdam"
SOPHIA = "geboortecentrum-sophia-rotterdam"


class Server(servers.Server):
    """An app instance of the fault tests: fixed secret, frequent pings, no frontend."""

    defaults = {**servers.Server.defaults, "secret_key": SECRET, "ws_ping_seconds": "1"}


class Scheduler(servers.Child):
    """A ``capacity scheduler`` process."""

    defaults = {"secret_key": SECRET}
    name = "scheduler"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "capacity.cli", "scheduler"]

    def start(self) -> Scheduler:
        return self.launch()


def sql(url: str) -> Engine:
    return create_engine(_sync_url(url), poolclass=NullPool)


def rows(engine: Engine, query: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(query), params))


def token(server: Server, username: str) -> str:
    response = httpx.post(
        server.url + "/api/v1/auth/token", data={"username": username, "password": "demo"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def wait_for(check: Any, timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def flush(url: str) -> None:
    redis.Redis.from_url(url).flushall()


@dataclass
class Answers:
    """What one writer sent and what the service answered."""

    facility: str
    accepted: list[tuple[int, int]] = field(default_factory=list)  # (version, available)
    refused: list[int] = field(default_factory=list)  # status codes other than 200
    errors: list[str] = field(default_factory=list)


async def write_until(server: Server, admin: str, answers: Answers, stop: asyncio.Event) -> None:
    """PUT changing delivery-room figures for ``answers.facility`` until ``stop``; note answers."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        i = 0
        while not stop.is_set():
            i += 1
            available = i % 9
            try:
                response = await http.put(
                    f"/api/v1/facilities/{answers.facility}/capacity",
                    json={"categories": {"delivery_room": {"available": available, "staffed": 9}}},
                    headers={"Authorization": f"Bearer {admin}"},
                )
            except httpx.HTTPError as exc:
                answers.errors.append(repr(exc))
                continue
            if response.status_code == 200:
                answers.accepted.append((response.json()["version"], available))
            else:
                answers.refused.append(response.status_code)
                await asyncio.sleep(0.05)
