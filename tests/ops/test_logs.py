"""No token, key or password in the logs of a real server; JSON lines in production mode."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets

from capacity.observability.logs import redact
from capacity.storage.redis import EmbeddedValkey
from tests import servers
from tests.conftest import Databases

SECRET = "ops-test-secret-key-0123456789-abcdefghij"


class ServeCommand(servers.Server):
    """``capacity serve`` itself in production mode: the deployment's logging, access log on."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.env.update(
            CAPACITY_MODE="production",
            CAPACITY_SECRET_KEY=SECRET,
            CAPACITY_HOST="127.0.0.1",
            CAPACITY_PORT=str(self.port),
        )

    def command(self) -> list[str]:
        return [sys.executable, "-m", "capacity.cli", "serve"]


@pytest.fixture
def server(databases: Databases, valkey: EmbeddedValkey, tmp_path: Path) -> Iterator[ServeCommand]:
    redis.Redis.from_url(valkey.url).flushall()
    running = ServeCommand(
        database_url=databases.fresh(), redis_url=valkey.url, data_dir=tmp_path / "srv"
    )
    running.start()
    yield running  # type: ignore[misc]
    running.stop()


async def test_tokens_keys_and_passwords_never_reach_the_log(server: ServeCommand) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        login = await http.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "demo"}
        )
        token = login.json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        key = await http.post("/api/v1/facilities/erasmus-mc-rotterdam/keys", headers=bearer)
        api_key = key.json()["key"]
        # secrets in query strings, as a careless client might send them
        await http.get(f"/api/v1/regions?token={token}&password=hunter2secret", headers=bearer)
        await http.get("/api/v1/regions", headers={"X-API-Key": api_key})
    url = f"{server.ws_url}/ws/regions/zuidwest?token={token}"
    async with websockets.connect(url) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
    server.stop()

    text = server.log.read_text()
    assert token not in text
    assert token.split(".")[2] not in text  # not even the signature
    assert api_key not in text
    assert "hunter2secret" not in text
    assert "token=[redacted]" in text  # the websocket URL and the query were logged, redacted
    websocket = [line for line in text.splitlines() if "WebSocket /ws/regions/zuidwest" in line]
    assert websocket and all("?token=[redacted]" in line for line in websocket)
    lines = [line for line in text.splitlines() if line.startswith("{")]
    assert lines, text
    access = [json.loads(line) for line in lines if "GET /api/v1/regions" in line]
    assert access, text
    for entry in access:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["logger"] == "uvicorn.access"


def test_redact_covers_bearer_headers_keys_and_passwords() -> None:
    assert "abc.def.ghi" not in redact("Authorization: Bearer abc.def.ghi")
    assert "cap_" + "x" * 20 not in redact("X-API-Key: cap_" + "x" * 20)
    assert "s3cret" not in redact("username=a&password=s3cret")
    assert redact("GET /ws/regions/noord?token=e.y.J&since=4") == (
        "GET /ws/regions/noord?token=[redacted]&since=4"
    )


def test_redact_covers_hashes_episodes_and_sql_parameters() -> None:
    argon2 = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
    episode = "3f1c0a9b8e7d6c5b4a39281706f5e4d3"
    digest = "ab" * 32
    line = "\n".join(
        [
            "(sqlite3.OperationalError) database is locked",
            '[SQL: INSERT INTO "user" (username, password_hash) VALUES (?, ?)]',
            f"[parameters: ('nurse', '{argon2}')]",
            "(Background on this error at: https://sqlalche.me)",
        ]
    )
    cleaned = redact(line)
    assert "$argon2" not in cleaned and "nurse" not in cleaned
    assert 'INSERT INTO "user"' in cleaned and "[parameters: redacted]" in cleaned
    assert argon2 not in redact(f"stored {argon2} for nurse")
    assert episode not in redact(f"refusal of episode {episode}")
    assert digest not in redact(f"key_hash={digest}") and digest not in redact(digest)
    assert "s3cret" not in redact("{'password': 's3cret', \"episode\": \"x\"}")
    assert redact("request 9f2c4e1a7b3d5f60 took 4 ms") == "request 9f2c4e1a7b3d5f60 took 4 ms"
