"""Recording refusals and outcomes: closed lists, the shown status, the 24-hour rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from capacity.audit.models import AuditEvent
from capacity.refusals.models import Refusal
from tests.conftest import ERASMUS

IKAZIA = "ikazia-ziekenhuis-rotterdam"
UMCG = "universitair-medisch-centrum-groningen"


def now_iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def refusal(**changes):  # type: ignore[no-untyped-def]
    body = {
        "occurred_at": now_iso(timedelta(minutes=-5)),
        "facility_id": ERASMUS,
        "category": "delivery_room",
        "request_type": "medical",
        "reason": "no_nurse",
        "gestational_age_band": ">=37",
        "indication": "failure_to_progress",
    }
    body.update(changes)
    return body


async def backdate(app, refusal_id: int, **times: datetime) -> None:  # type: ignore[no-untyped-def]
    """Move a stored record's times back, as the API never lets anyone do."""
    async with app.state.db.session() as session:
        await session.exec(update(Refusal).where(Refusal.id == refusal_id).values(**times))  # type: ignore[arg-type]
        await session.commit()


async def set_figures(client, login, available, staffed=4):  # type: ignore[no-untyped-def]
    response = await client.put(
        f"/api/v1/facilities/{ERASMUS}/capacity",
        json={"categories": {"delivery_room": {"available": available, "staffed": staffed}}},
        headers=await login(f"staff-{ERASMUS}"),
    )
    assert response.status_code == 200, response.text


async def stored(app) -> list[Refusal]:  # type: ignore[no-untyped-def]
    async with app.state.db.session() as session:
        return list((await session.exec(select(Refusal))).all())


async def test_midwife_records_refusal_with_region_and_shown_status(client, login, app):
    await set_figures(client, login, available=3)
    response = await client.post("/api/v1/refusals", json=refusal(), headers=await login("midwife"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] > 0
    assert body["region"] == "zuidwest"
    assert body["decision"] == "refused"
    assert (body["shown_status"], body["shown_stale"], body["shown_available"]) == (
        "green",
        False,
        3,
    )
    assert "recorded_by" not in body
    async with app.state.db.session() as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "refusal.create"))
        ).all()
    assert [e.entity_id for e in events] == [str(body["id"])]


async def test_shown_status_reflects_the_picture_at_recording_time(client, login):
    midwife = await login("midwife")
    await set_figures(client, login, available=2)
    first = await client.post("/api/v1/refusals", json=refusal(), headers=midwife)
    await set_figures(client, login, available=0)
    second = await client.post("/api/v1/refusals", json=refusal(), headers=midwife)
    assert first.json()["shown_status"] == "green"
    assert second.json()["shown_status"] == "red"


async def test_refusal_during_a_stop_shows_stop(client, login):
    await set_figures(client, login, available=2)
    staff = await login(f"staff-{ERASMUS}")
    assert (
        await client.put(
            f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "staff"}, headers=staff
        )
    ).status_code == 200
    body = (
        await client.post("/api/v1/refusals", json=refusal(), headers=await login("midwife"))
    ).json()
    assert (body["shown_status"], body["shown_stop_reason"]) == ("stop", "staff")


async def test_category_never_reported_shows_unknown(client, login):
    body = (
        await client.post(
            "/api/v1/refusals", json=refusal(category="nicu"), headers=await login("midwife")
        )
    ).json()
    assert (body["shown_status"], body["shown_available"]) == ("unknown", None)


async def test_facility_staff_records_a_refusal_their_facility_gave(client, login):
    staff = await login(f"staff-{ERASMUS}")
    assert (await client.post("/api/v1/refusals", json=refusal(), headers=staff)).status_code == 201


