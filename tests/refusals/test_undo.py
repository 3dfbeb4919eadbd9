"""Undo (DELETE within 15 minutes, by the recorder only) and the client key that makes a record
sent twice land once (issue 12.5)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from capacity.audit.models import AuditEvent
from capacity.refusals.models import Episode
from tests.conftest import ERASMUS
from tests.refusals.test_recording import IKAZIA, backdate, now_iso, refusal, stored
from tests.reporting.daily import agrees

DAYS = {"from": str(date.today() - timedelta(days=1)), "to": str(date.today() + timedelta(days=1))}


async def audit_events(app, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    async with app.state.db.session() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list((await session.exec(query)).all())


async def region_total(client, login) -> int:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/refusals/stats",
        params={"region": "zuidwest", **DAYS},
        headers=await login("analyst-zuidwest"),
    )
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def exported_ids(client, login) -> list[str]:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/refusals/export",
        params={"region": "zuidwest", "codes": "true", "sep": ",", **DAYS},
        headers=await login("analyst-zuidwest"),
    )
    assert response.status_code == 200, response.text
    return [row["id"] for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))]


# ---- undo --------------------------------------------------------------------------------


async def test_midwife_undoes_her_refusal_and_it_leaves_stats_and_exports(
    client, login, app, settings
):
    midwife = await login("midwife")
    kept = (await client.post("/api/v1/refusals", json=refusal(), headers=midwife)).json()
    mistake = await client.post(
        "/api/v1/refusals", json=refusal(facility_id=IKAZIA), headers=midwife
    )
    assert mistake.status_code == 201, mistake.text
    gone = mistake.json()["id"]
    assert await region_total(client, login) == 2

    response = await client.delete(f"/api/v1/refusals/{gone}", headers=midwife)
    assert response.status_code == 204, response.text
    assert [r.id for r in await stored(app)] == [kept["id"]]
    assert await region_total(client, login) == 1
    assert await exported_ids(client, login) == [str(kept["id"])]
    assert agrees(settings.database_url)
    mine = await client.get("/api/v1/refusals/mine", headers=midwife)
    assert [i["id"] for i in mine.json()["items"]] == [kept["id"]]
    # the trail keeps who undid which record, and when
    [event] = await audit_events(app, "refusal.delete")
    assert (event.actor, event.entity, event.entity_id) == ("user:midwife", "refusal", str(gone))
    assert event.detail["facility_id"] == IKAZIA
    assert datetime.now(UTC) - event.at < timedelta(minutes=1)
    # undone once: a second undo and a late outcome find nothing
    again = await client.delete(f"/api/v1/refusals/{gone}", headers=midwife)
    assert again.status_code == 404 and "undone" in again.json()["detail"]
    late = await client.patch(
        f"/api/v1/refusals/{gone}", json={"outcome": "unknown"}, headers=midwife
    )
    assert late.status_code == 404


async def test_an_accepted_transfer_is_undone_too(client, login):
    midwife = await login("midwife")
    body = refusal(decision="accepted", reason=None)
    created = await client.post("/api/v1/refusals", json=body, headers=midwife)
    assert created.status_code == 201 and created.json()["reason"] is None
    response = await client.delete(f"/api/v1/refusals/{created.json()['id']}", headers=midwife)
    assert response.status_code == 204


async def test_undo_after_15_minutes_is_409_saying_why(client, login, app):
    midwife = await login("midwife")
    created = (await client.post("/api/v1/refusals", json=refusal(), headers=midwife)).json()
    mine = (await client.get("/api/v1/refusals/mine", headers=midwife)).json()["items"][0]
    recorded = datetime.fromisoformat(mine["recorded_at"])
    assert datetime.fromisoformat(mine["undo_until"]) - recorded == timedelta(minutes=15)

    await backdate(app, created["id"], recorded_at=datetime.now(UTC) - timedelta(minutes=16))
    response = await client.delete(f"/api/v1/refusals/{created['id']}", headers=midwife)
    assert response.status_code == 409
    assert "within 15 minutes" in response.json()["detail"]
    assert [r.id for r in await stored(app)] == [created["id"]]
    assert await audit_events(app, "refusal.delete") == []


@pytest.mark.parametrize("other", [f"staff-{ERASMUS}", "admin"])
async def test_only_the_recording_account_may_undo(client, login, app, other):
    created = (
        await client.post("/api/v1/refusals", json=refusal(), headers=await login("midwife"))
    ).json()
    response = await client.delete(f"/api/v1/refusals/{created['id']}", headers=await login(other))
    assert response.status_code == 403
    assert "only the account that recorded" in response.json()["detail"]
    analyst = await client.delete(
        f"/api/v1/refusals/{created['id']}", headers=await login("analyst-zuidwest")
    )
    assert analyst.status_code == 403
    assert len(await stored(app)) == 1


async def test_undo_of_an_unknown_record_is_404(client, login):
    response = await client.delete("/api/v1/refusals/999999", headers=await login("midwife"))
    assert response.status_code == 404


# ---- client key ----------------------------------------------------------------------------


async def test_the_same_client_key_sent_again_answers_the_stored_record(client, login, app):
    midwife = await login("midwife")
    body = refusal(client_key=str(uuid.uuid4()))
    first = await client.post("/api/v1/refusals", json=body, headers=midwife)
    again = await client.post("/api/v1/refusals", json=body, headers=midwife)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["client_key"] == body["client_key"]
    assert len(await stored(app)) == 1
    assert len(await audit_events(app, "refusal.create")) == 1
    # another key is another record
    other = await client.post(
        "/api/v1/refusals", json=refusal(client_key=str(uuid.uuid4())), headers=midwife
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_a_record_queued_for_hours_is_stored_with_the_time_she_tapped(client, login):
    midwife = await login("midwife")
    tapped = now_iso(timedelta(hours=-9))
    body = refusal(occurred_at=tapped, client_key=str(uuid.uuid4()))
    response = await client.post("/api/v1/refusals", json=body, headers=midwife)
    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["occurred_at"]) == datetime.fromisoformat(tapped)
    too_old = refusal(occurred_at=now_iso(timedelta(days=-8)), client_key=str(uuid.uuid4()))
    refused = await client.post("/api/v1/refusals", json=too_old, headers=midwife)
    assert refused.status_code == 422 and "occurred_at" in refused.json()["message"]


async def test_a_repeat_is_answered_even_when_its_episode_expired_since(client, login, app):
    """The answer was lost and the phone resends a day later: the stored record, not a 422."""
    midwife = await login("midwife")
    episode = (await client.post("/api/v1/episodes", headers=midwife)).json()["episode"]
    body = refusal(episode=episode, client_key=str(uuid.uuid4()))
    first = await client.post("/api/v1/refusals", json=body, headers=midwife)
    assert first.status_code == 201, first.text
    async with app.state.db.session() as session:
        await session.exec(update(Episode).values(expires_at=datetime.now(UTC)))
        await session.commit()
    again = await client.post("/api/v1/refusals", json=body, headers=midwife)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


async def test_the_same_key_with_other_facts_is_409(client, login, app):
    midwife = await login("midwife")
    key = str(uuid.uuid4())
    assert (
        await client.post("/api/v1/refusals", json=refusal(client_key=key), headers=midwife)
    ).status_code == 201
    other = refusal(client_key=key, facility_id=IKAZIA)
    response = await client.post("/api/v1/refusals", json=other, headers=midwife)
    assert response.status_code == 409 and "client_key" in response.json()["detail"]
    assert len(await stored(app)) == 1


async def test_client_keys_are_per_account(client, login, app):
    body = refusal(client_key=str(uuid.uuid4()))
    a = await client.post("/api/v1/refusals", json=body, headers=await login("midwife"))
    b = await client.post("/api/v1/refusals", json=body, headers=await login(f"staff-{ERASMUS}"))
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


async def test_a_client_key_is_a_random_uuid_or_422_naming_it(client, login, app):
    midwife = await login("midwife")
    for key in ("anna-de-vries", "123456789", str(uuid.uuid1()), str(uuid.uuid4()).upper(), 42):
        response = await client.post(
            "/api/v1/refusals", json=refusal(client_key=key), headers=midwife
        )
        assert response.status_code == 422, key
        assert "client_key" in response.json()["message"]
    assert await stored(app) == []
    good = await client.post(
        "/api/v1/refusals", json=refusal(client_key=str(uuid.uuid4())), headers=midwife
    )
    assert good.status_code == 201, good.text
