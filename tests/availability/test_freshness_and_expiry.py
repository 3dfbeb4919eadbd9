"""Time-driven truth: old figures read as stale/unknown, and stops end when their time has come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from capacity.availability import jobs
from capacity.availability.models import CapacityChange, CapacityFigure, ChangeKind
from capacity.availability.service import region_capacity
from tests.api.support import entry, picture, put_figures
from tests.conftest import ERASMUS

GREEN = {"delivery_room": {"available": 5, "staffed": 6}}


def state(app):  # type: ignore[no-untyped-def]
    return {"db": app.state.db, "store": app.state.store, "settings": app.state.settings}


async def test_figure_older_than_the_limit_reads_stale_and_unknown_never_green(client, login, app):  # type: ignore[no-untyped-def]
    assert (
        await put_figures(client, ERASMUS, GREEN, await login(f"staff-{ERASMUS}"))
    ).status_code == 200
    now = datetime.now(UTC)
    fresh = entry(await region_capacity(**state(app), region_id="zuidwest", now=now), ERASMUS)
    assert fresh["categories"]["delivery_room"]["status"] == "green"
    later = now + timedelta(hours=4, minutes=1)
    old = entry(await region_capacity(**state(app), region_id="zuidwest", now=later), ERASMUS)
    assert old["categories"]["delivery_room"]["stale"] is True
    assert old["categories"]["delivery_room"]["status"] == "unknown"
    assert old["categories"]["delivery_room"]["available"] == 5


async def test_figure_stored_long_ago_is_stale_after_a_rebuild_from_sql(client, login, app, valkey):  # type: ignore[no-untyped-def]
    await put_figures(client, ERASMUS, GREEN, await login(f"staff-{ERASMUS}"))
    async with app.state.db.session() as session:
        await session.exec(
            update(CapacityFigure)
            .where(col(CapacityFigure.facility_id) == ERASMUS)
            .values(updated_at=datetime.now(UTC) - timedelta(hours=5))
        )
        await session.commit()
    await app.state.store.redis.flushall()  # the picture is rebuilt from SQL on the next read
    shown = entry(await picture(client, await login("midwife")), ERASMUS)
    assert shown["categories"]["delivery_room"]["stale"] is True
    assert shown["categories"]["delivery_room"]["status"] == "unknown"


async def test_expiry_records_a_stale_figure_as_a_change(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    await put_figures(client, ERASMUS, GREEN, staff)
    before = await picture(client, await login("midwife"))
    later = datetime.now(UTC) + timedelta(hours=5)
    result = await jobs.expire_due(**state(app), now=later)
    assert result.stale == [ERASMUS]
    after = await picture(client, await login("midwife"))
    assert after["seq"] == before["seq"] + 1
    assert entry(after, ERASMUS)["version"] == entry(before, ERASMUS)["version"] + 1
    shown = entry(after, ERASMUS)["categories"]["delivery_room"]
    assert (shown["stale"], shown["status"]) == (True, "unknown")  # even read at the real now
    async with app.state.db.session() as session:
        kinds = (
            await session.exec(
                select(CapacityChange.kind).where(CapacityChange.facility_id == ERASMUS)
            )
        ).all()
    assert list(kinds) == [ChangeKind.figures, ChangeKind.stale]
    assert (await jobs.expire_due(**state(app), now=later)).stale == []  # recorded once only
    assert (await picture(client, await login("midwife")))["seq"] == after["seq"]
    refreshed = (await put_figures(client, ERASMUS, GREEN, staff)).json()
    assert refreshed["categories"]["delivery_room"] | {"updated_at": None, "stale_at": None} == {
        "available": 5,
        "staffed": 6,
        "status": "green",
        "updated_at": None,
        "stale": False,
        "stale_at": None,
        "updated_by": f"staff-{ERASMUS}",
        "updated_by_label": None,
        "measured_at": None,  # sent without one: freshness counts from its arrival
    }


async def test_stop_whose_until_has_passed_reads_as_ended(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    await put_figures(client, ERASMUS, GREEN, staff)
    until = datetime.now(UTC) + timedelta(hours=1)
    response = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop",
        json={"reason": "beds", "until": until.isoformat()},
        headers=staff,
    )
    assert response.status_code == 200
    assert response.json()["categories"]["delivery_room"]["status"] == "stop"
    later = until + timedelta(minutes=1)
    shown = entry(await region_capacity(**state(app), region_id="zuidwest", now=later), ERASMUS)
    assert shown["stop"] is None
    assert shown["categories"]["delivery_room"]["status"] == "green"


async def test_expiry_records_the_end_of_a_stop_as_a_change(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    until = datetime.now(UTC) + timedelta(hours=1)
    await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop",
        json={"reason": "staff", "until": until.isoformat()},
        headers=staff,
    )
    before = await picture(client, await login("midwife"))
    assert entry(before, ERASMUS)["stop"]["reason"] == "staff"
    result = await jobs.expire_due(**state(app), now=until + timedelta(seconds=1))
    assert result.stops_ended == [ERASMUS]
    after = await picture(client, await login("midwife"))
    assert after["seq"] == before["seq"] + 1
    assert entry(after, ERASMUS)["stop"] is None
    async with app.state.db.session() as session:
        kinds = (
            await session.exec(
                select(CapacityChange.kind).where(CapacityChange.facility_id == ERASMUS)
            )
        ).all()
    assert list(kinds) == [ChangeKind.stop_declared, ChangeKind.stop_expired]
    # a stop without an end never expires by itself
    await client.put(f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "beds"}, headers=staff)
    assert (await jobs.expire_due(**state(app), now=until + timedelta(days=30))).stops_ended == []
    assert entry(await picture(client, await login("midwife")), ERASMUS)["stop"]["reason"] == "beds"


async def test_stop_until_may_not_lie_more_than_a_month_ahead(client, login):  # type: ignore[no-untyped-def]
    until = (datetime.now(UTC) + timedelta(days=60)).isoformat()
    response = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop",
        json={"reason": "beds", "until": until},
        headers=await login(f"staff-{ERASMUS}"),
    )
    assert response.status_code == 422
    assert "until" in response.json()["message"]
