"""Real server processes and real websocket clients for the live-stream tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from websockets.asyncio.client import ClientConnection

REGION = "zuidwest"
ERASMUS = "erasmus-mc-rotterdam"
IKAZIA = "ikazia-ziekenhuis-rotterdam"
NOORD = "noord"  # a region no other test of the module changes
UMCG = "universitair-medisch-centrum-groningen"
SECRET = "test-secret-key-for-the-live-stream-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``uvicorn capacity.main:create_app --factory`` in a child process on a loopback port."""

    def __init__(self, *, database_url: str, redis_url: str, data_dir: Path, **extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "CAPACITY_DATABASE_URL": database_url,
            "CAPACITY_REDIS_URL": redis_url,
            "CAPACITY_DATA_DIR": str(data_dir),
            "CAPACITY_SECRET_KEY": SECRET,
            "CAPACITY_AUTO_SETUP": "false",
            "CAPACITY_DEMO_DATA": "false",
            "CAPACITY_EXPIRY_INTERVAL_SECONDS": "3600",
            "CAPACITY_WS_PING_SECONDS": "1",
            "CAPACITY_FRONTEND_DIR": str(data_dir / "no-frontend"),
            **{f"CAPACITY_{k.upper()}": v for k, v in extra.items()},
        }
        self.log = data_dir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Server:
        return self.launch().wait(timeout)

    def launch(self) -> Server:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", "capacity.main:create_app", "--factory",
                    "--host", "127.0.0.1", "--port", str(self.port),
                    "--ws-per-message-deflate", "false", "--log-level", "warning",
                ],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def wait(self, timeout: float = 30.0) -> Server:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None


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
        f["facility_id"]: (f["version"], f["categories"], f["stop"])
        for f in picture["facilities"]
    }
