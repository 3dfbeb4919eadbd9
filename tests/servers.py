"""A real service for tests that need one: ``uvicorn capacity.main:create_app --factory`` in a
child process on a free loopback port, configured through CAPACITY_* variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL and reap."""
    process.kill()
    process.wait(5)


def end(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM; SIGKILL if it has not ended within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        kill(process)


class Child:
    """A child process of the project, configured through CAPACITY_* variables, its output in a
    log file; ``defaults`` (CAPACITY_* without the prefix) may be set per subclass."""

    defaults: dict[str, str] = {}
    name = "child"

    def __init__(self, *, database_url: str, redis_url: str, data_dir: Path, **extra: str):
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "database_url": database_url,
            "redis_url": redis_url,
            "data_dir": str(data_dir),
            **self.defaults,
            **extra,
        }
        self.env = {**os.environ, **{f"CAPACITY_{k.upper()}": v for k, v in settings.items()}}
        self.log = data_dir / f"{self.name}-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def launch(self) -> Self:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
            )
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, no goodbye to anyone."""
        if self.process is not None:
            kill(self.process)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            end(self.process, grace=10)
            self.process = None


class Server(Child):
    """One server process (uvicorn with the app factory) on a free loopback port."""

    defaults = {"auto_setup": "false", "demo_data": "false", "expiry_interval_seconds": "3600"}
    name = "server"
    ws = "capacity.realtime.transport:FrameWebSocketProtocol"  # as `capacity serve` runs it

    def __init__(self, *, database_url: str, redis_url: str, data_dir: Path, **extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        super().__init__(database_url=database_url, redis_url=redis_url, data_dir=data_dir, **extra)

    def command(self) -> list[str]:
        return [
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
        ]

    def start(self, timeout: float = 90.0) -> Self:
        return self.launch().wait(timeout)

    def wait(self, timeout: float = 90.0) -> Self:
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


S = TypeVar("S", bound=Server)


@contextmanager
def running(pair: list[S], timeout: float = 90.0) -> Iterator[list[S]]:
    """Start the servers side by side (all launched, then each waited for); stopped after."""
    for server in pair:
        server.launch()
    try:
        yield [server.wait(timeout) for server in pair]
    finally:
        for server in pair:
            server.stop()
