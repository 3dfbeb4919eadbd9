"""A transfer request: the proposal of wards, sending it, who may see it, sending further."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from capacity.audit.models import AuditEvent
from tests.transfers.support import (
    BREDA,
    DELFT,
    ERASMUS,
    FRANCISCUS,
    GORINCHEM,
    IJSSELLAND,
    IKAZIA,
    MAASSTAD,
    ROTTERDAM,
    SOPHIA,
    request,
    room,
)

NL = {"Accept-Language": "nl"}


async def test_proposal_is_the_nearest_wards_with_room_neighbouring_regions_included(
    client, login
) -> None:  # type: ignore[no-untyped-def]
    admin, midwife = await login("admin"), await login("midwife")
    for facility in (FRANCISCUS, MAASSTAD, DELFT, BREDA, GORINCHEM):
        await room(client, admin, facility, 4)
    await room(client, admin, IKAZIA, 0)  # red: no room
    await room(client, admin, IJSSELLAND, 5)
    stop = {"reason": "staff"}
    r = await client.put(f"/api/v1/facilities/{IJSSELLAND}/stop", json=stop, headers=admin)
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/transfers/proposal",
        params={"category": "delivery_room", **ROTTERDAM},
        headers=midwife,
    )
    assert r.status_code == 200, r.text
    wards = r.json()["wards"]
    assert [w["facility_id"] for w in wards] == [FRANCISCUS, MAASSTAD, DELFT, GORINCHEM, BREDA]
    assert [w["within_reach"] for w in wards] == [True, True, True, True, False]
    delft = wards[2]
    assert delft["region"] == "west" and delft["available"] == 4 and delft["minutes"] == 17
    by_city = await client.get(
        "/api/v1/transfers/proposal",
        params={"category": "delivery_room", "city": "Rotterdam"},
        headers=midwife,
    )
    assert by_city.status_code == 200, by_city.text
    assert by_city.json()["wards"][0]["facility_id"] == FRANCISCUS


async def test_acute_is_answered_with_the_standing_rule(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = {**await login("midwife"), **NL}
    params = {"category": "delivery_room", "urgency": "acute", **ROTTERDAM}
    r = await client.get("/api/v1/transfers/proposal", params=params, headers=midwife)
    assert r.status_code == 422
    assert "acuut: naar het dichtstbijzijnde ziekenhuis, bel" in r.json()["message"]
    assert r.json()["detail"][0]["loc"][-1] == "urgency"
    made = await client.post("/api/v1/transfers", json=request(urgency="acute"), headers=midwife)
    assert made.status_code == 422 and "urgency" in made.json()["message"]


async def test_proposal_and_request_are_for_midwives_and_ward_staff(client, login) -> None:  # type: ignore[no-untyped-def]
    params = {"category": "delivery_room", **ROTTERDAM}
    for who in ("analyst", "admin"):
        headers = await login(who)
        r = await client.get("/api/v1/transfers/proposal", params=params, headers=headers)
        assert r.status_code == 403, who
        r = await client.post("/api/v1/transfers", json=request(), headers=headers)
        assert r.status_code == 403, who
    r = await client.get("/api/v1/transfers/proposal", params=params)
    assert r.status_code == 401


async def test_request_goes_to_the_first_three_proposed_and_each_ward_sees_only_its_offer(
    client, login
) -> None:  # type: ignore[no-untyped-def]
    admin, midwife = await login("admin"), await login("midwife")
    for n, facility in enumerate((ERASMUS, FRANCISCUS, MAASSTAD, DELFT)):
        await room(client, admin, facility, 3 + n)
    r = await client.post("/api/v1/transfers", json=request(), headers=midwife)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "open" and made["region"] == "zuidwest"
    assert [o["facility_id"] for o in made["offers"]] == [ERASMUS, FRANCISCUS, MAASSTAD]
    assert {o["status"] for o in made["offers"]} == {"pending"}
    offer = made["offers"][0]
    sent = datetime.fromisoformat(offer["sent_at"])
    assert datetime.fromisoformat(offer["deadline_at"]) - sent == timedelta(minutes=5)
    staff = await login(f"staff-{ERASMUS}")
    seen = await client.get(f"/api/v1/facilities/{ERASMUS}/offers", headers=staff)
    assert seen.status_code == 200, seen.text
    assert [(o["id"], o["category"], o["minutes"]) for o in seen.json()] == [
        (offer["id"], "delivery_room", 2)
    ]
    assert "origin_lat" not in seen.json()[0]
    other = await login(f"staff-{DELFT}")
    r = await client.get(f"/api/v1/facilities/{ERASMUS}/offers", headers=other)
    assert r.status_code == 403
    r = await client.get(f"/api/v1/facilities/{DELFT}/offers", headers=other)
    assert r.json() == []
    r = await client.get(f"/api/v1/facilities/{ERASMUS}/offers", headers=midwife)
    assert r.status_code == 403
    r = await client.get(f"/api/v1/transfers/{made['id']}", headers=midwife)
    assert r.status_code == 200 and r.json()["id"] == made["id"]
    r = await client.get(f"/api/v1/transfers/{made['id']}", headers=staff)
    assert r.status_code == 403  # not hers to see: only the asker and admins
    r = await client.get("/api/v1/transfers/999999", headers=midwife)
    assert r.status_code == 404
    async with client._transport.app.state.db.session() as session:  # type: ignore[attr-defined]
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert "transfer.create" in actions


async def test_the_wards_named_are_checked_and_the_field_named(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    cases = [
        ([ERASMUS] * 1 + [f"x-{n}" for n in range(8)], "facilities"),
        ([], "facilities"),
        ([ERASMUS, ERASMUS], "facilities.1"),
        ([ERASMUS, "no-such-ward"], "facilities.1"),
        ([SOPHIA], "facilities.0"),  # a birth centre has no NICU
    ]
    for wards, field in cases:
        body = request(category="nicu", facilities=wards)
        r = await client.post("/api/v1/transfers", json=body, headers=midwife)
        assert r.status_code == 422, (wards, r.text)
        assert r.json()["message"].startswith(field + ":"), (field, r.json()["message"])
    r = await client.post("/api/v1/transfers", json=request(lat=None, lon=None), headers=midwife)
    assert r.status_code == 422 and r.json()["message"].startswith("lat:")
    r = await client.post("/api/v1/transfers", json=request(), headers=midwife)
    assert r.status_code == 422 and r.json()["message"].startswith("facilities:")  # no room


async def test_send_further_and_cancel(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    body = request(facilities=[ERASMUS])
    made = (await client.post("/api/v1/transfers", json=body, headers=midwife)).json()
    path = f"/api/v1/transfers/{made['id']}"
    r = await client.post(path + "/offers", json={"facilities": [ERASMUS]}, headers=midwife)
    assert r.status_code == 422 and r.json()["message"].startswith("facilities.0:")
    r = await client.post(path + "/offers", json={"facilities": [DELFT, IKAZIA]}, headers=midwife)
    assert r.status_code == 201, r.text
    assert [o["facility_id"] for o in r.json()["offers"]] == [ERASMUS, DELFT, IKAZIA]
    staff = await login(f"staff-{DELFT}")
    assert (await client.post(path + "/cancel", headers=staff)).status_code == 403
    r = await client.post(path + "/cancel", headers=midwife)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert {o["status"] for o in r.json()["offers"]} == {"withdrawn"}
    assert (await client.post(path + "/cancel", headers=midwife)).status_code == 409
    r = await client.post(path + "/offers", json={"facilities": [MAASSTAD]}, headers=midwife)
    assert r.status_code == 409
    seen = await client.get(f"/api/v1/facilities/{DELFT}/offers", headers=staff)
    assert seen.json() == []
