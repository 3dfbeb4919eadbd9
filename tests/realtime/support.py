"""Real server processes and real websocket clients for the live-stream tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from tests import servers

REGION = "zuidwest"
ERASMUS = "erasmus-mc-rotterdam"
IKAZIA = "ikazia-ziekenhuis-rotterdam"
NOORD = "noord"  # a region no other test of the module changes
UMCG = "universitair-medisch-centrum-groningen"
SECRET = "test-secret-key-for-the-live-stream-0123456789"
STARTUP = 90.0  # seconds a server may take to start on a loaded CI machine


class Server(servers.Server):
    """The live-stream tests' server: a fixed secret, pings every second, no frontend."""

    def __init__(self, *, database_url: str, redis_url: str, data_dir: Path, **extra: str):
        super().__init__(
            database_url=database_url,
            redis_url=redis_url,
            data_dir=data_dir,
            secret_key=SECRET,
            ws_ping_seconds="1",
            frontend_dir=str(data_dir / "no-frontend"),
            **extra,
        )


async def token(server: Server, username: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/v1/auth/token", data={"username": username, "password": "demo"}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


async def put_figures(
    http: httpx.AsyncClient, admin: str, facility: str, available: int, staffed: int = 20
) -> dict[str, Any]:
    response = await http.put(
        f"/api/v1/facilities/{facility}/capacity",
        json={"categories": {"delivery_room": {"available": available, "staffed": staffed}}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def connect(
    server: Server, bearer: str, region: str = REGION, since: int | None = None, **kwargs: Any
) -> ClientConnection:
    url = f"{server.ws_url}/ws/regions/{region}?token={bearer}"
    if since is not None:
        url += f"&since={since}"
    return await websockets.connect(url, compression=None, open_timeout=20, **kwargs)


class Picture:
    """What one client knows: the snapshot with every facility message applied in order."""

    def __init__(self) -> None:
        self.seq = 0
        self.facilities: dict[str, Any] = {}
        self.snapshots = 0
        self.changes: list[int] = []  # seqs of the facility messages, in arrival order

    def apply(self, message: dict[str, Any]) -> None:
        if message["type"] == "snapshot":
            self.snapshots += 1
            self.seq = message["seq"]
            self.facilities = {f["facility_id"]: f for f in message["facilities"]}
        elif message["type"] == "facility":
            assert message["seq"] > self.seq, (message["seq"], self.seq)
            self.seq = message["seq"]
            self.changes.append(message["seq"])
            self.facilities[message["facility"]["facility_id"]] = message["facility"]

    async def follow(self, ws: ClientConnection, until_seq: int, wait: float = 30.0) -> None:
        """Read messages until this picture reached ``until_seq``."""
        async with asyncio.timeout(wait):
            while self.seq < until_seq:
                self.apply(orjson.loads(await ws.recv()))


def figures(picture: dict[str, Any]) -> dict[str, Any]:
    """The comparable part of a picture: facility -> (version, categories, stop)."""
    return {
        f["facility_id"]: (f["version"], f["categories"], f["stop"]) for f in picture["facilities"]
    }
