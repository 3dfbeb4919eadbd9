"""``measured_at`` on pushed figures: freshness counts from it, within plausible bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.support import entry, history_rows, picture
from tests.conftest import ERASMUS

CAPACITY = f"/api/v1/facilities/{ERASMUS}/capacity"


def body(measured: datetime) -> dict[str, object]:
    return {
        "categories": {"nicu": {"available": 4, "staffed": 9}},
        "measured_at": measured.isoformat(),
    }


async def test_freshness_counts_from_when_the_figures_were_measured(client, login, settings):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    measured = datetime.now(UTC) - timedelta(minutes=settings.freshness_limit_minutes - 10)
    pushed = await client.put(CAPACITY, json=body(measured), headers=staff)
    assert pushed.status_code == 200, pushed.text
    nicu = pushed.json()["categories"]["nicu"]
    assert datetime.fromisoformat(nicu["measured_at"]) == measured
    stale_at = measured + timedelta(minutes=settings.freshness_limit_minutes)
    assert datetime.fromisoformat(nicu["stale_at"]) == stale_at
    assert datetime.fromisoformat(nicu["updated_at"]) > measured  # when it was received
    shown = entry(await picture(client, await login("midwife")), ERASMUS)["categories"]["nicu"]
    assert shown["measured_at"] == nicu["measured_at"]
    # A push without measured_at counts from its arrival again.
    again = await client.put(
        CAPACITY, json={"categories": {"nicu": {"available": 4, "staffed": 9}}}, headers=staff
    )
    assert again.json()["categories"]["nicu"]["measured_at"] is None


async def test_figures_measured_in_the_future_are_refused_naming_the_field(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    changes = await history_rows(app.state.db)
    ahead = await client.put(
        CAPACITY, json=body(datetime.now(UTC) + timedelta(minutes=5)), headers=staff
    )
    assert ahead.status_code == 422
    assert ahead.json()["detail"][0]["loc"] == ["body", "measured_at"]
    assert await history_rows(app.state.db) == changes
    # A sender's clock a few seconds ahead is no reason to refuse.
    skewed = await client.put(
        CAPACITY, json=body(datetime.now(UTC) + timedelta(seconds=20)), headers=staff
    )
    assert skewed.status_code == 200, skewed.text


async def test_figures_measured_before_the_freshness_limit_are_refused(
    client, login, app, settings
):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    changes = await history_rows(app.state.db)
    old = datetime.now(UTC) - timedelta(minutes=settings.freshness_limit_minutes + 1)
    refused = await client.put(CAPACITY, json=body(old), headers=staff)
    assert refused.status_code == 422
    assert refused.json()["message"].startswith("measured_at:")
    assert await history_rows(app.state.db) == changes
    naive = await client.put(
        CAPACITY,
        json={**body(datetime.now(UTC)), "measured_at": "2026-12-05T04:00:00"},
        headers=staff,
    )
    assert naive.status_code == 422  # without an offset the moment is unknown
    assert naive.json()["detail"][0]["loc"] == ["body", "measured_at"]
