"""One `capacity serve` per data folder: a second one refuses and leaves the first untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from capacity.storage.redis import EmbeddedValkey
from tests import servers
from tests.conftest import ERASMUS, Databases

CLI = str(Path(sys.executable).parent / "capacity")
FIGURES = {"categories": {"delivery_room": {"available": 1, "staffed": 2}}}


class Serve(servers.Server):
    """``capacity serve`` itself, without CAPACITY_REDIS_URL: it starts its embedded Valkey."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(redis_url="", **kwargs)
        del self.env["CAPACITY_REDIS_URL"]
        self.env.update(CAPACITY_HOST="127.0.0.1", CAPACITY_PORT=str(self.port))

    def command(self) -> list[str]:
        return [CLI, "serve"]


@pytest.fixture
def first(databases: Databases, tmp_path: Path) -> Iterator[Serve]:
    server = Serve(database_url=databases.fresh(), data_dir=tmp_path / "var", workers="2")
    server.start(timeout=90)
    yield server
    server.stop()


def put(server: Serve) -> int:
    token = httpx.post(
        f"{server.url}/api/v1/auth/token",
        data={"username": f"staff-{ERASMUS}", "password": "demo"},
        timeout=10,
    ).json()["access_token"]
    return httpx.put(
        f"{server.url}/api/v1/facilities/{ERASMUS}/capacity",
        json=FIGURES,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).status_code


def test_a_second_serve_in_the_same_data_folder_refuses_and_the_first_keeps_working(
    first: Serve, tmp_path: Path
) -> None:
    valkey_dir = tmp_path / "var" / "valkey"
    url = EmbeddedValkey.running_url(valkey_dir)
    assert url is not None
    valkey_pid = (valkey_dir / "valkey.pid").read_text().strip()
    assert put(first) == 200  # both workers of the first serve share its Valkey

    env = {**first.env, "CAPACITY_PORT": str(servers.free_port())}
    stderr = tmp_path / "second.err"
    with open(stderr, "w") as err_file:
        second = subprocess.Popen(
            [CLI, "serve"], env=env, stderr=err_file, stdout=subprocess.DEVNULL,
            start_new_session=True,  # its workers too can be stopped if it does not refuse
        )  # fmt: skip
    try:
        second.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
        pytest.fail(f"a second serve ran in the same data folder: {stderr.read_text()}")
    err = stderr.read_text()
    assert second.returncode != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert first.process is not None and str(first.process.pid) in lines[0]
    assert str(tmp_path / "var") in lines[0] and "CAPACITY_DATA_DIR" in lines[0]

    assert (valkey_dir / "valkey.pid").read_text().strip() == valkey_pid
    assert redis.Redis.from_url(url).ping()
    for _ in range(4):  # whichever worker answers, its Valkey is the live one
        assert put(first) == 200
    password = (valkey_dir / "password").read_text().strip()
    assert password not in first.log.read_text()  # its Valkey's password is never logged
