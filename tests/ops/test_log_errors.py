"""The error paths of a real server log what failed, never a secret (issue 11.7).

SQLAlchemy errors used to reach the log with ``[parameters: ...]``: the argon2 hash of a new
account's password, episode tokens. Here a server process (its stderr captured) meets a database
that fails inside the INSERT, one that is locked (SQLite) or down (PostgreSQL) during a login and
an account creation, racing creations of one account, wrong passwords, bad tokens and revoked
keys; then no line may carry a password, hash, token, key or episode, and the lines about the
database must still say which request and statement failed.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import create_engine, text

from tests import servers
from tests.conftest import PG_URL, _sync_url
from tests.faults.test_database_down import postgres_down, sqlite_locked
from tests.refusals.test_recording import refusal

PASSWORD = "Correct-Horse-Battery-7731"
HASH_MARKS = ("$argon2", "$2b$")


def database_url(api_server: servers.Server) -> str:
    return api_server.env["CAPACITY_DATABASE_URL"]


@contextmanager
def inserts_fail(api_server: servers.Server, table: str) -> Iterator[None]:
    """The database fails inside every INSERT into ``table`` (after the values were bound)."""
    engine = create_engine(_sync_url(database_url(api_server)))
    assert table in ("user", "refusal")  # names of ours, quoted into the DDL below
    if PG_URL:
        setup = [
            "CREATE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$",
            f'CREATE TRIGGER fail_insert BEFORE INSERT ON "{table}"'
            " FOR EACH ROW EXECUTE FUNCTION fail_insert()",
        ]
        teardown = [f'DROP TRIGGER fail_insert ON "{table}"', "DROP FUNCTION fail_insert()"]
    else:  # a trigger writing to a table that is gone: "no such table" at the INSERT
        setup = [
            "CREATE TABLE gone (x INTEGER)",
            f'CREATE TRIGGER fail_insert BEFORE INSERT ON "{table}"'  # noqa: S608
            " BEGIN INSERT INTO gone VALUES (1); END",
            "DROP TABLE gone",
        ]
        teardown = ["DROP TRIGGER fail_insert"]
    with engine.begin() as conn:
        for statement in setup:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in teardown:
                conn.execute(text(statement))
        engine.dispose()


@contextmanager
def database_unavailable(api_server: servers.Server) -> Iterator[None]:
    """SQLite locked by another process's write; PostgreSQL refusing connections."""
    url = database_url(api_server)
    with postgres_down(url) if PG_URL else sqlite_locked(url):
        yield


def bearer(http: httpx.Client, username: str, password: str | None = None) -> dict[str, str]:
    form = {"username": username, "password": password or "demo"}
    answer = http.post("/api/v1/auth/token", data=form)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def new_account(username: str) -> dict[str, str]:
    return {"username": username, "password": PASSWORD, "role": "midwife"}


def log_of(api_server: servers.Server) -> str:
    api_server.stop()
    return api_server.log.read_text()


def assert_clean(log: str, *secrets: str) -> None:
    leaked = [s for s in (*secrets, *HASH_MARKS) if s and s in log]
    assert leaked == [], f"secrets in the log: {leaked}\n{log}"


def failures(log: str, route: str) -> list[str]:
    return [line for line in log.splitlines() if f"database error on {route}" in line]


def test_database_failing_inside_a_user_insert_logs_no_password_hash(
    api_server: servers.Server,
) -> None:
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        admin = bearer(http, "admin")
        with inserts_fail(api_server, "user"):
            answer = http.post("/api/v1/users", json=new_account("nurse-jansen"), headers=admin)
        assert answer.status_code == 503, answer.text
    log = log_of(api_server)
    assert_clean(log, PASSWORD, admin["Authorization"].split()[1])
    [line] = failures(log, "POST /api/v1/users")
    assert re.search(r'OperationalError .* in INSERT INTO "?user"?: ', line), line


def test_database_failing_inside_a_refusal_insert_logs_no_episode(
    api_server: servers.Server,
) -> None:
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        midwife = bearer(http, "midwife")
        issued = http.post("/api/v1/episodes", headers=midwife)
        assert issued.status_code == 201, issued.text
        episode = issued.json()["episode"]
        with inserts_fail(api_server, "refusal"):
            answer = http.post("/api/v1/refusals", json=refusal(episode=episode), headers=midwife)
        assert answer.status_code == 503, answer.text
    log = log_of(api_server)
    assert_clean(log, episode, midwife["Authorization"].split()[1])
    [line] = failures(log, "POST /api/v1/refusals")
    assert re.search(r"OperationalError .* in INSERT INTO refusal: ", line), line


def test_locked_or_down_database_and_bad_credentials_log_no_secret(
    api_server: servers.Server,
) -> None:
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        admin = bearer(http, "admin")
        keys = [
            http.post("/api/v1/facilities/erasmus-mc-rotterdam/keys", json={}, headers=admin)
            for _ in range(2)
        ]
        active, revoked = (k.json()["key"] for k in keys)
        assert http.delete(f"/api/v1/keys/{keys[1].json()['id']}", headers=admin).is_success
        # the same new account, five times at once: one is made, the others conflict
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            racing = list(
                pool.map(
                    lambda _: httpx.post(
                        f"{api_server.url}/api/v1/users",
                        json=new_account("nurse-de-boer"),
                        headers=admin,
                        timeout=60,
                    ),
                    range(5),
                )
            )
        assert sorted(a.status_code for a in racing)[0] == 201
        assert {a.status_code for a in racing} <= {201, 409, 422}
        nurse = bearer(http, "nurse-de-boer", PASSWORD)
        # wrong credentials of every kind
        assert (
            http.post(
                "/api/v1/auth/token", data={"username": "admin", "password": PASSWORD + "x"}
            ).status_code
            == 401
        )
        forged = nurse["Authorization"].split()[1][:-4] + "AAAA"
        for headers in (
            {"Authorization": f"Bearer {forged}"},
            {"Authorization": "Bearer not-a-token-at-all"},
            {"X-API-Key": revoked},
            {"X-API-Key": active + "x"},
        ):
            assert http.get("/api/v1/regions", headers=headers).status_code == 401
        assert http.get("/api/v1/regions", headers={"X-API-Key": active}).status_code in (200, 403)
        with database_unavailable(api_server):
            login = http.post(
                "/api/v1/auth/token", data={"username": "nurse-de-boer", "password": PASSWORD}
            )
            made = http.post("/api/v1/users", json=new_account("nurse-bakker"), headers=admin)
        assert login.status_code == made.status_code == 503, (login.text, made.text)
    log = log_of(api_server)
    digests = [hashlib.sha256(k.encode()).hexdigest() for k in (active, revoked)]
    tokens = [h["Authorization"].split()[1] for h in (admin, nurse)]
    assert_clean(log, PASSWORD, active, revoked, forged, *tokens, *digests)
    assert failures(log, "POST /api/v1/auth/token"), log
    assert failures(log, "POST /api/v1/users"), log
