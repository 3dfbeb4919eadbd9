"""Issue 14.1: a hospital's bed list becomes its figures, per mapped ward; all rows or none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from capacity.storage.db import Database
from tests.api.support import IKAZIA, entry, history_rows, picture
from tests.beds.support import CSV, MAPPING, beds, csv_of, expected
from tests.conftest import ERASMUS, Login

BEDS = f"/api/v1/facilities/{ERASMUS}/beds"
WARDS = f"/api/v1/facilities/{ERASMUS}/wards"


def shown(facility: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        c: {"available": f["available"], "staffed": f["staffed"]}
        for c, f in facility["categories"].items()
    }


async def mapped(client: httpx.AsyncClient, login: Login) -> dict[str, str]:
    admin = await login("admin")
    response = await client.put(WARDS, json=MAPPING, headers=admin)
    assert response.status_code == 200, response.text
    return admin


async def test_a_300_bed_csv_gives_the_figures_of_the_mapped_wards(
    client: httpx.AsyncClient, login: Login
) -> None:
    await mapped(client, login)
    staff = await login(f"staff-{ERASMUS}")
    response = await client.post(BEDS, content=csv_of(beds()), headers={**staff, **CSV})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["confirmed"] is False and body["rows"] == 300
    assert body["unmapped_wards"] == ["OK"] and body["ignored_rows"] == 20
    assert shown(body["facility"]) == expected()
    assert response.headers["ETag"] == f'"{body["version"]}"'
    # The regional picture every midwife sees says the same.
    midwife = await login("midwife")
    assert shown(entry(await picture(client, midwife), ERASMUS)) == expected()
    # JSON, a comma file with a BOM and lower-case ward codes: the same list, the same figures.
    rows = beds(shift=1)
    as_json = await client.post(BEDS, json={"beds": rows}, headers=staff)
    assert as_json.status_code == 200, as_json.text
    assert shown(as_json.json()["facility"]) == expected(shift=1)
    lower = [{**r, "ward": r["ward"].lower()} for r in beds(shift=2)]
    comma = b"\xef\xbb\xbf" + csv_of(lower, sep=",")
    as_csv = await client.post(BEDS, content=comma, headers={**staff, **CSV})
    assert as_csv.status_code == 200, as_csv.text
    assert shown(as_csv.json()["facility"]) == expected(shift=2)


async def test_the_same_list_again_confirms_the_figures_without_a_new_version(
    client: httpx.AsyncClient, login: Login, app: Any
) -> None:
    await mapped(client, login)
    staff = await login(f"staff-{ERASMUS}")
    first = await client.post(BEDS, content=csv_of(beds()), headers={**staff, **CSV})
    assert first.status_code == 200, first.text
    db: Database = app.state.db
    changes = await history_rows(db)
    before = first.json()["facility"]["categories"]["delivery_room"]["updated_at"]
    # The same beds in another order, as JSON: the same list.
    again = await client.post(BEDS, json={"beds": beds()[::-1]}, headers=staff)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["confirmed"] is True and body["version"] == first.json()["version"]
    assert await history_rows(db) == changes  # no new change
    after = body["facility"]["categories"]["delivery_room"]
    assert after["updated_at"] > before  # fresh again
    midwife = await login("midwife")
    live = entry(await picture(client, midwife), ERASMUS)
    assert live["version"] == body["version"]
    assert live["categories"]["delivery_room"]["updated_at"] == after["updated_at"]
    # One bed changed: a change, with a new version.
    rows = beds()
    rows[0]["status"] = "occupied"
    changed = await client.post(BEDS, json={"beds": rows}, headers=staff)
    assert changed.json()["confirmed"] is False
    assert changed.json()["version"] == body["version"] + 1
    # Figures changed by hand since: the old list again is a change too, not a confirmation.
    by_hand = {"categories": {"nicu": {"available": 0, "staffed": 3}}}
    assert (
        await client.put(f"/api/v1/facilities/{ERASMUS}/capacity", json=by_hand, headers=staff)
    ).status_code == 200
    resent = await client.post(BEDS, json={"beds": rows}, headers=staff)
    assert resent.json()["confirmed"] is False
    assert shown(resent.json()["facility"])["nicu"] == expected()["nicu"]


GOOD = csv_of(beds()[:3]).decode()


@pytest.mark.parametrize(
    ("extra", "column"),
    [
        ("VK;9.01;1;vrij\n", "status"),
        ("=cmd|' /C calc'!A0;9.01;1;free\n", "ward"),
        ("+VK;9.01;1;free\n", "ward"),
        ("VK;9 01;1;free\n", "room"),
        ("VK;9.01;;free\n", "bed"),
        ("VK;9.01;1\n", "row"),
        (GOOD.splitlines()[1] + "\n", "bed"),  # the first bed again
    ],
)
async def test_a_bad_row_rejects_the_whole_file_naming_its_line_and_column(
    client: httpx.AsyncClient, login: Login, extra: str, column: str
) -> None:
    admin = await mapped(client, login)
    response = await client.post(BEDS, content=(GOOD + extra).encode(), headers={**admin, **CSV})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "line 5", column]
    assert ERASMUS not in {
        f["facility_id"] for f in (await picture(client, admin))["facilities"] if f["categories"]
    }


async def test_times_wards_and_sizes_that_do_not_fit_are_refused(
    client: httpx.AsyncClient, login: Login
) -> None:
    admin = await mapped(client, login)
    now = datetime.now(UTC)
    future = await client.post(
        BEDS,
        content=csv_of(beds()[:2], measured=now + timedelta(hours=1)),
        headers={**admin, **CSV},
    )
    assert future.json()["detail"][0]["loc"] == ["body", "line 2", "measured_at"]
    old = await client.post(
        BEDS,
        content=csv_of(beds()[:2], measured=now - timedelta(hours=5)),
        headers={**admin, **CSV},
    )
    assert old.status_code == 422 and "240 minutes" in old.json()["message"]
    naive = [{**beds()[0], "measured_at": "2026-12-05T04:00:00"}]
    assert (await client.post(BEDS, json={"beds": naive}, headers=admin)).status_code == 422
    # measured_at dates the figure: it is as old as its oldest bed.
    measured = now - timedelta(minutes=30)
    done = await client.post(
        BEDS, content=csv_of(beds(), measured=measured), headers={**admin, **CSV}
    )
    stamp = done.json()["facility"]["categories"]["nicu"]["measured_at"]
    assert abs(datetime.fromisoformat(stamp) - measured) < timedelta(seconds=1)
    # Only unmapped wards: nothing to derive is a 422 naming the wards, not a silent 200.
    unmapped = [{"ward": "OK", "room": "1", "bed": "1", "status": "free"}]
    answer = await client.post(BEDS, json={"beds": unmapped}, headers=admin)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "ward"]
    assert "OK" in answer.json()["message"]
    # More than 2000 beds: 413, whether it fits the byte limit or not.
    many = "ward;room;bed;status\n" + "".join(f"VK;{i};1;free\n" for i in range(2001))
    assert (
        await client.post(BEDS, content=many.encode(), headers={**admin, **CSV})
    ).status_code == 413
    rows = [{"ward": "VK", "room": str(i), "bed": "1", "status": "free"} for i in range(2001)]
    huge = await client.post(
        BEDS,
        content=orjson.dumps({"beds": rows}),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    # Over the body limit (64 KB): 413 before a row is read.
    padded = "ward;room;bed;status\n" + "".join(f"VK{i:030d};{i};1;free\n" for i in range(1800))
    assert len(padded) > 64 * 1024
    big = await client.post(BEDS, content=padded.encode(), headers={**admin, **CSV})
    assert big.status_code == 413
    # Random bytes, and neither CSV nor JSON.
    noise = bytes(range(256)) * 8
    assert (await client.post(BEDS, content=noise, headers={**admin, **CSV})).status_code == 422
    assert (
        await client.post(
            BEDS, content=noise, headers={**admin, "Content-Type": "application/json"}
        )
    ).status_code == 422
    assert (
        await client.post(BEDS, content=b"x", headers={**admin, "Content-Type": "application/xml"})
    ).status_code == 415


async def test_if_match_guards_a_bed_list_like_any_write(
    client: httpx.AsyncClient, login: Login
) -> None:
    admin = await mapped(client, login)
    first = await client.post(BEDS, json={"beds": beds()}, headers=admin)
    version = first.json()["version"]
    stale = await client.post(
        BEDS, json={"beds": beds(shift=1)}, headers={**admin, "If-Match": f'"{version - 1}"'}
    )
    assert stale.status_code == 412 and stale.json()["facility"]["version"] == version
    again = await client.post(
        BEDS, json={"beds": beds()}, headers={**admin, "If-Match": f'"{version - 1}"'}
    )
    assert again.status_code == 412  # a confirmation checks the version too
    ok = await client.post(
        BEDS, json={"beds": beds(shift=1)}, headers={**admin, "If-Match": f'"{version}"'}
    )
    assert ok.status_code == 200 and ok.json()["version"] == version + 1


async def test_the_ward_map_is_kept_by_admins_and_the_facilitys_staff(
    client: httpx.AsyncClient, login: Login
) -> None:
    staff = await login(f"staff-{ERASMUS}")
    body = {
        "wards": [{"ward": "vk", "category": "delivery_room"}, {"ward": "4B", "category": "nicu"}]
    }
    response = await client.put(WARDS, json=body, headers=staff)
    assert response.status_code == 200, response.text
    assert response.json()["wards"] == [
        {"ward": "4B", "category": "nicu"},
        {"ward": "VK", "category": "delivery_room"},
    ]
    assert (await client.get(WARDS, headers=staff)).json() == response.json()
    twice = {"wards": [{"ward": "VK", "category": "nicu"}, {"ward": "vk", "category": "nicu"}]}
    repeated = await client.put(WARDS, json=twice, headers=staff)
    assert repeated.json()["detail"][0]["loc"] == ["body", "wards", 1, "ward"]
    formula = await client.put(
        WARDS, json={"wards": [{"ward": "=cmd", "category": "nicu"}]}, headers=staff
    )
    assert formula.status_code == 422
    no_nicu = await client.put(
        f"/api/v1/facilities/{IKAZIA}/wards",
        json={"wards": [{"ward": "NICU", "category": "nicu"}]},
        headers=await login("admin"),
    )
    assert no_nicu.json()["detail"][0]["loc"] == ["body", "wards", 0, "category"]
    other = await login(f"staff-{IKAZIA}")
    assert (await client.get(WARDS, headers=other)).status_code == 403
    assert (await client.put(WARDS, json=body, headers=other)).status_code == 403


async def test_the_same_list_after_the_figures_turned_stale_is_a_change(
    client: httpx.AsyncClient, login: Login, app: Any
) -> None:
    admin = await mapped(client, login)
    first = await client.post(BEDS, json={"beds": beds()}, headers=admin)
    db: Database = app.state.db
    async with db.unit_of_work() as uow:  # as the scheduler's stale mark leaves them in SQL
        await uow.session.exec(  # type: ignore[call-overload]
            text("UPDATE capacity_figure SET stale = true WHERE facility_id = :f"),
            params={"f": ERASMUS},
        )
    again = await client.post(BEDS, json={"beds": beds()}, headers=admin)
    assert again.json()["confirmed"] is False
    assert again.json()["version"] == first.json()["version"] + 1
    assert not any(c["stale"] for c in again.json()["facility"]["categories"].values())
