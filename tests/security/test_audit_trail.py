"""The audit trail cannot be changed: no endpoint writes to it, and the database refuses to."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from capacity.audit.models import AuditEvent
from tests.security.support import app_endpoints

WRITES = ("POST", "PUT", "PATCH", "DELETE")


async def trail(app) -> list[tuple]:  # type: ignore[no-untyped-def]
    async with app.state.db.session() as session:
        rows = (await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))).all()
        return [(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.detail) for r in rows]


def test_no_route_writes_to_the_audit_trail(app):  # type: ignore[no-untyped-def]
    audit_routes = {(m, p) for m, p in app_endpoints(app) if "audit" in p}
    assert ("GET", "/api/v1/audit") in audit_routes
    assert {(m, p) for m, p in audit_routes if m in WRITES} == set()


async def test_writing_methods_on_audit_paths_change_nothing(client, login, app):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    before = await trail(app)
    newest = before[-1][0]
    for path in ("/api/v1/audit", f"/api/v1/audit/{newest}", "/api/v1/admin/audit/export"):
        for method in WRITES:
            response = await client.request(method, path, headers=admin, json={"actor": "x"})
            assert response.status_code in (404, 405), (method, path, response.status_code)
    assert await trail(app) == before


@pytest.mark.parametrize("change", ["update", "delete"])
async def test_database_refuses_to_alter_audit_rows_through_the_orm(client, login, app, change):  # type: ignore[no-untyped-def]
    await login("midwife")  # a login leaves a row
    before = await trail(app)
    async with app.state.db.session() as session:
        row = (await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))).first()
        assert row is not None
        if change == "update":
            row.actor = "user:someone-else"
            session.add(row)
        else:
            await session.delete(row)
        with pytest.raises(DBAPIError, match="append-only"):
            await session.commit()
        await session.rollback()
    assert await trail(app) == before
