"""The audit trail: a row for every write and every login, and the database keeps it append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.support import audit_actions, put_figures
from tests.conftest import ERASMUS


async def test_every_write_and_login_leaves_an_audit_row(client, login, app):  # type: ignore[no-untyped-def]
    db = app.state.db
    start = len(await audit_actions(db))
    admin = await login("admin")
    staff = await login(f"staff-{ERASMUS}")
    failed = await client.post(
        "/api/v1/auth/token", data={"username": "midwife", "password": "nope"}
    )
    assert failed.status_code == 401
    await put_figures(client, ERASMUS, {"delivery_room": {"available": 1, "staffed": 2}}, staff)
    await client.put(f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "beds"}, headers=staff)
    await client.delete(f"/api/v1/facilities/{ERASMUS}/stop", headers=staff)
    key = (await client.post(f"/api/v1/facilities/{ERASMUS}/keys", headers=admin)).json()
    await put_figures(
        client, ERASMUS, {"nicu": {"available": 1, "staffed": 2}}, {"X-API-Key": key["key"]}
    )
    await client.delete(f"/api/v1/keys/{key['id']}", headers=admin)
    user = {"username": "new-midwife", "password": "long-enough", "role": "midwife"}
    assert (await client.post("/api/v1/users", json=user, headers=admin)).status_code == 201
    await client.patch(
        f"/api/v1/facilities/{ERASMUS}", json={"phone": "010 123 4567"}, headers=admin
    )
    assert (await audit_actions(db))[start:] == [
        "login.ok", "login.ok", "login.failed", "capacity.update", "stop.declare", "stop.lift",
        "api_key.create", "capacity.update", "api_key.revoke", "user.create", "facility.update",
    ]  # fmt: skip
    events = (await client.get("/api/v1/audit?limit=20", headers=admin)).json()
    newest = events[0]
    assert (newest["actor"], newest["action"], newest["entity_id"]) == (
        "user:admin",
        "facility.update",
        ERASMUS,
    )
    by_key = next(
        e for e in events if e["action"] == "capacity.update" and e["actor"].startswith("key:")
    )
    assert by_key["entity_id"] == ERASMUS
    assert all("demo" not in str(e["detail"]) and "nope" not in str(e["detail"]) for e in events)


async def test_rejected_writes_leave_no_audit_row_of_a_change(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    start = len(await audit_actions(app.state.db))
    await put_figures(client, ERASMUS, {"delivery_room": {"available": 3, "staffed": 2}}, staff)
    await put_figures(
        client,
        "ikazia-ziekenhuis-rotterdam",
        {"delivery_room": {"available": 1, "staffed": 2}},
        staff,
    )
    assert (await audit_actions(app.state.db))[start:] == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"]
)
async def test_database_refuses_to_change_or_delete_audit_rows(client, login, app, statement):  # type: ignore[no-untyped-def]
    await login("admin")  # at least one row
    before = await audit_actions(app.state.db)
    assert before
    async with app.state.db.session() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.exec(text(statement))  # type: ignore[call-overload]
        await session.rollback()
    assert await audit_actions(app.state.db) == before
