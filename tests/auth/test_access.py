"""Who may do what: roles, facility-bound staff and keys, region-bound analysts."""

from __future__ import annotations

import re

from tests.api.support import IKAZIA, entry, picture, put_figures
from tests.conftest import ERASMUS

FIGURES = {"delivery_room": {"available": 1, "staffed": 4}}


async def new_key(client, login, facility: str = ERASMUS) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/api/v1/facilities/{facility}/keys",
        json={"label": "HiX test"},
        headers=await login("admin"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key"].startswith("cap_") and body["facility_id"] == facility
    return {"X-API-Key": body["key"]}


async def test_staff_cannot_stop_or_lift_another_hospital(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    stop = await client.put(
        f"/api/v1/facilities/{IKAZIA}/stop", json={"reason": "beds"}, headers=staff
    )
    assert stop.status_code == 403
    assert IKAZIA in stop.json()["detail"]
    assert (
        await client.delete(f"/api/v1/facilities/{IKAZIA}/stop", headers=staff)
    ).status_code == 403
    assert entry(await picture(client, await login("midwife")), IKAZIA)["stop"] is None


async def test_midwife_and_analyst_cannot_write_figures(client, login):  # type: ignore[no-untyped-def]
    for name in ("midwife", "analyst", "analyst-zuidwest"):
        response = await put_figures(client, ERASMUS, FIGURES, await login(name))
        assert response.status_code == 403, name
    assert entry(await picture(client, await login("midwife")), ERASMUS)["version"] == 0


async def test_admin_may_write_any_facility(client, login):  # type: ignore[no-untyped-def]
    response = await put_figures(client, IKAZIA, FIGURES, await login("admin"))
    assert response.status_code == 200


async def test_api_key_changes_only_its_facility(client, login):  # type: ignore[no-untyped-def]
    key = await new_key(client, login)
    ok = await put_figures(client, ERASMUS, FIGURES, key)
    assert ok.status_code == 200, ok.text
    assert ok.json()["categories"]["delivery_room"]["available"] == 1
    assert (
        await client.put(
            f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "staff"}, headers=key
        )
    ).status_code == 200
    assert (
        await client.delete(f"/api/v1/facilities/{ERASMUS}/stop", headers=key)
    ).status_code == 200
    other = await put_figures(client, IKAZIA, FIGURES, key)
    assert other.status_code == 403
    stop = await client.put(
        f"/api/v1/facilities/{IKAZIA}/stop", json={"reason": "staff"}, headers=key
    )
    assert stop.status_code == 403
    shown = await picture(client, await login("midwife"))
    assert entry(shown, IKAZIA)["categories"] == {} and entry(shown, IKAZIA)["stop"] is None


async def test_api_key_may_not_read_anything(client, login):  # type: ignore[no-untyped-def]
    key = await new_key(client, login)
    for path in (
        "/api/v1/regions/zuidwest/capacity",
        "/api/v1/regions",
        "/api/v1/facilities",
        f"/api/v1/facilities/{ERASMUS}",
        "/api/v1/users",
        "/api/v1/keys",
        "/api/v1/audit",
    ):
        response = await client.get(path, headers=key)
        assert response.status_code == 403, (path, response.text)
    response = await client.post(f"/api/v1/facilities/{ERASMUS}/keys", headers=key)
    assert response.status_code == 403


async def test_analyst_of_another_region_cannot_read_the_region(client, login):  # type: ignore[no-untyped-def]
    analyst = await login("analyst-zuidwest")
    assert (
        await client.get("/api/v1/regions/zuidwest/capacity", headers=analyst)
    ).status_code == 200
    response = await client.get("/api/v1/regions/noord/capacity", headers=analyst)
    assert response.status_code == 403
    assert "noord" in response.json()["detail"]


async def test_analyst_of_all_regions_and_midwife_read_every_region(client, login):  # type: ignore[no-untyped-def]
    regions = (await client.get("/api/v1/regions", headers=await login("midwife"))).json()
    assert len(regions) == 10
    for name in ("analyst", "midwife", f"staff-{ERASMUS}", "admin"):
        headers = await login(name)
        for region in regions:
            response = await client.get(f"/api/v1/regions/{region['id']}/capacity", headers=headers)
            assert response.status_code == 200, (name, region)


async def test_only_admin_manages_users_and_keys(client, login):  # type: ignore[no-untyped-def]
    for name in ("midwife", "analyst", f"staff-{ERASMUS}"):
        headers = await login(name)
        assert (await client.get("/api/v1/users", headers=headers)).status_code == 403
        assert (await client.get("/api/v1/audit", headers=headers)).status_code == 403
        created = await client.post(f"/api/v1/facilities/{ERASMUS}/keys", headers=headers)
        assert created.status_code == 403
        user = {"username": "mallory", "password": "long-enough", "role": "admin"}
        assert (await client.post("/api/v1/users", json=user, headers=headers)).status_code == 403


async def test_wrong_password_and_unknown_user_get_401(client):  # type: ignore[no-untyped-def]
    for username, password in (("midwife", "wrong"), ("nobody", "demo")):
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 401
        assert "access_token" not in response.text


async def test_token_answer_follows_the_contract(client):  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/auth/token", data={"username": "midwife", "password": "demo"}
    )
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["access_token"]


def _fill(path: str) -> str:
    return re.sub(
        r"\{[^}]+\}",
        lambda m: "1" if "id}" in m.group(0) and "facility" not in m.group(0) else ERASMUS,
        path,
    )


async def test_every_api_endpoint_needs_credentials(client):  # type: ignore[no-untyped-def]
    paths = (await client.get("/openapi.json")).json()["paths"]
    checked = 0
    for path, operations in paths.items():
        if not path.startswith("/api/v1") or path == "/api/v1/auth/token":
            continue
        for method in operations:
            response = await client.request(method.upper(), _fill(path), json={})
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 12
