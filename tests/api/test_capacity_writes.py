"""Writing figures and stops through the public API, as hospital staff and systems do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.support import IKAZIA, entry, picture, put_figures
from tests.conftest import ERASMUS


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


async def test_partial_update_leaves_other_categories_as_they_were(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    first = {
        "delivery_room": {"available": 3, "staffed": 6},
        "nicu": {"available": 0, "staffed": 12},
    }
    assert (await put_figures(client, ERASMUS, first, staff)).status_code == 200
    before = entry(await picture(client, await login("midwife")), ERASMUS)
    second = await put_figures(client, ERASMUS, {"nicu": {"available": 2, "staffed": 12}}, staff)
    assert second.status_code == 200
    after = entry(await picture(client, await login("midwife")), ERASMUS)
    assert after["categories"]["delivery_room"] == before["categories"]["delivery_room"]
    assert after["categories"]["nicu"]["available"] == 2
    assert after["categories"]["nicu"]["status"] == "green"
    assert set(after["categories"]) == {"delivery_room", "nicu"}


async def test_repeated_identical_put_keeps_the_figures(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    figures = {"maternity_bed": {"available": 4, "staffed": 20}}
    first = (await put_figures(client, ERASMUS, figures, staff)).json()
    second = (await put_figures(client, ERASMUS, figures, staff)).json()
    for body in (first, second):
        assert body["categories"]["maternity_bed"]["available"] == 4
        assert body["categories"]["maternity_bed"]["staffed"] == 20
    shown = entry(await picture(client, await login("midwife")), ERASMUS)
    assert shown["categories"]["maternity_bed"] == second["categories"]["maternity_bed"]


async def test_colours_follow_the_thresholds(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    for available, status in ((0, "red"), (1, "orange"), (2, "green"), (9, "green")):
        body = (
            await put_figures(
                client, ERASMUS, {"delivery_room": {"available": available, "staffed": 9}}, staff
            )
        ).json()
        assert body["categories"]["delivery_room"]["status"] == status


async def test_every_accepted_change_raises_seq_and_version_by_exactly_one(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    midwife = await login("midwife")
    stop_path = f"/api/v1/facilities/{ERASMUS}/stop"
    changes = [
        lambda: put_figures(
            client, ERASMUS, {"delivery_room": {"available": 1, "staffed": 2}}, staff
        ),
        lambda: put_figures(
            client, ERASMUS, {"delivery_room": {"available": 1, "staffed": 2}}, staff
        ),
        lambda: client.put(stop_path, json={"reason": "beds"}, headers=staff),
        lambda: client.put(stop_path, json={"reason": "staff"}, headers=staff),
        lambda: client.delete(stop_path, headers=staff),
    ]
    rejected = [
        lambda: put_figures(
            client, ERASMUS, {"delivery_room": {"available": 3, "staffed": 2}}, staff
        ),
        lambda: put_figures(
            client, IKAZIA, {"delivery_room": {"available": 1, "staffed": 2}}, staff
        ),
        lambda: client.put(stop_path, json={"reason": "none"}, headers=staff),
    ]
    for change in changes:
        before = await picture(client, midwife)
        response = await change()
        assert response.status_code == 200, response.text
        after = await picture(client, midwife)
        assert after["seq"] == before["seq"] + 1
        assert entry(after, ERASMUS)["version"] == entry(before, ERASMUS)["version"] + 1
        assert response.json()["version"] == entry(after, ERASMUS)["version"]
        for other in after["facilities"]:
            if other["facility_id"] != ERASMUS:
                assert other == entry(before, other["facility_id"])
        for bad in rejected:
            assert (await bad()).status_code in (403, 422)
        unchanged = await picture(client, midwife)
        assert (unchanged["seq"], unchanged["facilities"]) == (after["seq"], after["facilities"])


async def test_lifting_when_no_stop_is_in_force_changes_nothing(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    before = await picture(client, await login("midwife"))
    response = await client.delete(f"/api/v1/facilities/{ERASMUS}/stop", headers=staff)
    assert response.status_code == 200
    assert response.json()["stop"] is None
    assert (await picture(client, await login("midwife")))["seq"] == before["seq"]


async def test_a_stop_overrides_every_colour_and_delete_lifts_it(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    figures = {
        "delivery_room": {"available": 5, "staffed": 6},
        "nicu": {"available": 0, "staffed": 6},
    }
    await put_figures(client, ERASMUS, figures, staff)
    response = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "staff", "until": None}, headers=staff
    )
    assert response.status_code == 200, response.text
    shown = entry(await picture(client, await login("midwife")), ERASMUS)
    assert shown["stop"]["reason"] == "staff" and shown["stop"]["until"] is None
    assert shown["stop"]["since"].endswith("+00:00")
    assert {c["status"] for c in shown["categories"].values()} == {"stop"}
    lifted = await client.delete(f"/api/v1/facilities/{ERASMUS}/stop", headers=staff)
    assert lifted.status_code == 200
    shown = entry(await picture(client, await login("midwife")), ERASMUS)
    assert shown["stop"] is None
    assert shown["categories"]["delivery_room"]["status"] == "green"
    assert shown["categories"]["nicu"]["status"] == "red"


async def test_figures_sent_during_a_stop_still_show_stop(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    stop = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "beds", "until": until}, headers=staff
    )
    assert datetime.fromisoformat(stop.json()["stop"]["until"]) == datetime.fromisoformat(until)
    body = (
        await put_figures(client, ERASMUS, {"delivery_room": {"available": 4, "staffed": 6}}, staff)
    ).json()
    assert body["categories"]["delivery_room"]["status"] == "stop"
    assert body["stop"]["reason"] == "beds"


async def test_response_times_carry_an_offset(client, login):  # type: ignore[no-untyped-def]
    body = (
        await put_figures(
            client,
            ERASMUS,
            {"delivery_room": {"available": 1, "staffed": 2}},
            await login(f"staff-{ERASMUS}"),
        )
    ).json()
    assert datetime.fromisoformat(
        body["categories"]["delivery_room"]["updated_at"]
    ).utcoffset() == timedelta(0)
    pic = await picture(client, await login("midwife"))
    assert datetime.fromisoformat(pic["generated_at"]).utcoffset() == timedelta(0)


async def test_updated_by_names_the_author_of_the_last_change(client, login, app):  # type: ignore[no-untyped-def]
    from capacity.availability import jobs

    midwife = await login("midwife")
    assert entry(await picture(client, midwife), ERASMUS)["updated_by"] is None  # never changed
    staff = await login(f"staff-{ERASMUS}")
    figures = {"delivery_room": {"available": 2, "staffed": 5}}
    answer = await put_figures(client, ERASMUS, figures, staff)
    assert answer.json()["updated_by"] == f"staff-{ERASMUS}"
    assert entry(await picture(client, midwife), ERASMUS)["updated_by"] == f"staff-{ERASMUS}"

    created = await client.post(
        f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=await login("admin")
    )
    key = {"X-API-Key": created.json()["key"]}
    assert (await put_figures(client, ERASMUS, figures, key)).json()["updated_by"] == (
        f"key:{ERASMUS}"
    )
    stop = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "staff"}, headers=staff
    )
    assert stop.json()["updated_by"] == f"staff-{ERASMUS}"
    lifted = await client.delete(f"/api/v1/facilities/{ERASMUS}/stop", headers=key)
    assert lifted.json()["updated_by"] == f"key:{ERASMUS}"

    state = {"db": app.state.db, "store": app.state.store, "settings": app.state.settings}
    await jobs.expire_due(**state, now=datetime.now(UTC) + timedelta(hours=5))
    shown = entry(await picture(client, midwife), ERASMUS)
    assert shown["categories"]["delivery_room"]["stale"] is True
    assert shown["updated_by"] == "system"

    await app.state.store.redis.flushall()  # the picture is rebuilt from SQL on the next read
    rebuilt = await picture(client, midwife)
    assert entry(rebuilt, ERASMUS)["updated_by"] == "system"
    assert entry(rebuilt, IKAZIA)["updated_by"] is None


async def test_updated_by_of_a_stop_that_ended_by_itself_is_system(client, login, app):  # type: ignore[no-untyped-def]
    from capacity.availability import jobs

    staff = await login(f"staff-{ERASMUS}")
    until = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    stop = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "beds", "until": until}, headers=staff
    )
    assert stop.status_code == 200 and stop.json()["updated_by"] == f"staff-{ERASMUS}"
    state = {"db": app.state.db, "store": app.state.store, "settings": app.state.settings}
    await jobs.expire_due(**state, now=datetime.now(UTC) + timedelta(hours=1))
    shown = entry(await picture(client, await login("midwife")), ERASMUS)
    assert shown["stop"] is None and shown["updated_by"] == "system"
    await app.state.store.redis.flushall()
    assert entry(await picture(client, await login("midwife")), ERASMUS)["updated_by"] == "system"
