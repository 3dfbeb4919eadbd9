"""Writing figures and stops through the public API, as hospital staff and systems do."""

from __future__ import annotations

from tests.conftest import ERASMUS

IKAZIA = "ikazia-ziekenhuis-rotterdam"


async def picture(client, headers, region="zuidwest"):  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/regions/{region}/capacity", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def entry(pic, facility_id):  # type: ignore[no-untyped-def]
    return next(f for f in pic["facilities"] if f["facility_id"] == facility_id)


async def test_staff_update_shows_in_regional_picture_with_colour(client, login):
    staff = await login(f"staff-{ERASMUS}")
    response = await client.put(
        f"/api/v1/facilities/{ERASMUS}/capacity",
        json={"categories": {"delivery_room": {"available": 1, "staffed": 4}}},
        headers=staff,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["categories"]["delivery_room"]["status"] == "orange"
    midwife = await login("midwife")
    shown = entry(await picture(client, midwife), ERASMUS)
    assert shown["categories"]["delivery_room"] == body["categories"]["delivery_room"]
    assert "nicu" not in shown["categories"]  # never reported: no entry


async def test_staff_cannot_update_another_hospital(client, login):
    staff = await login(f"staff-{ERASMUS}")
    response = await client.put(
        f"/api/v1/facilities/{IKAZIA}/capacity",
        json={"categories": {"delivery_room": {"available": 1, "staffed": 4}}},
        headers=staff,
    )
    assert response.status_code == 403
    shown = entry(await picture(client, await login("midwife")), IKAZIA)
    assert shown["categories"] == {}


async def test_seq_and_version_rise_by_one_per_accepted_change_only(client, login):
    staff = await login(f"staff-{ERASMUS}")
    midwife = await login("midwife")
    before = await picture(client, midwife)
    good = {"categories": {"nicu": {"available": 3, "staffed": 10}}}
    bad = {"categories": {"nicu": {"available": 11, "staffed": 10}}}
    assert (
        await client.put(f"/api/v1/facilities/{ERASMUS}/capacity", json=good, headers=staff)
    ).status_code == 200
    assert (
        await client.put(f"/api/v1/facilities/{ERASMUS}/capacity", json=bad, headers=staff)
    ).status_code == 422
    after = await picture(client, midwife)
    assert after["seq"] == before["seq"] + 1
    assert entry(after, ERASMUS)["version"] == entry(before, ERASMUS)["version"] + 1
    assert entry(after, ERASMUS)["categories"]["nicu"]["available"] == 3
