"""Issue 12.1, tap-to-call: each facility's numbers by type, kept by its own staff or an admin,
the region's coordination number for a facility without any, and a CSV import: all or nothing."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from capacity.audit.models import AuditEvent
from tests.api.support import IKAZIA, SOPHIA
from tests.conftest import ERASMUS

CONTACTS = f"/api/v1/facilities/{ERASMUS}/contacts"
SET = {
    "contacts": [
        {"type": "verloskunde", "phone": "+31 10 703 0001"},
        {"type": "neonatologie", "phone": "010-7030002"},
    ]
}


async def events(app: Any, action: str) -> list[AuditEvent]:
    async with app.state.db.session() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)  # type: ignore[arg-type]
        return list((await session.exec(query)).all())


async def listed(client: Any, headers: dict[str, str], facility: str) -> list[dict[str, Any]]:
    facilities = (await client.get("/api/v1/facilities", headers=headers)).json()
    return next(f for f in facilities if f["id"] == facility)["contacts"]  # type: ignore[no-any-return]


async def test_the_demo_seed_gives_every_facility_and_region_a_marked_demo_number(client, login):  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    facilities = (await client.get("/api/v1/facilities", headers=midwife)).json()
    assert len(facilities) == 76
    for f in facilities:
        assert f["contacts"], f["id"]
        assert f["contacts"][0]["type"] == "verloskunde"
        assert all(c["demo"] and c["phone"].startswith("+31 20 000 ") for c in f["contacts"])
    regions = (await client.get("/api/v1/regions", headers=midwife)).json()
    assert all(r["coordination_demo"] and r["coordination_phone"] for r in regions)
    phones = [c["phone"] for f in facilities for c in f["contacts"]]
    assert len(set(phones)) == len(phones)  # each made-up number once


async def test_staff_replace_their_own_set_and_everyone_signed_in_reads_it(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    response = await client.put(CONTACTS, json=SET, headers=staff)
    assert response.status_code == 200, response.text
    want = [
        {"type": "verloskunde", "phone": "+31 10 703 0001", "demo": False},
        {"type": "neonatologie", "phone": "010-7030002", "demo": False},
    ]
    assert response.json() == {"facility_id": ERASMUS, "contacts": want}
    midwife = await login("midwife")
    assert (await client.get(CONTACTS, headers=midwife)).json()["contacts"] == want
    assert await listed(client, midwife, ERASMUS) == want  # the coordinator's demo number: gone
    one = (await client.get(f"/api/v1/facilities/{ERASMUS}", headers=midwife)).json()
    assert one["contacts"] == want
    # An empty set removes every number.
    response = await client.put(CONTACTS, json={"contacts": []}, headers=staff)
    assert response.status_code == 200 and response.json()["contacts"] == []
    assert await listed(client, midwife, ERASMUS) == []
    audited = await events(app, "contacts.update")
    assert [e.actor for e in audited] == [f"user:staff-{ERASMUS}"] * 2
    assert audited[0].entity_id == ERASMUS
    assert audited[0].detail["contacts"] == want
    assert audited[1].detail["before"] == want and audited[1].detail["contacts"] == []


async def test_only_admins_and_the_facilitys_own_staff_change_numbers(client, login, app):  # type: ignore[no-untyped-def]
    for user in ("midwife", "analyst", f"staff-{IKAZIA}"):
        response = await client.put(CONTACTS, json=SET, headers=await login(user))
        assert response.status_code == 403, (user, response.text)
    admin = await login("admin")
    assert (await client.put(CONTACTS, json=SET, headers=admin)).status_code == 200
    key = (await client.post(f"/api/v1/facilities/{ERASMUS}/keys", headers=admin)).json()["key"]
    response = await client.put(CONTACTS, json=SET, headers={"X-API-Key": key})
    assert response.status_code == 403  # a hospital system pushes figures, not numbers
    assert (await client.get(CONTACTS, headers={"X-API-Key": key})).status_code == 403
    assert (await client.get(CONTACTS)).status_code == 401
    missing = "/api/v1/facilities/no-such-facility/contacts"
    assert (await client.put(missing, json=SET, headers=admin)).status_code == 404
    assert (await client.get(missing, headers=admin)).status_code == 404
    assert len(await events(app, "contacts.update")) == 1


async def test_bad_numbers_are_422_naming_the_field_and_change_nothing(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    before = await listed(client, staff, ERASMUS)
    bad: list[tuple[Any, str]] = [
        ({"contacts": [{"type": "verloskunde", "phone": "bel Ans 06-12345678"}]}, "phone"),
        ({"contacts": [{"type": "verloskunde", "phone": "------"}]}, "phone"),
        ({"contacts": [{"type": "verloskunde", "phone": "1" * 40}]}, "phone"),
        ({"contacts": [{"type": "kraamzorg", "phone": "010 123 4567"}]}, "type"),
        ({"contacts": [{"type": "verloskunde", "phone": "010 1234567", "name": "Ans"}]}, "name"),
        (
            {
                "contacts": [
                    {"type": "verloskunde", "phone": "010 1234567"},
                    {"type": "verloskunde", "phone": "010 7654321"},
                ]
            },
            "contacts",
        ),
        ({"contacts": [{"type": "verloskunde"}]}, "phone"),
        ({}, "contacts"),
    ]
    for body, field in bad:
        response = await client.put(CONTACTS, json=body, headers=staff)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["message"], (body, response.json())
    assert await listed(client, staff, ERASMUS) == before


async def test_admin_sets_and_removes_a_regions_coordination_number(client, login, app):  # type: ignore[no-untyped-def]
    admin, midwife = await login("admin"), await login("midwife")
    path = "/api/v1/regions/zuidwest/coordination-phone"
    response = await client.put(path, json={"phone": "+31 10 111 2233"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "region_id": "zuidwest",
        "coordination_phone": "+31 10 111 2233",
        "coordination_demo": False,
    }
    regions = (await client.get("/api/v1/regions", headers=midwife)).json()
    zuidwest = next(r for r in regions if r["id"] == "zuidwest")
    assert (zuidwest["coordination_phone"], zuidwest["coordination_demo"]) == (
        "+31 10 111 2233",
        False,
    )
    assert (await client.put(path, json={"phone": None}, headers=admin)).status_code == 200
    regions = (await client.get("/api/v1/regions", headers=midwife)).json()
    assert next(r for r in regions if r["id"] == "zuidwest")["coordination_phone"] is None
    for user in ("midwife", f"staff-{ERASMUS}", "analyst"):
        denied = await client.put(path, json={"phone": "010 1234567"}, headers=await login(user))
        assert denied.status_code == 403
    bad = await client.put(path, json={"phone": "call the office"}, headers=admin)
    assert bad.status_code == 422 and "phone" in bad.json()["message"]
    missing = "/api/v1/regions/atlantis/coordination-phone"
    assert (
        await client.put(missing, json={"phone": "010 1234567"}, headers=admin)
    ).status_code == 404
    audited = await events(app, "region.coordination_update")
    assert [(e.entity_id, e.detail["phone"]) for e in audited] == [
        ("zuidwest", "+31 10 111 2233"),
        ("zuidwest", None),
    ]


async def _import(client: Any, headers: dict[str, str], text: str | bytes) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return await client.post(
        "/api/v1/contacts/import", content=body, headers={**headers, "Content-Type": "text/csv"}
    )


async def test_csv_import_replaces_the_sets_of_the_facilities_it_names(client, login, app):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    untouched = await listed(client, admin, SOPHIA)
    text = (
        "\ufefffacility_id,type,phone\r\n"
        f"{ERASMUS},verloskunde,+31 10 703 1111\r\n"
        f'{ERASMUS},coordinator,"010 703 2222"\r\n'
        f"{IKAZIA},verloskunde,010 297 5000\r\n"
        "\r\n"
    )
    response = await _import(client, admin, text)
    assert response.status_code == 200, response.text
    assert response.json() == {"facilities": 2, "contacts": 3}
    assert await listed(client, admin, ERASMUS) == [
        {"type": "verloskunde", "phone": "+31 10 703 1111", "demo": False},
        {"type": "coordinator", "phone": "010 703 2222", "demo": False},
    ]
    assert await listed(client, admin, IKAZIA) == [
        {"type": "verloskunde", "phone": "010 297 5000", "demo": False}
    ]
    assert await listed(client, admin, SOPHIA) == untouched
    audited = await events(app, "contacts.update")
    assert sorted(e.entity_id or "" for e in audited) == sorted([ERASMUS, IKAZIA])
    assert {e.detail["source"] for e in audited} == {"import"}
    # Semicolons too; only admins import.
    semi = f"facility_id;type;phone\n{SOPHIA};verloskunde;010 000 1234\n"
    for user in ("midwife", f"staff-{SOPHIA}", "analyst"):
        assert (await _import(client, await login(user), semi)).status_code == 403
    assert (await _import(client, admin, semi)).status_code == 200
    assert (await listed(client, admin, SOPHIA))[0]["phone"] == "010 000 1234"


async def test_one_bad_csv_row_is_422_naming_line_and_column_and_nothing_is_stored(
    client, login, app
):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    before = {f: await listed(client, admin, f) for f in (ERASMUS, IKAZIA)}
    good = f"{ERASMUS};verloskunde;010 703 1111\n{IKAZIA};verloskunde;010 297 5000\n"
    cases = [
        (good + f"{ERASMUS};neonatologie;ask for Ans\n", "line 4", "phone"),
        (good + f"{SOPHIA};kraamzorg;010 1234567\n", "line 4", "type"),
        (good + "no-such-hospital;verloskunde;010 1234567\n", "line 4", "facility_id"),
        (good + f"{ERASMUS};verloskunde;010 1234567\n", "line 4", "type"),  # twice
        (good + f"{ERASMUS};coordinator\n", "line 4", "row"),
        (f"{ERASMUS};Verloskunde Ans;010 1234567\n" + good, "line 2", "type"),
    ]
    for rows, line, column in cases:
        response = await _import(client, admin, "facility_id;type;phone\n" + rows)
        assert response.status_code == 422, (rows, response.text)
        body = response.json()
        assert body["detail"][0]["loc"] == ["body", line, column], body
        assert body["message"].startswith(f"{line}.{column}: "), body
    header = await _import(client, admin, "hospital;kind;number\n" + good)
    assert header.status_code == 422 and header.json()["message"].startswith("line 1.header")
    latin1 = await _import(client, admin, ("facility_id;type;phone\n" + good).encode() + b"\xe9\n")
    assert latin1.status_code == 422 and latin1.json()["message"].startswith("line 4.file")
    empty = await _import(client, admin, "facility_id;type;phone\n")
    assert empty.status_code == 422
    assert {f: await listed(client, admin, f) for f in (ERASMUS, IKAZIA)} == before
    assert await events(app, "contacts.update") == []
