"""Revoking things while Redis is down: the change is made, and the answer says so.

Found by attacking the issue 11 work: a password change, an admin reset, a deactivation or a
key rotation committed its change in SQL, then failed to announce it in Redis and answered 503
"nothing was changed, try again". The password was changed all the same (the retry got "not
the current password"), the account was deactivated, and a rotation's new key, shown in that
answer only, was lost while the old key was already revoked: the hospital's system was locked
out. The announcement is the fast path only; processes that cannot read it reread accounts and
keys (capacity/auth/access.py, capacity/realtime/sessions.py). SQLite and PostgreSQL
(CAPACITY_TEST_DATABASE_URL).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from capacity.storage.redis import EmbeddedValkey
from tests.conftest import Databases
from tests.faults.support import ERASMUS, Server, token


@pytest.fixture
def server_without_redis(databases: Databases, tmp_path) -> Iterator[tuple[Server, dict[str, str]]]:  # type: ignore[no-untyped-def]
    valkey = EmbeddedValkey(tmp_path / "valkey").start()
    server = Server(
        database_url=databases.fresh(), redis_url=valkey.url, data_dir=tmp_path / "server"
    ).start()
    try:
        tokens = {name: token(server, name) for name in ("admin", "analyst", "midwife")}
        valkey.kill()
        yield server, tokens
    finally:
        server.stop()
        valkey.stop()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def test_revocations_while_redis_is_down_are_made_and_answered(
    server_without_redis: tuple[Server, dict[str, str]],
) -> None:
    server, tokens = server_without_redis
    admin = bearer(tokens["admin"])
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        key = await http.post(f"/api/v1/facilities/{ERASMUS}/keys", headers=admin)
        assert key.status_code == 201, key.text
        rotated = await http.post(f"/api/v1/keys/{key.json()['id']}/rotate", headers=admin)
        assert rotated.status_code == 201, rotated.text  # the new key reaches the admin
        assert rotated.json()["key"].startswith("cap_")
        change = await http.post(
            "/api/v1/auth/password",
            json={"current_password": "demo", "new_password": "changed-in-an-outage"},
            headers=bearer(tokens["midwife"]),
        )
        assert change.status_code == 200, change.text
        assert (
            await http.get("/api/v1/regions", headers=bearer(tokens["midwife"]))
        ).status_code == 401
        fresh = bearer(change.json()["access_token"])
        assert (await http.get("/api/v1/regions", headers=fresh)).status_code == 200
        reset = await http.post(
            "/api/v1/users/midwife/password",
            json={"new_password": "reset-in-an-outage"},
            headers=admin,
        )
        assert reset.status_code == 204, reset.text
        assert (await http.get("/api/v1/regions", headers=fresh)).status_code == 401
        off = await http.patch("/api/v1/users/analyst", json={"active": False}, headers=admin)
        assert off.status_code == 200, off.text
        assert (
            await http.get("/api/v1/regions", headers=bearer(tokens["analyst"]))
        ).status_code == 401
