"""The wards' answers: first accept wins, declines and expiries become refusal records."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlmodel import col, select

from capacity.audit.models import AuditEvent
from capacity.auth.models import User
from capacity.refusals.models import Refusal
from capacity.storage import keys
from capacity.transfers import jobs
from tests.transfers.support import DELFT, ERASMUS, FRANCISCUS, MAASSTAD, request, room

NL = {"Accept-Language": "nl"}
WARDS = [ERASMUS, FRANCISCUS, MAASSTAD]


async def _made(client, midwife, wards=WARDS) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/transfers", json=request(facilities=wards), headers=midwife)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _records(app) -> list[Refusal]:  # type: ignore[no-untyped-def]
    async with app.state.db.session() as session:
        return list((await session.exec(select(Refusal).order_by(col(Refusal.id)))).all())


async def _actions(app) -> list[str]:  # type: ignore[no-untyped-def]
    async with app.state.db.session() as session:
        return list((await session.exec(select(AuditEvent.action))).all())


async def _account(app, username: str) -> int:  # type: ignore[no-untyped-def]
    async with app.state.db.session() as session:
        return int((await session.exec(select(User.id).where(User.username == username))).one())


async def test_first_accept_places_the_request_and_a_second_is_told_it_is_placed(
    app, client, login
) -> None:  # type: ignore[no-untyped-def]
    admin, midwife = await login("admin"), await login("midwife")
    await room(client, admin, FRANCISCUS, 3)
    made = await _made(client, midwife)
    first, second = made["offers"][1], made["offers"][2]
    staff = await login(f"staff-{FRANCISCUS}")
    r = await client.post(f"/api/v1/offers/{first['id']}/accept", headers=staff)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["request"]["status"] == "placed"
    assert body["request"]["placed_facility_id"] == FRANCISCUS
    assert body["phone"] and body["phone"] == body["request"]["placed_phone"]
    statuses = [o["status"] for o in body["request"]["offers"]]
    assert statuses == ["withdrawn", "accepted", "withdrawn"]
    late = await login(f"staff-{MAASSTAD}")
    r = await client.post(f"/api/v1/offers/{second['id']}/accept", headers={**late, **NL})
    assert r.status_code == 409
    assert r.json()["detail"] == "al geplaatst bij een andere afdeling"
    r = await client.post(f"/api/v1/offers/{second['id']}/accept", headers=late)
    assert r.json()["detail"] == "already placed at another ward"
    r = await client.post(f"/api/v1/offers/{first['id']}/accept", headers=staff)
    assert r.status_code == 409  # accepted once, not twice
    records = await _records(app)
    assert [(r.decision, r.facility_id, r.reason) for r in records] == [
        ("accepted", FRANCISCUS, None)
    ]
    assert records[0].shown_status == "green" and records[0].shown_available == 3
    seen = await client.get(f"/api/v1/transfers/{made['id']}", headers=midwife)
    assert seen.json()["status"] == "placed" and seen.json()["placed_phone"] == body["phone"]
    assert "transfer.accept" in await _actions(app)


async def test_only_the_ward_asked_may_answer(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    made = await _made(client, midwife)
    offer = made["offers"][0]
    for who, status in (
        (f"staff-{DELFT}", 403),
        ("midwife", 403),
        ("admin", 403),
        ("analyst", 403),
    ):
        headers = await login(who)
        r = await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=headers)
        assert r.status_code == status, who
        body = {"reason": "no_bed"}
        r = await client.post(f"/api/v1/offers/{offer['id']}/decline", json=body, headers=headers)
        assert r.status_code == status, who
    staff = await login(f"staff-{ERASMUS}")
    assert (await client.post("/api/v1/offers/999999/accept", headers=staff)).status_code == 404


async def test_declines_are_refusals_and_when_all_declined_the_request_is_exhausted(
    app, client, login
) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    made = await _made(client, midwife)
    reasons = ["no_bed", "no_nurse", "neonatal_full"]
    first = made["offers"][0]
    staff0 = await login(f"staff-{ERASMUS}")
    bad = await client.post(
        f"/api/v1/offers/{first['id']}/decline", json={"reason": "no_answer"}, headers=staff0
    )
    assert bad.status_code == 422 and bad.json()["message"].startswith("reason:")
    bad = await client.post(
        f"/api/v1/offers/{first['id']}/decline", json={"reason": "maybe"}, headers=staff0
    )
    assert bad.status_code == 422 and "reason" in bad.json()["message"]
    for offer, reason in zip(made["offers"], reasons, strict=True):
        staff = await login(f"staff-{offer['facility_id']}")
        r = await client.post(
            f"/api/v1/offers/{offer['id']}/decline", json={"reason": reason}, headers=staff
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "declined" and r.json()["reason"] == reason
    again = await client.post(
        f"/api/v1/offers/{first['id']}/decline", json={"reason": "no_bed"}, headers=staff0
    )
    assert again.status_code == 409
    seen = (await client.get(f"/api/v1/transfers/{made['id']}", headers=midwife)).json()
    assert seen["status"] == "exhausted"
    records = await _records(app)
    assert [(r.facility_id, r.reason, r.decision) for r in records] == [
        (ERASMUS, "no_bed", "refused"),
        (FRANCISCUS, "no_nurse", "refused"),
        (MAASSTAD, "neonatal_full", "refused"),
    ]
    assert len({r.episode for r in records}) == 1 and records[0].episode
    assert {r.recorded_by for r in records} == {await _account(app, "midwife")}
    assert records[0].shown_status == "unknown"  # no figures: the picture showed nothing
    mine = await client.get("/api/v1/refusals/mine", headers=midwife)
    assert len(mine.json()["items"]) == 3  # hers, for the outcome within 24 hours
    r = await client.post(
        f"/api/v1/transfers/{made['id']}/offers", json={"facilities": [DELFT]}, headers=midwife
    )
    assert r.status_code == 201 and r.json()["status"] == "open"


async def test_offers_past_their_deadline_expire_as_no_answer(app, client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    made = await _made(client, midwife)
    state = app.state
    now = datetime.now(UTC)
    assert await jobs.expire_due(db=state.db, store=state.store, settings=state.settings) == []
    expired = await jobs.expire_due(
        db=state.db, store=state.store, settings=state.settings, now=now + timedelta(minutes=6)
    )
    assert sorted(expired) == sorted(o["id"] for o in made["offers"])
    seen = (await client.get(f"/api/v1/transfers/{made['id']}", headers=midwife)).json()
    assert seen["status"] == "exhausted"
    assert {(o["status"], o["reason"]) for o in seen["offers"]} == {("expired", "no_answer")}
    records = await _records(app)
    assert [(r.facility_id, r.reason) for r in records] == [(w, "no_answer") for w in WARDS]
    assert "transfer.expire" in await _actions(app)
    staff = await login(f"staff-{ERASMUS}")
    late = await client.post(f"/api/v1/offers/{made['offers'][0]['id']}/accept", headers=staff)
    assert late.status_code == 409


async def test_each_change_is_published_to_the_ward_and_the_request(app, client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    pubsub = app.state.store.redis.pubsub()
    await pubsub.subscribe(keys.transfer_facility_channel(MAASSTAD))
    made = await _made(client, midwife)
    await pubsub.subscribe(keys.transfer_request_channel(made["id"]))
    staff = await login(f"staff-{ERASMUS}")
    r = await client.post(f"/api/v1/offers/{made['offers'][0]['id']}/accept", headers=staff)
    assert r.status_code == 200
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while len(got) < 3:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                got.append(orjson.loads(message["data"]))
    await pubsub.aclose()
    assert [m["type"] for m in got] == ["offer", "transfer", "offer"]
    assert got[0]["offer"]["status"] == "pending"  # sent to Maasstad
    assert got[1]["request"]["status"] == "placed"
    assert got[2]["offer"]["status"] == "withdrawn"  # Maasstad's, withdrawn at once


async def test_statistics_per_week_for_analysts_only(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    placed = await _made(client, midwife)
    await _made(client, midwife)
    staff = await login(f"staff-{ERASMUS}")
    await client.post(f"/api/v1/offers/{placed['offers'][0]['id']}/accept", headers=staff)
    analyst = await login("analyst-zuidwest")
    r = await client.get("/api/v1/transfers/stats", headers=analyst)
    assert r.status_code == 200, r.text
    assert r.json()["region"] == "zuidwest"
    (week,) = r.json()["weeks"]
    assert week["requests"] == 2 and week["placed"] == 1
    assert week["share_placed_at_first_ward"] == 1.0
    assert week["wards_asked_per_request"] == 3.0
    assert 0 <= week["median_minutes_to_acceptance"] < 1
    r = await client.get("/api/v1/transfers/stats", params={"region": "west"}, headers=analyst)
    assert r.status_code == 403
    for who in ("midwife", f"staff-{ERASMUS}"):
        r = await client.get("/api/v1/transfers/stats", headers=await login(who))
        assert r.status_code == 403, who
