"""The midwife's own list ("mijn meldingen") and refusals without a request type."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.auth.test_access import new_key
from tests.conftest import ERASMUS
from tests.refusals.test_recording import IKAZIA, backdate, now_iso, refusal


async def mine(client, headers, **params):  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/refusals/mine", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_midwife_lists_her_own_refusals_newest_first(client, login):
    midwife = await login("midwife")
    staff = await login(f"staff-{ERASMUS}")
    older = refusal(occurred_at=now_iso(timedelta(hours=-3)))
    newer = refusal(occurred_at=now_iso(timedelta(minutes=-10)), facility_id=IKAZIA)
    ids = []
    for body in (older, newer):
        response = await client.post("/api/v1/refusals", json=body, headers=midwife)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    assert (await client.post("/api/v1/refusals", json=refusal(), headers=staff)).is_success

    items = await mine(client, midwife)
    assert [i["id"] for i in items] == ids[::-1]
    assert items[0]["facility_id"] == IKAZIA and "recorded_by" not in items[0]
    recorded = datetime.fromisoformat(items[0]["recorded_at"])
    until = datetime.fromisoformat(items[0]["outcome_editable_until"])
    assert until - recorded == timedelta(hours=24) and until.utcoffset() is not None
    assert len(await mine(client, staff)) == 1


async def test_days_limits_the_list_by_call_time(client, login, app):
    midwife = await login("midwife")
    created = (await client.post("/api/v1/refusals", json=refusal(), headers=midwife)).json()
    await backdate(app, created["id"], occurred_at=datetime.now(UTC) - timedelta(days=10))
    assert await mine(client, midwife) == []
    assert [i["id"] for i in await mine(client, midwife, days=11)] == [created["id"]]


@pytest.mark.parametrize("days", ["0", "32", "seven"])
async def test_bad_days_is_422_naming_days(client, login, days):
    response = await client.get(
        "/api/v1/refusals/mine", params={"days": days}, headers=await login("midwife")
    )
    assert response.status_code == 422
    assert "days" in response.json()["message"]


async def test_only_recorders_have_a_list(client, login):
    assert (await client.get("/api/v1/refusals/mine")).status_code == 401
    analyst = await login("analyst-zuidwest")
    assert (await client.get("/api/v1/refusals/mine", headers=analyst)).status_code == 403
    key = await new_key(client, login)
    assert (await client.get("/api/v1/refusals/mine", headers=key)).status_code == 403


@pytest.mark.parametrize("missing", ["absent", "null"])
async def test_request_type_may_be_left_out_and_counts_as_unknown(client, login, missing):
    body = refusal()
    if missing == "absent":
        del body["request_type"]
    else:
        body["request_type"] = None
    midwife = await login("midwife")
    response = await client.post("/api/v1/refusals", json=body, headers=midwife)
    assert response.status_code == 201, response.text
    assert response.json()["request_type"] is None
    medical = await client.post("/api/v1/refusals", json=refusal(), headers=midwife)
    assert medical.status_code == 201

    today = date.today()
    params = {"region": "zuidwest", "from": str(today - timedelta(days=1))}
    params["to"] = str(today + timedelta(days=1))
    analyst = await login("analyst-zuidwest")
    stats = await client.get(
        "/api/v1/refusals/stats", params={**params, "group_by": "request_type"}, headers=analyst
    )
    assert {g["key"]: g["count"] for g in stats.json()["groups"]} == {"unknown": 1, "medical": 1}

    export = await client.get(
        "/api/v1/refusals/export", params={**params, "codes": "true", "sep": ","}, headers=analyst
    )
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows[str(response.json()["id"])]["request_type"] == ""
    assert rows[str(medical.json()["id"])]["request_type"] == "medical"
