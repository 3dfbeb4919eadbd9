"""Conditional writes: If-Match names the version a change was based on; 412 when it moved on.

The ward's screen loads the facility at some version; meanwhile the hospital system pushes
figures. A save sent with the old version must not overwrite them silently: it gets 412 with
the current entry, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import entry, picture, put_figures
from tests.conftest import ERASMUS

CAPACITY = f"/api/v1/facilities/{ERASMUS}/capacity"
STOP = f"/api/v1/facilities/{ERASMUS}/stop"
NICU = {"nicu": {"available": 2, "staffed": 10}}
ROOMS = {"categories": {"delivery_room": {"available": 1, "staffed": 4}}}


async def current(client, login) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return dict(entry(await picture(client, await login("midwife")), ERASMUS))


async def test_matching_version_saves_and_answers_the_new_etag(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    version = (await current(client, login))["version"]
    response = await client.put(CAPACITY, json=ROOMS, headers={**staff, "If-Match": f'"{version}"'})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version + 1
    assert response.headers["ETag"] == f'"{version + 1}"'
    # Every accepted write says its version, with or without If-Match.
    plain = await put_figures(client, ERASMUS, NICU, staff)
    assert plain.headers["ETag"] == f'"{version + 2}"'


async def test_stale_version_gets_412_with_the_current_entry_and_saves_nothing(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    seen = (await current(client, login))["version"]  # the nurse's screen loads
    pushed = await put_figures(client, ERASMUS, NICU, staff)  # the hospital system pushes
    assert pushed.status_code == 200
    before = await picture(client, await login("midwife"))
    response = await client.put(CAPACITY, json=ROOMS, headers={**staff, "If-Match": f'"{seen}"'})
    assert response.status_code == 412, response.text
    body = response.json()
    now = seen + 1
    assert body["detail"] == (
        f"the facility changed since version {seen} (now {now}); nothing was saved"
    )
    assert body["message"] == body["detail"]
    assert body["facility"] == entry(before, ERASMUS)  # the other's change, to show beside hers
    assert body["facility"]["categories"]["nicu"]["available"] == 2
    assert response.headers["ETag"] == f'"{now}"'
    after = await picture(client, await login("midwife"))
    assert after["seq"] == before["seq"]  # nothing saved, nothing sent to the live stream
    assert "delivery_room" not in entry(after, ERASMUS)["categories"]
    # Saved again on the current version, it goes through.
    again = await client.put(CAPACITY, json=ROOMS, headers={**staff, "If-Match": f'"{now}"'})
    assert again.status_code == 200, again.text
    assert again.json()["categories"]["nicu"]["available"] == 2  # the push is kept


@pytest.mark.parametrize("form", ['W/"{v}"', "{v}", " {v} ", "*"])
async def test_weak_bare_and_star_forms_are_accepted(client, login, form):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    version = (await current(client, login))["version"]
    response = await client.put(
        CAPACITY, json=ROOMS, headers={**staff, "If-Match": form.format(v=version)}
    )
    assert response.status_code == 200, response.text
    if form != "*":
        stale = await client.put(
            CAPACITY, json=ROOMS, headers={**staff, "If-Match": form.format(v=version)}
        )
        assert stale.status_code == 412, stale.text


@pytest.mark.parametrize("value", ["abc", '"1", "2"', "-1", '"1', "1.0", '""', "9" * 19])
async def test_malformed_if_match_is_422_naming_it(client, login, value):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    before = await picture(client, await login("midwife"))
    for method, path, body in (("PUT", CAPACITY, ROOMS), ("PUT", STOP, {"reason": "staff"})):
        response = await client.request(
            method, path, json=body, headers={**staff, "If-Match": value}
        )
        assert response.status_code == 422, response.text
        assert response.json()["message"].startswith("If-Match: ")
    response = await client.delete(STOP, headers={**staff, "If-Match": value})
    assert response.status_code == 422, response.text
    assert (await picture(client, await login("midwife")))["seq"] == before["seq"]


async def test_stop_declare_and_lift_check_the_version(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    seen = (await current(client, login))["version"]
    assert (await put_figures(client, ERASMUS, NICU, staff)).status_code == 200
    stale = {**staff, "If-Match": f'"{seen}"'}
    declared = await client.put(STOP, json={"reason": "staff"}, headers=stale)
    assert declared.status_code == 412, declared.text
    assert declared.json()["facility"]["stop"] is None  # no stop was declared
    # Lifting when no stop is in force changes nothing, but a stale version is still refused.
    assert (await client.delete(STOP, headers=stale)).status_code == 412
    fresh = {**staff, "If-Match": f'"{seen + 1}"'}
    declared = await client.put(STOP, json={"reason": "staff"}, headers=fresh)
    assert declared.status_code == 200, declared.text
    assert declared.headers["ETag"] == f'"{seen + 2}"'
    lifted = await client.delete(STOP, headers=fresh)  # based on the version before the stop
    assert lifted.status_code == 412
    assert lifted.json()["facility"]["stop"]["reason"] == "staff"  # still in force
    lifted = await client.delete(STOP, headers={**staff, "If-Match": f'"{seen + 2}"'})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["stop"] is None
    assert lifted.headers["ETag"] == f'"{seen + 3}"'
    none = await client.delete(STOP, headers={**staff, "If-Match": f'"{seen + 3}"'})
    assert none.status_code == 200
    assert none.headers["ETag"] == f'"{seen + 3}"'  # nothing to lift: unchanged


async def test_another_facility_is_403_before_its_version_is_told(client, login):  # type: ignore[no-untyped-def]
    staff = await login("staff-ikazia-ziekenhuis-rotterdam")
    response = await client.put(CAPACITY, json=ROOMS, headers={**staff, "If-Match": '"0"'})
    assert response.status_code == 403
    assert "facility" not in response.text
