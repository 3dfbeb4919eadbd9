"""Admins manage facilities: ward phone, categories offered, new facilities."""

from __future__ import annotations

from tests.api.support import IKAZIA, entry, picture, put_figures
from tests.conftest import ERASMUS

NEW = {
    "id": "geboortehuis-delft",
    "name": "Geboortehuis Delft",
    "kind": "birth_centre",
    "region": "west",
    "city": "Delft",
    "lat": 52.01,
    "lon": 4.36,
    "phone": "+31 15 123 4567",
}


async def test_admin_changes_ward_phone(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    response = await client.patch(
        f"/api/v1/facilities/{IKAZIA}", json={"phone": "010 297 5000"}, headers=admin
    )
    assert response.status_code == 200, response.text
    listed = (
        await client.get("/api/v1/facilities?region=zuidwest", headers=await login("midwife"))
    ).json()
    assert next(f for f in listed if f["id"] == IKAZIA)["phone"] == "010 297 5000"


async def test_dropping_a_category_removes_it_from_the_picture_and_refuses_its_figures(
    client, login
):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    figures = {
        "delivery_room": {"available": 1, "staffed": 3},
        "nicu": {"available": 2, "staffed": 8},
    }
    assert (await put_figures(client, ERASMUS, figures, staff)).status_code == 200
    before = await picture(client, await login("midwife"))
    categories = ["delivery_room", "maternity_bed", "obstetric_high_care", "neonatal_high_care"]
    response = await client.patch(
        f"/api/v1/facilities/{ERASMUS}",
        json={"categories": categories},
        headers=await login("admin"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["categories"] == categories
    after = await picture(client, await login("midwife"))
    assert after["seq"] > before["seq"]
    assert set(entry(after, ERASMUS)["categories"]) == {"delivery_room"}
    refused = await put_figures(client, ERASMUS, {"nicu": {"available": 2, "staffed": 8}}, staff)
    assert refused.status_code == 422
    assert "nicu" in refused.json()["message"]
    # offering it again brings the category back (with its last figure)
    await client.patch(
        f"/api/v1/facilities/{ERASMUS}",
        json={"categories": [*categories, "nicu"]},
        headers=await login("admin"),
    )
    assert (
        await put_figures(client, ERASMUS, {"nicu": {"available": 0, "staffed": 8}}, staff)
    ).status_code == 200


async def test_admin_adds_a_facility_that_appears_in_listing_and_picture(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    response = await client.post("/api/v1/facilities", json=NEW, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["categories"] == ["delivery_room", "maternity_bed"]
    midwife = await login("midwife")
    listed = (await client.get("/api/v1/facilities?region=west", headers=midwife)).json()
    assert NEW["id"] in [f["id"] for f in listed]
    shown = entry(await picture(client, midwife, region="west"), NEW["id"])
    assert shown == {
        "facility_id": NEW["id"],
        "version": 0,
        "updated_by": None,  # nobody has reported yet
        "stop": None,
        "categories": {},
    }
    figures = await put_figures(
        client, NEW["id"], {"delivery_room": {"available": 1, "staffed": 2}}, admin
    )
    assert figures.status_code == 200
    assert (await client.post("/api/v1/facilities", json=NEW, headers=admin)).status_code == 422


async def test_new_facility_with_unknown_region_is_rejected(client, login):  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/facilities", json={**NEW, "region": "atlantis"}, headers=await login("admin")
    )
    assert response.status_code == 422
    assert "region" in response.json()["message"]


async def test_only_admins_manage_facilities(client, login):  # type: ignore[no-untyped-def]
    for name in ("midwife", "analyst", "analyst-zuidwest", f"staff-{ERASMUS}"):
        headers = await login(name)
        patched = await client.patch(
            f"/api/v1/facilities/{ERASMUS}", json={"phone": "010 000 0000"}, headers=headers
        )
        assert patched.status_code == 403, name
        created = await client.post("/api/v1/facilities", json=NEW, headers=headers)
        assert created.status_code == 403, name
    listed = (await client.get("/api/v1/facilities", headers=await login("midwife"))).json()
    assert len(listed) == 76
    assert NEW["id"] not in [f["id"] for f in listed]
    assert next(f for f in listed if f["id"] == ERASMUS)["phone"] != "010 000 0000"


async def test_bad_facility_changes_are_422_naming_the_field(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    for body, field in (
        ({"categories": ["nicu", "nicu"]}, "categories"),
        ({"categories": ["cafeteria"]}, "categories"),
        ({"categories": []}, "categories"),
        ({"phone": "call me"}, "phone"),
        ({"lat": 10.0}, "lat"),
        ({"region": "atlantis"}, "region"),
    ):
        response = await client.patch(f"/api/v1/facilities/{ERASMUS}", json=body, headers=admin)
        assert response.status_code == 422, body
        assert field in response.json()["message"], body
    unknown = await client.patch(
        "/api/v1/facilities/nowhere", json={"phone": "010 000 0000"}, headers=admin
    )
    assert unknown.status_code == 404


async def test_listing_follows_the_contract(client, login):  # type: ignore[no-untyped-def]
    listed = (
        await client.get("/api/v1/facilities?region=zuidwest", headers=await login("midwife"))
    ).json()
    erasmus = next(f for f in listed if f["id"] == ERASMUS)
    assert set(erasmus) >= {
        "id",
        "name",
        "kind",
        "region",
        "city",
        "lat",
        "lon",
        "has_nicu",
        "phone",
        "categories",
    }
    assert erasmus["categories"] == [
        "delivery_room",
        "maternity_bed",
        "obstetric_high_care",
        "neonatal_high_care",
        "nicu",
    ]
    ikazia = next(f for f in listed if f["id"] == IKAZIA)
    assert "nicu" not in ikazia["categories"] and len(ikazia["categories"]) == 4
    sophia = next(f for f in listed if f["kind"] == "birth_centre")
    assert sophia["categories"] == ["delivery_room", "maternity_bed"]
    regions = (await client.get("/api/v1/regions", headers=await login("midwife"))).json()
    assert {"id": "zuidwest", "name": "Zuidwest-Nederland"} in [
        {"id": r["id"], "name": r["name"]} for r in regions
    ]  # and, an extension, each region's coordination number (tests/contacts)


async def test_patterns_of_ids_names_and_labels_are_enforced(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    bad_id = await client.post(
        "/api/v1/facilities", json={**NEW, "id": "Geboortehuis Delft!"}, headers=admin
    )
    assert bad_id.status_code == 422 and "id" in bad_id.json()["message"]
    user = {"username": "no spaces please", "password": "long-enough", "role": "midwife"}
    bad_name = await client.post("/api/v1/users", json=user, headers=admin)
    assert bad_name.status_code == 422 and "username" in bad_name.json()["message"]
    key = await client.post(
        f"/api/v1/facilities/{ERASMUS}/keys", json={"label": "<script>"}, headers=admin
    )
    assert key.status_code == 422 and "label" in key.json()["message"]


async def test_empty_or_unknown_bindings_of_a_new_account_name_the_field(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    base = {"username": "analyst-new", "password": "long-enough", "role": "analyst"}
    for field, value in (("region_id", ""), ("region_id", "atlantis"), ("facility_id", "")):
        response = await client.post("/api/v1/users", json={**base, field: value}, headers=admin)
        assert response.status_code == 422, (field, value, response.text)
        assert field in response.json()["message"]
    listed = (await client.get("/api/v1/users", headers=admin)).json()
    assert "analyst-new" not in str(listed)
