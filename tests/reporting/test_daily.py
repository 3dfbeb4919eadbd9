"""refusal_daily, which the statistics read, always says what the records say."""

from __future__ import annotations

from datetime import date, timedelta

from alembic import command
from sqlalchemy import text

from capacity import setup
from tests.conftest import ERASMUS
from tests.refusals.test_recording import refusal
from tests.reporting.daily import agrees, engine, records
from tests.reporting.data import IKAZIA, insert_old, october


async def facility_stats(client, login) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    """Groups by facility of the days around today (local dates)."""
    today = date.today()
    days = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    response = await client.get(
        "/api/v1/refusals/stats",
        params={"region": "zuidwest", **days, "group_by": "facility"},
        headers=await login("analyst-zuidwest"),
    )
    assert response.status_code == 200, response.text
    return {g["key"]: g for g in response.json()["groups"]}


async def test_daily_counts_follow_create_outcome_correction_and_delete(client, login, settings):
    url = settings.database_url
    midwife = await login("midwife")
    first = await client.post("/api/v1/refusals", json=refusal(), headers=midwife)
    no_type = refusal(request_type=None, episode=None, reason="no_bed")
    second = await client.post("/api/v1/refusals", json=no_type, headers=midwife)
    accepted = refusal(decision="accepted", reason=None, facility_id=IKAZIA)
    assert (await client.post("/api/v1/refusals", json=accepted, headers=midwife)).is_success
    assert first.status_code == second.status_code == 201
    assert agrees(url)
    patch = {"outcome": "home_birth"}
    patched = await client.patch(
        f"/api/v1/refusals/{first.json()['id']}", json=patch, headers=midwife
    )
    assert patched.status_code == 200, patched.text
    assert agrees(url)

    # a correction moves a record to another facility and to "shown available"
    eng = engine(url)
    with eng.begin() as conn:
        conn.execute(
            text("UPDATE refusal SET facility_id = :f, shown_status = 'green' WHERE id = :id"),
            {"f": IKAZIA, "id": second.json()["id"]},
        )
    assert agrees(url)
    rows = await facility_stats(client, login)
    assert (rows[ERASMUS]["count"], rows[IKAZIA]["count"]) == (1, 1)
    assert (rows[IKAZIA]["shown_available"], rows[IKAZIA]["accepted"]) == (1, 1)

    with eng.begin() as conn:
        conn.execute(text("DELETE FROM refusal WHERE id = :id"), {"id": first.json()["id"]})
    eng.dispose()
    assert agrees(url)


def test_migration_fills_the_daily_table_from_existing_records(settings):
    url = settings.database_url
    config = setup.alembic_config(url)
    command.downgrade(config, "0002")
    eng = engine(url)
    insert_old(eng, october())
    eng.dispose()
    command.upgrade(config, "head")
    assert len(records(url)) == len(october())
    assert agrees(url)
