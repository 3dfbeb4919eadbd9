"""What an unauthenticated caller can put in the immutable audit trail through the login form.

Found by attacking the issue 11 work: a failed login recorded the name typed, whatever it was,
as the actor and entity of ``login.failed`` (and of ``login.locked``). Anyone without an
account could write a patient's name or BSN into the trail that can never be changed and is
exported, and a nurse who typed her password into the name field left it there. A name that
is no account is recorded as no name; an account's own name still is. Real server, SQLite and
PostgreSQL (CAPACITY_TEST_DATABASE_URL).
"""

from __future__ import annotations

from tests.auth.test_login_races import client, login
from tests.faults.support import rows, sql
from tests.servers import Server

TYPED = ["Maria_de_Vries-1991-03-15", "BSN-123456782", "Welkom2026!", "tel-0612345678"]


def trail(server: Server) -> str:
    engine = sql(server.env["CAPACITY_DATABASE_URL"])
    try:
        query = "SELECT actor, action, entity, entity_id, detail FROM audit_event ORDER BY id"
        return "\n".join(str(tuple(r)) for r in rows(engine, query))
    finally:
        engine.dispose()


async def test_names_that_are_no_account_never_reach_the_audit_trail(api_server: Server) -> None:
    async with client(api_server) as http:
        for name in TYPED:
            assert (await login(http, name, "whatever")).status_code == 401
        for _ in range(4):  # an unknown name locked out is audited, still without the name
            assert (await login(http, TYPED[0], "whatever")).status_code == 401
        assert (await login(http, TYPED[0], "whatever")).status_code == 429
        assert (await login(http, "midwife", "wrong")).status_code == 401
        assert (await login(http, "midwife", "demo")).status_code == 200
    recorded = trail(api_server)
    for name in TYPED:
        assert name not in recorded
    assert recorded.count("'login.failed'") == len(TYPED) + 4 + 1
    assert "'login.locked'" in recorded
    # an account's own failures and successes still name it
    assert "('user:midwife', 'login.failed', 'user', 'midwife'" in recorded
    assert "('user:midwife', 'login.ok', 'user', 'midwife'" in recorded


async def test_a_nul_byte_in_the_name_is_422_naming_the_field(api_server: Server) -> None:
    """PostgreSQL cannot store or compare a NUL: it was a 422 naming no field there (and a 401
    on SQLite); now one answer, naming ``username``, on both."""
    async with client(api_server) as http:
        for name in ("\x00", "midwife\x00", "a\x00b"):
            answer = await login(http, name, "demo")
            assert answer.status_code == 422, answer.text
            assert answer.json()["message"].startswith("username:")
        assert (await login(http, "midwife", "demo")).status_code == 200
