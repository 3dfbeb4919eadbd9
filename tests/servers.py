"""A real service for tests that need one: ``uvicorn capacity.main:create_app --factory`` in a
child process on a free loopback port, configured through CAPACITY_* variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One server process; ``defaults`` (CAPACITY_* without the prefix) may be set per subclass."""

    defaults: dict[str, str] = {}
    ws = "capacity.realtime.transport:FrameWebSocketProtocol"  # as `capacity serve` runs it

    def __init__(self, *, database_url: str, redis_url: str, data_dir: Path, **extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "database_url": database_url,
            "redis_url": redis_url,
            "data_dir": str(data_dir),
            "auto_setup": "false",
            "demo_data": "false",
            "expiry_interval_seconds": "3600",
            **self.defaults,
            **extra,
        }
        self.env = {**os.environ, **{f"CAPACITY_{k.upper()}": v for k, v in settings.items()}}
        self.log = data_dir / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Server:
        return self.launch().wait(timeout)

    def launch(self) -> Server:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "capacity.main:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--ws",
                    self.ws,
                    "--ws-per-message-deflate",
                    "false",
                    "--log-level",
                    "warning",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
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
        self.stop()
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
