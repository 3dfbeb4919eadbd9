"""Hours red, in a stop and stale, rebuilt from the capacity history."""

from __future__ import annotations

import csv
import io

import openpyxl

from capacity.availability.models import CapacityChange, ChangeKind, Status, StopReason
from tests.conftest import ERASMUS
from tests.reporting.data import at


def change(when: str, kind: ChangeKind, **fields) -> CapacityChange:  # type: ignore[no-untyped-def]
    return CapacityChange(
        at=at(when),
        region="zuidwest",
        facility_id=ERASMUS,
        seq=0,
        version=0,
        kind=kind,
        actor="test",
        **fields,
    )


async def history(app) -> None:  # type: ignore[no-untyped-def]
    """10 October 2026 local = 2026-10-09T22:00Z .. 2026-10-10T22:00Z; freshness 4 h.

    delivery_room: red 22-00 (0 free, reported 20:00), stale 00-02, green 02-06, stale 06-10,
    stop 10-13, stale 13-22  => red 2, stop 3, stale 15. Other categories: stop 3.
    """
    rows = [
        change(
            "2026-10-09T20:00:00",
            ChangeKind.figures,
            category="delivery_room",
            available=0,
            staffed=4,
            status=Status.red,
        ),
        change(
            "2026-10-10T02:00:00",
            ChangeKind.figures,
            category="delivery_room",
            available=3,
            staffed=4,
            status=Status.green,
        ),
        change(
            "2026-10-10T10:00:00",
            ChangeKind.stop_declared,
            stop_reason=StopReason.staff,
            status=Status.stop,
        ),
        change("2026-10-10T13:00:00", ChangeKind.stop_lifted, stop_reason=StopReason.staff),
    ]
    async with app.state.db.write_session() as session:
        session.add_all(rows)
        await session.commit()


def row(body, category, period):  # type: ignore[no-untyped-def]
    return next(
        r
        for r in body["rows"]
        if r["facility_id"] == ERASMUS and r["category"] == category and r["period"] == period
    )


async def test_hours_red_stop_and_stale_per_day(client, login, app):
    await history(app)
    response = await client.get(
        "/api/v1/capacity-over-time",
        params={"region": "zuidwest", "from": "2026-10-10", "to": "2026-10-11", "period": "day"},
        headers=await login("analyst-zuidwest"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    first = row(body, "delivery_room", "2026-10-10")
    assert (first["hours_red"], first["hours_stop"], first["hours_stale"]) == (2, 3, 15)
    nicu = row(body, "nicu", "2026-10-10")
    assert (nicu["hours_red"], nicu["hours_stop"], nicu["hours_stale"]) == (0, 3, 0)
    second = row(body, "delivery_room", "2026-10-11")
    assert (second["hours_red"], second["hours_stop"], second["hours_stale"]) == (0, 0, 24)


async def test_capacity_over_time_downloads_and_access(client, login, app):
    await history(app)
    params = {"region": "zuidwest", "from": "2026-10-10", "to": "2026-10-10", "period": "total"}
    analyst = await login("analyst-zuidwest")
    text = (
        await client.get(
            "/api/v1/capacity-over-time", params={**params, "format": "csv"}, headers=analyst
        )
    ).content.decode("utf-8-sig")
    # for Dutch Excel: ";", decimal commas, names and labels
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    mine = next(
        r for r in rows if r["Zorginstelling (id)"] == ERASMUS and r["Categorie"] == "Verloskamer"
    )
    assert mine["Zorginstelling"] == "Erasmus MC (Sophia)"
    assert (mine["Uren rood (vol)"], mine["Uren stop"], mine["Uren verouderd"]) == (
        "2,0",
        "3,0",
        "15,0",
    )
    codes = await client.get(
        "/api/v1/capacity-over-time",
        params={**params, "format": "csv", "codes": "true", "sep": ","},
        headers=analyst,
    )
    plain = list(csv.DictReader(io.StringIO(codes.content.decode("utf-8-sig"))))
    mine = next(
        r for r in plain if r["facility_id"] == ERASMUS and r["category"] == "delivery_room"
    )
    assert (mine["hours_red"], mine["hours_stop"], mine["hours_stale"]) == ("2.0", "3.0", "15.0")
    content = (
        await client.get(
            "/api/v1/capacity-over-time", params={**params, "format": "xlsx"}, headers=analyst
        )
    ).content
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == len(rows) + 1
    other = await client.get(
        "/api/v1/capacity-over-time", params={**params, "region": "noord"}, headers=analyst
    )
    assert other.status_code == 403
    midwife = await client.get(
        "/api/v1/capacity-over-time", params=params, headers=await login("midwife")
    )
    assert midwife.status_code == 403
