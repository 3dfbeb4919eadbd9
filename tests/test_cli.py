"""The `capacity` command line, run as a real process against its own database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from capacity.main import create_app
from capacity.settings import Settings
from tests.conftest import ERASMUS

CLI = str(Path(sys.executable).parent / "capacity")
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def cli(tmp_path: Path, db_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPACITY_")}
    env.update(
        CAPACITY_DATA_DIR=str(tmp_path / "var"),
        CAPACITY_DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
    )

    def run(*args: str, ok: bool = True, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [CLI, *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


def count(db_path: Path, table: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def test_migrate_creates_the_schema(cli: Run, db_path: Path) -> None:
    assert "schema up to date" in cli("migrate").stdout
    assert count(db_path, "facility") == 0
    cli("migrate")  # twice is fine


def test_seed_is_idempotent(cli: Run, db_path: Path) -> None:
    assert "seeded 10 regions and 76 facilities" in cli("seed").stdout
    assert "seeded 0 regions and 0 facilities" in cli("seed").stdout
    assert (count(db_path, "region"), count(db_path, "facility")) == (10, 76)


def test_demo_users_lists_the_contracts_accounts(cli: Run) -> None:
    out = cli("demo-users").stdout
    names = {line.split()[0] for line in out.splitlines()[2:] if line.strip()}
    assert {"midwife", "analyst", "admin", "analyst-zuidwest", f"staff-{ERASMUS}"} <= names
    assert len(names) == 1 + 10 + 1 + 1 + 76
    assert "demo" in out.splitlines()[0]


def test_users_add_creates_an_account(cli: Run, db_path: Path) -> None:
    cli("seed")
    done = cli("users", "add", "j.jansen", "--role", "facility_staff", "--facility", ERASMUS,
               stdin="a-long-password\n")  # fmt: skip
    assert "added j.jansen (facility_staff)" in done.stdout
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT role, facility_id, password_hash FROM user WHERE username='j.jansen'"
        ).fetchone()
    assert row[:2] == ("facility_staff", ERASMUS)
    assert "a-long-password" not in row[2]
    again = cli("users", "add", "j.jansen", "--role", "midwife", stdin="another-one\n", ok=False)
    assert again.returncode == 2 and "username" in again.stderr
    unbound = cli(
        "users", "add", "x.staff", "--role", "facility_staff", stdin="long-enough\n", ok=False
    )
    assert unbound.returncode == 2 and "facility_id" in unbound.stderr
    on_argv = cli("users", "add", "y", "--role", "midwife", "--password", "seen-in-ps", ok=False)
    assert on_argv.returncode != 0  # no such option: a password never goes on argv


def test_keys_create_prints_a_key_that_works_until_revoked(
    cli: Run, db_path: Path, valkey, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    cli("seed")
    done = cli("keys", "create", "--facility", ERASMUS, "--label", "HiX")
    key = done.stdout.strip().splitlines()[-1]
    key_id = done.stdout.split()[2]
    assert key.startswith("cap_")
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT key_hash FROM api_key").fetchall()
    assert key not in str(stored)  # only the hash is kept
    unknown = cli("keys", "create", "--facility", "nowhere", ok=False)
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr

    import asyncio

    import redis

    redis.Redis.from_url(valkey.url).flushall()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{db_path}", redis_url=valkey.url,
        data_dir=tmp_path / "var", auto_setup=False, demo_data=False,
        frontend_dir=tmp_path / "none",
    )  # fmt: skip

    async def put() -> int:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.put(
                    f"/api/v1/facilities/{ERASMUS}/capacity", headers={"X-API-Key": key},
                    json={"categories": {"delivery_room": {"available": 1, "staffed": 3}}},
                )  # fmt: skip
                return response.status_code

    assert asyncio.run(put()) == 200
    assert f"key {key_id} revoked" in cli("keys", "revoke", key_id).stdout
    assert asyncio.run(put()) == 401
    missing = cli("keys", "revoke", "9999", ok=False)
    assert missing.returncode == 2


def test_keys_revoke_reaches_a_running_service_on_its_embedded_valkey(
    cli: Run, db_path: Path, tmp_path: Path
) -> None:
    """`make run`'s service keeps keys in memory: the command must tell it, not wait for expiry."""
    from tests import servers

    cli("migrate")
    cli("seed")
    created = cli("keys", "create", "--facility", ERASMUS).stdout
    key_id, key = created.split()[2], created.strip().splitlines()[-1]
    server = servers.Server(
        database_url=f"sqlite+aiosqlite:///{db_path}",
        redis_url="",
        data_dir=tmp_path / "var",  # the command's data dir: it finds the embedded Valkey there
    )
    del server.env["CAPACITY_REDIS_URL"]  # no URL: the service starts its embedded Valkey
    server.start(timeout=90)
    try:
        url = f"{server.url}/api/v1/facilities/{ERASMUS}/capacity"
        figures = {"categories": {"delivery_room": {"available": 1, "staffed": 2}}}
        headers = {"X-API-Key": key}
        assert httpx.put(url, json=figures, headers=headers, timeout=10).status_code == 200
        assert httpx.put(url, json=figures, headers=headers, timeout=10).status_code == 200
        assert f"key {key_id} revoked" in cli("keys", "revoke", key_id).stdout
        refused = httpx.put(url, json=figures, headers=headers, timeout=10)
        assert refused.status_code == 401, refused.text
    finally:
        server.stop()


