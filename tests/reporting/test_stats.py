"""Refusal statistics against a hand-counted fixture, and who may read them."""

from __future__ import annotations

import pytest

from tests.conftest import ERASMUS
from tests.reporting.data import IKAZIA, at, make, october, store

OCT = {"region": "zuidwest", "from": "2026-10-01", "to": "2026-10-31"}


async def stats(client, login, user="analyst-zuidwest", **params):  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/refusals/stats", params={**OCT, **params}, headers=await login(user)
    )
    assert response.status_code == 200, response.text
    return response.json()


def groups(body):  # type: ignore[no-untyped-def]
    return {g["key"]: g["count"] for g in body["groups"] if g["count"]}


async def test_totals_match_the_hand_counted_fixture(client, login, app):
    await store(app, october())
    body = await stats(client, login)
    assert (body["region"], body["from"], body["to"]) == ("zuidwest", "2026-10-01", "2026-10-31")
    assert (body["total"], body["shown_available"], body["searches"], body["accepted"]) == (
        5,
        2,
        4,
        2,
    )
    assert body["refusal_rate"] == round(5 / 7, 4)
    by_facility = {g["key"]: g for g in body["groups"]}
    assert (by_facility[ERASMUS]["count"], by_facility[ERASMUS]["accepted"]) == (4, 1)
    assert by_facility[ERASMUS]["refusal_rate"] == 0.8
    assert (by_facility[IKAZIA]["count"], by_facility[IKAZIA]["refusal_rate"]) == (1, 0.5)
    outcomes = body["outcomes"]
    assert (outcomes["recorded"], outcomes["placed"], outcomes["home_birth"]) == (2, 1, 1)
    assert outcomes["placed_outside_region"] == 0
    assert (
        outcomes["median_calls_until_placement"],
        outcomes["median_minutes_until_placement"],
    ) == (3, 40)


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("hour", {"00": 2, "10": 2, "15": 1}),
        ("weekday", {"monday": 2, "tuesday": 2, "thursday": 1}),
        ("week", {"2026-W40": 1, "2026-W41": 2, "2026-W42": 1, "2026-W43": 1}),
        ("month", {"2026-10": 5}),
        ("reason", {"no_bed": 3, "no_nurse": 1, "stop": 1}),
        ("request_type", {"medical": 3, "acute": 1, "non_medical": 1}),
        ("category", {"delivery_room": 4, "maternity_bed": 1}),
    ],
)
async def test_groupings_match_the_fixture(client, login, app, group_by, expected):
    await store(app, october())
    body = await stats(client, login, group_by=group_by)
    assert groups(body) == expected
    if group_by == "hour":
        assert len(body["groups"]) == 24


async def test_all_region_analyst_and_admin_may_read(client, login, app):
    await store(app, october())
    assert (await stats(client, login, "analyst"))["total"] == 5
    assert (await stats(client, login, "admin", region="noord"))["total"] == 1


@pytest.mark.parametrize(
    ("user", "params", "status"),
    [
        ("analyst-zuidwest", {"region": "noord"}, 403),
        ("midwife", {}, 403),
        (f"staff-{ERASMUS}", {}, 403),
        ("analyst", {"region": "atlantis"}, 404),
        ("analyst", {"from": "2026-11-01", "to": "2026-10-01"}, 422),
        ("analyst", {"from": "2020-01-01", "to": "2026-10-01"}, 422),
        ("analyst", {"from": "2026-13-01"}, 422),
        ("analyst", {"group_by": "colour"}, 422),
    ],
)
async def test_bad_stats_requests(client, login, user, params, status):
    response = await client.get(
        "/api/v1/refusals/stats", params={**OCT, **params}, headers=await login(user)
    )
    assert response.status_code == status, response.text


async def test_a_search_counts_its_latest_outcome_once(client, login, app):
    """Two outcomes in one episode: the later one counts; medians over searches, not records."""
    await store(
        app,
        [
            make(
                ERASMUS,
                "2026-10-07T10:00:00",
                episode="ep-cccccccc",
                outcome="placed",
                calls_until_placement=9,
                outcome_at=at("2026-10-07T11:00:00"),
            ),
            make(
                IKAZIA,
                "2026-10-07T10:20:00",
                episode="ep-cccccccc",
                outcome="placed_outside_region",
                placed_outside_region=True,
                calls_until_placement=2,
                minutes_until_placement=90,
                outcome_at=at("2026-10-07T12:00:00"),
            ),
            make(
                ERASMUS,
                "2026-10-08T10:00:00",
                outcome="birth_en_route",
                calls_until_placement=5,
                outcome_at=at("2026-10-08T11:00:00"),
            ),
        ],
    )
    outcomes = (await stats(client, login))["outcomes"]
    assert (outcomes["recorded"], outcomes["placed"]) == (2, 0)
    assert (outcomes["placed_outside_region"], outcomes["birth_en_route"]) == (1, 1)
    assert outcomes["median_calls_until_placement"] == 3.5  # searches: 2 and 5
    assert outcomes["median_minutes_until_placement"] == 90
