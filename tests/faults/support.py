"""Processes the fault tests start and kill: the scheduler, Valkey, and plain SQL access."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
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

    defaults = {"secret_key": SECRET, "ws_ping_seconds": "1"}

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, no goodbye to clients."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None


class Scheduler:
    """A ``capacity scheduler`` process."""

    def __init__(self, *, database_url: str, redis_url: str, data_dir: Path, **extra: str):
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "database_url": database_url,
            "redis_url": redis_url,
            "data_dir": str(data_dir),
            "secret_key": SECRET,
            **extra,
        }
        self.env = {**os.environ, **{f"CAPACITY_{k.upper()}": v for k, v in settings.items()}}
        self.log = data_dir / f"scheduler-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Scheduler:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "capacity.cli", "scheduler"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=servers.ROOT,
            )
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None


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