async def test_accepted_transfer_is_recorded_without_reason(client, login):
    body = refusal(decision="accepted", reason=None)
    response = await client.post("/api/v1/refusals", json=body, headers=await login("midwife"))
    assert response.status_code == 201, response.text
    assert response.json()["decision"] == "accepted"
    with_reason = await client.post(
        "/api/v1/refusals", json=refusal(decision="accepted"), headers=await login("midwife")
    )
    assert with_reason.status_code == 422


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": now_iso(timedelta(hours=1))}, "occurred_at"),
        ({"occurred_at": now_iso(timedelta(days=-8))}, "occurred_at"),
        ({"occurred_at": "2026-10-01T10:00:00"}, "occurred_at"),  # no offset
        ({"facility_id": "no-such-hospital"}, "facility_id"),
        ({"category": "operating_theatre"}, "category"),
        ({"facility_id": IKAZIA, "category": "nicu"}, "category"),  # not offered there
        ({"gestational_age_band": "25"}, "gestational_age_band"),
        ({"request_type": "urgent"}, "request_type"),
        ({"reason": "busy"}, "reason"),
        ({"reason": None}, "reason"),
        ({"indication": "she was tired"}, "indication"),
        ({"episode": "x"}, "episode"),
        ({"episode": "Maria_de_Vries-1991-03-15"}, "episode"),
        ({"episode": "0" * 32}, "episode"),  # the right shape, but never issued
        ({"note": "called at 3am"}, "note"),
        ({"bsn": "123456782"}, "bsn"),
        ({"name": "J. Jansen"}, "name"),
    ],
)
async def test_bad_refusals_are_422_naming_the_field_and_store_nothing(
    client, login, app, changes, field
):
    response = await client.post(
        "/api/v1/refusals", json=refusal(**changes), headers=await login("midwife")
    )
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert await stored(app) == []


async def test_analysts_and_anonymous_callers_cannot_record(client, login):
    assert (await client.post("/api/v1/refusals", json=refusal())).status_code == 401
    analyst = await login("analyst-zuidwest")
    assert (
        await client.post("/api/v1/refusals", json=refusal(), headers=analyst)
    ).status_code == 403


async def test_recording_midwife_sets_the_outcome(client, login):
    midwife = await login("midwife")
    created = (await client.post("/api/v1/refusals", json=refusal(), headers=midwife)).json()
    outcome = {
        "outcome": "placed",
        "placed_facility_id": IKAZIA,
        "calls_until_placement": 3,
        "minutes_until_placement": 40,
    }
    response = await client.patch(
        f"/api/v1/refusals/{created['id']}", json=outcome, headers=midwife
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["outcome"], body["placed_outside_region"], body["calls_until_placement"]) == (
        "placed",
        False,
        3,
    )
    outside = {"outcome": "placed_outside_region", "placed_facility_id": UMCG}
    body = (
        await client.patch(f"/api/v1/refusals/{created['id']}", json=outside, headers=midwife)
    ).json()
    assert body["placed_outside_region"] is True


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        ({"outcome": "placed", "placed_facility_id": UMCG}, "outcome"),
        ({"outcome": "placed_outside_region", "placed_facility_id": IKAZIA}, "placed_facility_id"),
        ({"outcome": "home_birth", "placed_facility_id": IKAZIA}, "placed_facility_id"),
        ({"outcome": "placed", "placed_facility_id": "nowhere"}, "placed_facility_id"),
        ({"outcome": "lost"}, "outcome"),
        ({"outcome": "placed", "calls_until_placement": -1}, "calls_until_placement"),
        ({"outcome": "placed", "comment": "fine"}, "comment"),
    ],
)
async def test_bad_outcomes_are_422(client, login, outcome, field):
    midwife = await login("midwife")
    created = (await client.post("/api/v1/refusals", json=refusal(), headers=midwife)).json()
    response = await client.patch(
        f"/api/v1/refusals/{created['id']}", json=outcome, headers=midwife
    )
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]


async def test_another_account_cannot_set_the_outcome(client, login):
    staff = await login(f"staff-{ERASMUS}")
    created = (await client.post("/api/v1/refusals", json=refusal(), headers=staff)).json()
    response = await client.patch(
        f"/api/v1/refusals/{created['id']}",
        json={"outcome": "home_birth"},
        headers=await login("midwife"),
    )
    assert response.status_code == 403
    assert (
        await client.patch("/api/v1/refusals/999999", json={"outcome": "home_birth"}, headers=staff)
    ).status_code == 404


async def test_outcome_after_24_hours_is_refused(client, login, app):
    midwife = await login("midwife")
    created = (await client.post("/api/v1/refusals", json=refusal(), headers=midwife)).json()
    await backdate(app, created["id"], recorded_at=datetime.now(UTC) - timedelta(hours=25))
    response = await client.patch(
        f"/api/v1/refusals/{created['id']}", json={"outcome": "home_birth"}, headers=midwife
    )
    assert response.status_code == 403
    assert (await stored(app))[0].outcome is None