NEW_FACILITY = {
    "id": "geboortecentrum-test",
    "region": "zuidwest",
    "name": "Geboortecentrum Test",
    "kind": "birth_centre",
    "city": "Delft",
    "lat": 52.01,
    "lon": 4.36,
    "phone": "+31 15 000 0000",
}


def test_facilities_add_list_update_and_the_running_picture_follows(
    cli: Run, db_path: Path, tmp_path: Path
) -> None:
    import json

    from tests import servers

    cli("seed")
    bad = cli("facilities", "add", json.dumps({**NEW_FACILITY, "lat": 40}), ok=False)
    assert bad.returncode == 2 and "lat" in bad.stderr
    assert "unknown facility" in cli("facilities", "update", "nowhere", "{}", ok=False).stderr
    added = cli("facilities", "add", json.dumps(NEW_FACILITY)).stdout
    assert "added geboortecentrum-test in zuidwest" in added
    assert (
        "geboortecentrum-test\tzuidwest\tGeboortecentrum Test"
        in cli("facilities", "list", "--region", "zuidwest").stdout
    )

    cli("users", "add", "root", "--role", "admin", stdin="long-enough-pw\n")
    server = servers.Server(
        database_url=f"sqlite+aiosqlite:///{db_path}", redis_url="", data_dir=tmp_path / "var"
    )
    del server.env["CAPACITY_REDIS_URL"]  # the service's embedded Valkey, found by the command
    server.start(timeout=90)
    try:
        admin = httpx.post(
            f"{server.url}/api/v1/auth/token",
            data={"username": "root", "password": "long-enough-pw"},
            timeout=10,
        )
        assert admin.status_code == 200, admin.text
        headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}

        def shown() -> dict[str, Any]:
            picture = httpx.get(
                f"{server.url}/api/v1/regions/zuidwest/capacity", headers=headers, timeout=10
            ).json()
            return next(f for f in picture["facilities"] if f["facility_id"] == NEW_FACILITY["id"])

        assert shown()["categories"] == {}  # in the picture, nothing reported yet
        cli("facilities", "update", NEW_FACILITY["id"], '{"categories": ["delivery_room"]}')
        figures = {"categories": {"delivery_room": {"available": 1, "staffed": 1}}}
        put = httpx.put(
            f"{server.url}/api/v1/facilities/{NEW_FACILITY['id']}/capacity",
            json=figures,
            headers=headers,
            timeout=10,
        )
        assert put.status_code == 200, put.text
        cli("facilities", "update", NEW_FACILITY["id"], '{"categories": ["maternity_bed"]}')
        assert "delivery_room" not in shown()["categories"]  # the running picture followed
    finally:
        server.stop()


def test_keys_create_for_a_hospital_group_binds_every_facility_named(
    cli: Run, db_path: Path
) -> None:
    cli("seed")
    ikazia = "ikazia-ziekenhuis-rotterdam"
    done = cli("keys", "create", "--facility", ERASMUS, "--facility", ikazia, "--label", "Epic")
    assert f"for {ERASMUS}, {ikazia}" in done.stdout
    key_id = int(done.stdout.split()[2])
    with sqlite3.connect(db_path) as conn:
        bound = conn.execute(
            "SELECT facility_id FROM api_key_facility WHERE api_key_id = ? ORDER BY facility_id",
            (key_id,),
        ).fetchall()
    assert [f for (f,) in bound] == sorted([ERASMUS, ikazia])
    twice = cli("keys", "create", "--facility", ERASMUS, "--facility", ERASMUS, ok=False)
    assert twice.returncode == 2 and "facility_ids" in twice.stderr
    rotated = cli("keys", "rotate", "--facility", ikazia)  # found by its second facility too
    assert f"key {key_id} revoked" in rotated.stdout
