"""Failed logins are limited per account and per address, in Redis, across processes."""

from __future__ import annotations

import httpx
from sqlmodel import select

from capacity.audit.models import AuditEvent
from capacity.main import create_app
from capacity.settings import Settings
from capacity.storage.db import Database

TOKEN = "/api/v1/auth/token"


def _client(app, address: str = "127.0.0.1") -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": username, "password": password})


async def _audit(settings: Settings, action: str) -> list[AuditEvent]:
    db = Database(settings.resolved_database_url)
    try:
        async with db.session() as session:
            query = select(AuditEvent).where(AuditEvent.action == action)
            return list((await session.exec(query)).all())
    finally:
        await db.dispose()


async def test_account_locked_after_five_failures_even_with_the_right_password(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for _ in range(5):
        assert (await _login(client, "midwife", "wrong")).status_code == 401
    refused = await _login(client, "midwife", "demo")
    assert refused.status_code == 429
    assert "at most 5 per 15 minutes" in refused.json()["detail"]
    assert "this account" in refused.json()["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    # another account from the same address is not affected
    assert (await _login(client, "admin", "demo")).status_code == 200
    locked = await _audit(settings, "login.locked")
    assert [(e.entity, e.entity_id) for e in locked] == [("user", "midwife")]


async def test_successful_login_does_not_count_and_clears_the_account(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(4):
        assert (await _login(client, "midwife", "wrong")).status_code == 401
    assert (await _login(client, "midwife", "demo")).status_code == 200
    for _ in range(10):  # successes never lock anyone out
        assert (await _login(client, "midwife", "demo")).status_code == 200
    for _ in range(4):
        assert (await _login(client, "midwife", "wrong")).status_code == 401
    assert (await _login(client, "midwife", "demo")).status_code == 200


async def test_address_limited_across_accounts_and_processes(settings: Settings) -> None:
    """Two apps (as two server processes) share the counters through Redis."""
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        async with _client(first, "10.1.2.3") as a, _client(second, "10.1.2.3") as b:
            for i in range(20):  # 20 different (unknown) accounts: only the address adds up
                client = a if i % 2 else b
                assert (await _login(client, f"nobody-{i}", "guess")).status_code == 401
            refused = await _login(a, "midwife", "demo")
            assert refused.status_code == 429
            assert "your address" in refused.json()["detail"]
            assert "at most 20 per 15 minutes" in refused.json()["detail"]
            assert int(refused.headers["Retry-After"]) > 0
            assert (await _login(b, "analyst", "demo")).status_code == 429
        async with _client(second, "10.9.9.9") as elsewhere:
            assert (await _login(elsewhere, "midwife", "demo")).status_code == 200
    locked = await _audit(settings, "login.locked")
    assert [(e.entity, e.entity_id) for e in locked] == [("address", "10.1.2.3")]


async def test_limits_follow_the_settings(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"login_account_failures": 2}))
    async with app.router.lifespan_context(app), _client(app) as client:
        for _ in range(2):
            assert (await _login(client, "admin", "nope")).status_code == 401
        refused = await _login(client, "admin", "demo")
    assert refused.status_code == 429
    assert "at most 2 per 15 minutes" in refused.json()["detail"]
