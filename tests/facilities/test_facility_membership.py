"""Admins deactivate, reactivate and move facilities; the regional picture follows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from capacity.availability import jobs
from tests.api.support import IKAZIA, entry, picture, put_figures
from tests.conftest import ERASMUS


def ids(pic: dict) -> set[str]:  # type: ignore[type-arg]
    return {f["facility_id"] for f in pic["facilities"]}


async def test_deactivated_facility_leaves_the_picture_and_refuses_writes(client, login):  # type: ignore[no-untyped-def]
    staff, admin = await login(f"staff-{IKAZIA}"), await login("admin")
    midwife = await login("midwife")
    figures = {"delivery_room": {"available": 2, "staffed": 5}}
    assert (await put_figures(client, IKAZIA, figures, staff)).status_code == 200
    for name in ("midwife", "analyst", f"staff-{IKAZIA}"):  # only admins
        for body in ({"active": False}, {"region": "west"}):
            response = await client.patch(
                f"/api/v1/facilities/{IKAZIA}", json=body, headers=await login(name)
            )
            assert response.status_code == 403, (name, body)
    before = await picture(client, midwife)
    assert IKAZIA in ids(before)
    off = await client.patch(f"/api/v1/facilities/{IKAZIA}", json={"active": False}, headers=admin)
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    after = await picture(client, midwife)
    assert IKAZIA not in ids(after) and after["seq"] > before["seq"]
    listed = (await client.get("/api/v1/facilities?region=zuidwest", headers=midwife)).json()
    assert IKAZIA not in [f["id"] for f in listed]
    for who in (staff, admin):
        pushed = await put_figures(client, IKAZIA, figures, who)
        assert pushed.status_code == 409, pushed.text
        assert "deactivated" in pushed.json()["detail"]
        stop = await client.put(
            f"/api/v1/facilities/{IKAZIA}/stop", json={"reason": "staff"}, headers=who
        )
        assert stop.status_code == 409 and "deactivated" in stop.json()["detail"]
    # admins see it, and bring it back with its last figures
    everything = await client.get("/api/v1/facilities?include_inactive=true", headers=admin)
    assert next(f for f in everything.json() if f["id"] == IKAZIA)["active"] is False
    hidden = await client.get("/api/v1/facilities?include_inactive=true", headers=midwife)
    assert hidden.status_code == 403
    on = await client.patch(f"/api/v1/facilities/{IKAZIA}", json={"active": True}, headers=admin)
    assert on.status_code == 200
    back = entry(await picture(client, midwife), IKAZIA)
    assert back["categories"]["delivery_room"]["available"] == 2


async def test_moved_facility_takes_its_figures_and_stop_to_the_new_region(client, login):  # type: ignore[no-untyped-def]
    staff, admin = await login(f"staff-{IKAZIA}"), await login("admin")
    midwife = await login("midwife")
    figures = {"delivery_room": {"available": 3, "staffed": 6}}
    assert (await put_figures(client, IKAZIA, figures, staff)).status_code == 200
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    stopped = await client.put(
        f"/api/v1/facilities/{IKAZIA}/stop", json={"reason": "beds", "until": until}, headers=staff
    )
    assert stopped.status_code == 200
    refusal = await client.post(
        "/api/v1/refusals",
        json={
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
            "facility_id": IKAZIA,
            "category": "delivery_room",
            "reason": "stop",
        },
        headers=midwife,
    )
    assert refusal.status_code == 201, refusal.text
    moved = await client.patch(
        f"/api/v1/facilities/{IKAZIA}", json={"region": "west"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["region"] == "west"
    assert IKAZIA not in ids(await picture(client, midwife, region="zuidwest"))
    there = entry(await picture(client, midwife, region="west"), IKAZIA)
    assert there["categories"]["delivery_room"]["available"] == 3
    assert there["stop"]["reason"] == "beds"
    # the ward goes on writing, now in west
    again = await put_figures(
        client, IKAZIA, {"delivery_room": {"available": 1, "staffed": 6}}, staff
    )
    assert again.status_code == 200
    assert (
        entry(await picture(client, midwife, region="west"), IKAZIA)["version"]
        == again.json()["version"]
    )
    # the refusal recorded before the move stays in zuidwest's statistics
    today = datetime.now(UTC).date().isoformat()
    analyst = await login("analyst")
    for region, count in (("zuidwest", 1), ("west", 0)):
        stats = await client.get(
            f"/api/v1/refusals/stats?region={region}&from={today}&to={today}&group_by=facility",
            headers=analyst,
        )
        assert stats.json()["total"] == count, (region, stats.json())
    trail = await client.get(f"/api/v1/audit?facility={IKAZIA}&action=facility.", headers=admin)
    (event,) = trail.json()
    assert event["action"] == "facility.move"
    assert event["detail"]["region_before"] == "zuidwest" and event["detail"]["region"] == "west"


async def test_audit_trail_filters(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    await client.patch(
        f"/api/v1/facilities/{ERASMUS}", json={"phone": "010 222 2222"}, headers=admin
    )
    await client.post(f"/api/v1/facilities/{ERASMUS}/keys", json={"label": "hix"}, headers=admin)
    today = datetime.now(UTC).date()

    async def audit(query: str) -> list[dict]:  # type: ignore[type-arg]
        response = await client.get(f"/api/v1/audit?{query}", headers=admin)
        assert response.status_code == 200, (query, response.text)
        return list(response.json())

    keyed = await audit("action=api_key.create")
    assert [e["action"] for e in keyed] == ["api_key.create"]
    assert {e["action"] for e in await audit("action=api_key.")} == {"api_key.create"}
    assert {e["action"] for e in await audit(f"facility={ERASMUS}")} == {"facility.update"}
    assert await audit(f"from={today}&to={today}&actor=user:admin&action=facility.update")
    assert not await audit(f"to={today - timedelta(days=1)}&actor=user:admin")
    logins = await audit("action=login.ok&limit=1")
    assert len(logins) == 1
    older = await audit(f"action=login.ok&before={logins[0]['id']}")
    assert all(e["id"] < logins[0]["id"] for e in older)
    for query, field in (("from=2026-13-01", "from"), ("action=DROP TABLE", "action"),
                         (f"from={today}&to={today - timedelta(days=2)}", "to")):  # fmt: skip
        response = await client.get(f"/api/v1/audit?{query}", headers=admin)
        assert response.status_code == 422 and field in response.json()["message"], query
    for name in ("midwife", "analyst", f"staff-{ERASMUS}"):
        response = await client.get("/api/v1/audit?action=user.", headers=await login(name))
        assert response.status_code == 403, name


async def test_api_keys_show_when_they_were_last_used(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    created = (await client.post(f"/api/v1/facilities/{ERASMUS}/keys", headers=admin)).json()
    listed = (await client.get(f"/api/v1/keys?facility={ERASMUS}", headers=admin)).json()
    assert next(k for k in listed if k["id"] == created["id"])["last_used_at"] is None
    started = datetime.now(UTC)
    key = {"X-API-Key": created["key"]}
    for n in range(3):
        figures = {"delivery_room": {"available": n, "staffed": 4}}
        assert (await put_figures(client, ERASMUS, figures, key)).status_code == 200
    for _ in range(50):  # written apart from the request, within moments
        listed = (await client.get(f"/api/v1/keys?facility={ERASMUS}", headers=admin)).json()
        used = next(k for k in listed if k["id"] == created["id"])["last_used_at"]
        if used:
            break
        await asyncio.sleep(0.1)
    assert used and datetime.fromisoformat(used) >= started - timedelta(seconds=1)


async def test_scheduler_leaves_a_deactivated_facility_and_goes_on_with_the_others(
    client, login, app
):  # type: ignore[no-untyped-def]
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for facility in (IKAZIA, ERASMUS):
        stopped = await client.put(
            f"/api/v1/facilities/{facility}/stop",
            json={"reason": "staff", "until": until},
            headers=await login(f"staff-{facility}"),
        )
        assert stopped.status_code == 200
    admin = await login("admin")
    off = await client.patch(f"/api/v1/facilities/{IKAZIA}", json={"active": False}, headers=admin)
    assert off.status_code == 200
    state = {"db": app.state.db, "store": app.state.store, "settings": app.state.settings}
    later = datetime.now(UTC) + timedelta(hours=2)
    result = await jobs.expire_due(**state, now=later)
    assert result.stops_ended == [ERASMUS]  # the deactivated one's stop stays as it was
    assert entry(await picture(client, await login("midwife")), ERASMUS)["stop"] is None
    # reactivated, its passed stop reads as ended and the next run records it
    await client.patch(f"/api/v1/facilities/{IKAZIA}", json={"active": True}, headers=admin)
    assert (await jobs.expire_due(**state, now=later)).stops_ended == [IKAZIA]
