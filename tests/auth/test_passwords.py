"""Own password change, admin reset, lifting a lockout and `capacity users passwd`, against a
real server and its database (issue 11, point 5). Every one of them is audited, none with the
password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.auth.test_login_races import OWNER, STRANGER, client, login
from tests.faults.support import rows, sql
from tests.servers import Server

PASSWORD = "/api/v1/auth/password"
REGIONS = "/api/v1/regions"
CLI = str(Path(sys.executable).parent / "capacity")


async def bearer(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await login(http, username, "demo")
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def audited(server: Server, action: str) -> list[tuple[str, str, str]]:
    engine = sql(server.env["CAPACITY_DATABASE_URL"])
    try:
        query = "SELECT actor, entity_id, detail FROM audit_event WHERE action = :a ORDER BY id"
        return [(r.actor, r.entity_id, str(r.detail)) for r in rows(engine, query, a=action)]
    finally:
        engine.dispose()


def named_field(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["message"]).split(":")[0]


async def test_a_user_changes_her_own_password(api_server: Server) -> None:
    async with client(api_server) as http:
        me = await bearer(http, "midwife")
        wrong = {"current_password": "not-it", "new_password": "a-new-secret"}
        assert named_field(await http.post(PASSWORD, json=wrong, headers=me)) == "current_password"
        short = {"current_password": "demo", "new_password": "short"}
        assert named_field(await http.post(PASSWORD, json=short, headers=me)) == "new_password"
        other_device = await bearer(http, "midwife")
        right = {"current_password": "demo", "new_password": "a-new-secret"}
        changed = await http.post(PASSWORD, json=right, headers=me)
        assert changed.status_code == 200, changed.text
        this_device = {"Authorization": f"Bearer {changed.json()['access_token']}"}
        # every token from before is revoked; the answer's new one keeps this device signed in
        for old in (me, other_device):
            assert (await http.get(REGIONS, headers=old)).status_code == 401
        assert (await http.get(REGIONS, headers=this_device)).status_code == 200
        assert (await login(http, "midwife", "demo")).status_code == 401
        assert (await login(http, "midwife", "a-new-secret")).status_code == 200
    changes = audited(api_server, "user.password_change")
    assert [(actor, who) for actor, who, _ in changes] == [("user:midwife", "midwife")]
    assert "a-new-secret" not in str(changes)


async def test_wrong_current_passwords_count_as_failed_logins(api_server: Server) -> None:
    """A borrowed token cannot be used to guess the password: the login limit applies."""
    async with client(api_server) as http:
        me = await bearer(http, "midwife")
        wrong = {"current_password": "guess", "new_password": "a-new-secret"}
        statuses = [
            (await http.post(PASSWORD, json=wrong, headers=me)).status_code for _ in "123456"
        ]
        assert statuses == [422] * 5 + [429]


async def test_an_admin_resets_a_password(api_server: Server) -> None:
    async with client(api_server) as http:
        admin = await bearer(http, "admin")
        analyst = await bearer(http, "analyst")
        path = "/api/v1/users/analyst/password"
        short = await http.post(path, json={"new_password": "1234567"}, headers=admin)
        assert named_field(short) == "new_password"
        unknown = await http.post(
            "/api/v1/users/nobody/password", json={"new_password": "long-enough"}, headers=admin
        )
        assert unknown.status_code == 404
        reset = await http.post(path, json={"new_password": "given-by-phone"}, headers=admin)
        assert reset.status_code == 204, reset.text
        # whoever signed in with the old password is signed out at once
        assert (await http.get(REGIONS, headers=analyst)).status_code == 401
        assert (await login(http, "analyst", "demo")).status_code == 401
        assert (await login(http, "analyst", "given-by-phone")).status_code == 200
    resets = audited(api_server, "user.password_reset")
    assert [(actor, who) for actor, who, _ in resets] == [("user:admin", "analyst")]


async def test_an_admin_lifts_a_lockout_for_every_address(api_server: Server) -> None:
    for address in (OWNER, STRANGER):
        async with client(api_server, address) as http:
            for _ in range(5):
                assert (await login(http, "midwife", "wrong")).status_code == 401
            assert (await login(http, "midwife", "demo")).status_code == 429
    async with client(api_server, "127.0.0.3") as http:
        admin = await bearer(http, "admin")
        lifted = await http.delete("/api/v1/users/midwife/lockout", headers=admin)
        assert lifted.status_code == 200, lifted.text
        assert lifted.json() == {"username": "midwife", "cleared": 3}  # two pairs, the account
        again = await http.delete("/api/v1/users/midwife/lockout", headers=admin)
        assert again.json() == {"username": "midwife", "cleared": 0}
        gone = await http.delete("/api/v1/users/nobody/lockout", headers=admin)
        assert gone.status_code == 404
    for address in (OWNER, STRANGER):
        async with client(api_server, address) as http:
            assert (await login(http, "midwife", "demo")).status_code == 200
    lifts = audited(api_server, "user.lockout_lift")
    assert [(actor, who) for actor, who, _ in lifts] == [("user:admin", "midwife")] * 2


def passwd(
    server: Server, username: str, stdin: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``capacity users passwd`` on the server's database, the password on stdin (a pipe)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPACITY_")}
    env["CAPACITY_DATABASE_URL"] = server.env["CAPACITY_DATABASE_URL"]
    env["CAPACITY_DATA_DIR"] = server.env["CAPACITY_DATA_DIR"]
    return subprocess.run(
        [CLI, "users", "passwd", username, *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_passwd_reads_the_password_from_stdin_never_argv(api_server: Server) -> None:
    async with client(api_server) as http:
        before = await bearer(http, "admin")
    done = passwd(api_server, "admin", "typed-in-a-pipe\n")
    assert done.returncode == 0, done.stderr
    assert "password of admin changed" in done.stdout
    assert "typed-in-a-pipe" not in done.stdout + done.stderr
    short = passwd(api_server, "admin", "short\n")
    assert short.returncode == 2 and "new_password" in short.stderr
    unknown = passwd(api_server, "nobody", "long-enough\n")
    assert unknown.returncode == 2 and "unknown user" in unknown.stderr
    on_argv = passwd(api_server, "admin", "", "--password", "on-the-command-line")
    assert on_argv.returncode != 0  # no such option: a password never goes on argv
    async with client(api_server) as http:
        # the running service heard of it: the session from before is over
        assert (await http.get(REGIONS, headers=before)).status_code == 401
        assert (await login(http, "admin", "demo")).status_code == 401
        assert (await login(http, "admin", "typed-in-a-pipe")).status_code == 200
    assert [(a, who) for a, who, _ in audited(api_server, "user.password_reset")] == [
        ("cli", "admin")
    ]


async def test_an_admin_lifts_a_shared_address_locked_by_anyone_behind_it(
    api_server: Server,
) -> None:
    """A hospital's staff share one public address: 20 wrong logins for any names from it lock
    every account there; an admin lifts that lock for the address."""
    async with client(api_server, STRANGER) as http:
        for i in range(20):
            assert (await login(http, f"nobody-{i}", "x")).status_code == 401
        locked = await login(http, "midwife", "demo")
        assert locked.status_code == 429 and locked.json()["scope"] == "address"
    async with client(api_server, OWNER) as http:
        admin = await bearer(http, "admin")
        bad = await http.delete("/api/v1/lockouts/addresses/not-an-ip", headers=admin)
        assert named_field(bad) == "address"
        as_midwife = await bearer(http, "midwife")
        refused = await http.delete(f"/api/v1/lockouts/addresses/{STRANGER}", headers=as_midwife)
        assert refused.status_code == 403
        lifted = await http.delete(f"/api/v1/lockouts/addresses/{STRANGER}", headers=admin)
        assert lifted.status_code == 200, lifted.text
        assert lifted.json() == {"address": STRANGER, "cleared": 1}
    async with client(api_server, STRANGER) as http:
        assert (await login(http, "midwife", "demo")).status_code == 200
    lifts = audited(api_server, "address.lockout_lift")
    assert [(actor, who) for actor, who, _ in lifts] == [("user:admin", STRANGER)]
