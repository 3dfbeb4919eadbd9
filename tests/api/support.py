"""Small helpers shared by the API tests: reading the picture and counting what SQL holds."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import select

from capacity.audit.models import AuditEvent
from capacity.availability.models import CapacityChange
from capacity.storage.db import Database

IKAZIA = "ikazia-ziekenhuis-rotterdam"  # a plain hospital of zuidwest: no NICU
SOPHIA = "geboortecentrum-sophia-rotterdam"  # a birth centre of zuidwest


async def picture(
    client: httpx.AsyncClient, headers: dict[str, str], region: str = "zuidwest"
) -> Any:
    response = await client.get(f"/api/v1/regions/{region}/capacity", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def entry(pic: Any, facility_id: str) -> Any:
    return next(f for f in pic["facilities"] if f["facility_id"] == facility_id)


async def put_figures(
    client: httpx.AsyncClient, facility: str, categories: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await client.put(
        f"/api/v1/facilities/{facility}/capacity", json={"categories": categories}, headers=headers
    )


async def history_rows(db: Database) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(CapacityChange))).one())


async def audit_actions(db: Database) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(AuditEvent).order_by(AuditEvent.id))).all()  # type: ignore[arg-type]
        return [r.action for r in rows]
