"""Hospitals' systems: a key reads its own facility's entry; a group key serves several."""

from __future__ import annotations

from typing import Any

from tests.api.support import IKAZIA, SOPHIA, entry, picture
from tests.conftest import ERASMUS

NICU = {"categories": {"nicu": {"available": 2, "staffed": 9}}}
ROOMS = {"categories": {"delivery_room": {"available": 1, "staffed": 5}}}


def capacity(facility: str) -> str:
    return f"/api/v1/facilities/{facility}/capacity"


async def make_key(client, admin, **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    made = await client.post("/api/v1/keys", json=body, headers=admin)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


async def test_a_key_reads_its_own_facility_entry_and_no_other(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    made = await client.post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
    key = {"X-API-Key": made.json()["key"]}
    pushed = await client.put(capacity(ERASMUS), json=NICU, headers=key)
    own = await client.get(capacity(ERASMUS), headers=key)
    assert own.status_code == 200
    assert own.json() == pushed.json()
    assert own.headers["ETag"] == pushed.headers["ETag"]
    assert (await client.get(capacity(IKAZIA), headers=key)).status_code == 403
    assert (await client.get(capacity("no-such-facility"), headers=key)).status_code == 403
    # Still only its entry: the region's picture stays closed to keys.
    assert (await client.get("/api/v1/regions/zuidwest/capacity", headers=key)).status_code == 403


async def test_accounts_read_an_entry_as_they_read_its_region(client, login):  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    shown = await client.get(capacity(ERASMUS), headers=midwife)
    assert shown.json() == entry(await picture(client, midwife), ERASMUS)
    other_analyst = await login("analyst-noord")
    assert (await client.get(capacity(ERASMUS), headers=other_analyst)).status_code == 403
    assert (await client.get(capacity("no-such-facility"), headers=midwife)).status_code == 404


async def test_a_group_key_pushes_and_reads_for_its_facilities_only(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    made = await make_key(client, admin, facility_ids=[ERASMUS, IKAZIA], label="groep-rotterdam")
    assert made["facility_ids"] == [ERASMUS, IKAZIA]
    key = {"X-API-Key": made["key"]}
    assert (await client.put(capacity(ERASMUS), json=NICU, headers=key)).status_code == 200
    pushed = await client.put(capacity(IKAZIA), json=ROOMS, headers=key)
    assert pushed.status_code == 200, pushed.text
    room = pushed.json()["categories"]["delivery_room"]
    assert room["updated_by"] == f"key:{IKAZIA}"
    assert room["updated_by_label"] == "groep-rotterdam"
    assert (await client.get(capacity(IKAZIA), headers=key)).json() == pushed.json()
    midwife = await login("midwife")
    assert entry(await picture(client, midwife), IKAZIA)["categories"]["delivery_room"] == room
    stop = await client.put(
        f"/api/v1/facilities/{IKAZIA}/stop", json={"reason": "staff"}, headers=key
    )
    assert stop.status_code == 200
    assert (await client.put(capacity(SOPHIA), json=ROOMS, headers=key)).status_code == 403
    assert (await client.get(capacity(SOPHIA), headers=key)).status_code == 403
    assert entry(await picture(client, midwife), IKAZIA)["stop"]["reason"] == "staff"
    assert entry(await picture(client, midwife), SOPHIA)["categories"] == {}


async def test_the_admin_list_shows_a_group_key_under_each_of_its_facilities(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    made = await make_key(client, admin, facility_ids=[IKAZIA, ERASMUS])
    for facility in (ERASMUS, IKAZIA):
        listed = await client.get("/api/v1/keys", params={"facility": facility}, headers=admin)
        found = [k for k in listed.json() if k["id"] == made["id"]]
        assert found and found[0]["facility_ids"] == [IKAZIA, ERASMUS]
    single = await client.post(f"/api/v1/facilities/{SOPHIA}/keys", json={}, headers=admin)
    listed = await client.get("/api/v1/keys", params={"facility": SOPHIA}, headers=admin)
    assert [k["facility_ids"] for k in listed.json()] == [[SOPHIA]]
    assert single.json()["facility_ids"] == [SOPHIA]


async def test_rotating_a_group_key_keeps_its_facilities_and_stops_the_old_key(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    made = await make_key(client, admin, facility_ids=[ERASMUS, IKAZIA])
    rotated = await client.post(f"/api/v1/keys/{made['id']}/rotate", headers=admin)
    assert rotated.status_code == 201
    assert rotated.json()["facility_ids"] == [ERASMUS, IKAZIA]
    new, old = {"X-API-Key": rotated.json()["key"]}, {"X-API-Key": made["key"]}
    for facility in (ERASMUS, IKAZIA):
        assert (await client.put(capacity(facility), json=ROOMS, headers=new)).status_code == 200
        assert (await client.put(capacity(facility), json=ROOMS, headers=old)).status_code == 401


async def test_a_revoked_group_key_is_401_for_every_facility(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    made = await make_key(client, admin, facility_ids=[ERASMUS, IKAZIA])
    key = {"X-API-Key": made["key"]}
    assert (await client.put(capacity(IKAZIA), json=ROOMS, headers=key)).status_code == 200
    revoked = await client.delete(f"/api/v1/keys/{made['id']}", headers=admin)
    assert revoked.json()["facility_ids"] == [ERASMUS, IKAZIA]
    for facility in (ERASMUS, IKAZIA, SOPHIA):
        assert (await client.put(capacity(facility), json=ROOMS, headers=key)).status_code == 401
        assert (await client.get(capacity(facility), headers=key)).status_code == 401


async def test_a_group_key_names_known_facilities_each_once(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    twice = await client.post(
        "/api/v1/keys", json={"facility_ids": [ERASMUS, ERASMUS]}, headers=admin
    )
    assert twice.status_code == 422
    assert "facility_ids" in twice.json()["message"]
    unknown = await client.post(
        "/api/v1/keys", json={"facility_ids": [ERASMUS, "no-such-facility"]}, headers=admin
    )
    assert unknown.status_code == 404
    none = await client.post("/api/v1/keys", json={"facility_ids": []}, headers=admin)
    assert none.status_code == 422
    listed = await client.get("/api/v1/keys", headers=admin)
    assert listed.json() == []  # nothing half-made
