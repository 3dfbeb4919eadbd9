"""Pushing a MeasureReport: the same write as PUT .../capacity, or a 4xx naming the element."""

from __future__ import annotations

from typing import Any

import orjson

from tests.conftest import ERASMUS
from tests.fhir.support import answer, expressions, group, report

IKAZIA = "ikazia-ziekenhuis-rotterdam"


async def _key(client, login, facility: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    made = await client.post(
        f"/api/v1/facilities/{facility}/keys", json={}, headers=await login("admin")
    )
    assert made.status_code == 201, made.text
    return {"X-API-Key": made.json()["key"], "Content-Type": "application/fhir+json"}


async def _picture(client, login) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    got = await client.get("/api/v1/regions/zuidwest/capacity", headers=await login("midwife"))
    return {f["facility_id"]: f for f in got.json()["facilities"]}


async def test_a_push_changes_the_picture_and_answers_the_stored_report(client, login) -> None:  # type: ignore[no-untyped-def]
    key = await _key(client, login, ERASMUS)
    body = report(
        ERASMUS,
        group("delivery_room", total=6, available=2),
        group("hsloc:1040-5", total=12, occupied=9),  # NICU by its HSLOC code
    )
    created = answer(await client.post("/fhir/MeasureReport", json=body, headers=key), 201)
    counts = {
        g["code"]["coding"][0]["code"]: {
            p["code"]["coding"][0]["code"]: p["count"] for p in g["population"]
        }
        for g in created["group"]
    }
    assert counts["nicu"] == {"total": 12, "occupied": 9, "available": 3}
    entry = (await _picture(client, login))[ERASMUS]
    assert entry["categories"]["delivery_room"]["available"] == 2
    assert entry["categories"]["nicu"] == {
        **entry["categories"]["nicu"],
        "available": 3,
        "staffed": 12,
    }
    assert entry["categories"]["nicu"]["updated_by"] == f"key:{ERASMUS}"
    assert created["meta"]["versionId"] == str(entry["version"])


async def test_a_retried_push_with_its_idempotency_key_counts_once(client, login) -> None:  # type: ignore[no-untyped-def]
    """A hospital system that lost the answer sends the same report again with the same key:
    the first answer comes back, and the facility's version rose once."""
    headers = {**await _key(client, login, ERASMUS), "Idempotency-Key": "hix-0815-push-1"}
    before = (await _picture(client, login))[ERASMUS]["version"]
    body = report(ERASMUS, group("delivery_room", total=6, available=2))
    first = await client.post("/fhir/MeasureReport", json=body, headers=headers)
    again = await client.post("/fhir/MeasureReport", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert (await _picture(client, login))[ERASMUS]["version"] == before + 1
    other = report(ERASMUS, group("delivery_room", total=6, available=3))
    reused = answer(await client.post("/fhir/MeasureReport", json=other, headers=headers), 422)
    assert reused["issue"][0]["expression"] == ["Idempotency-Key"]


async def test_another_facilitys_report_is_403_and_changes_nothing(client, login) -> None:  # type: ignore[no-untyped-def]
    key = await _key(client, login, ERASMUS)
    before = await _picture(client, login)
    body = report(IKAZIA, group("delivery_room", total=6, available=2))
    denied = answer(await client.post("/fhir/MeasureReport", json=body, headers=key), 403)
    assert IKAZIA in denied["issue"][0]["diagnostics"]
    assert await _picture(client, login) == before


def _hostile() -> list[tuple[Any, str]]:
    """(body, the element the 422 must name)"""
    good = report(ERASMUS, group("delivery_room", total=6, available=2))
    cases: list[tuple[Any, str]] = [
        ({**good, "resourceType": "Patient"}, "MeasureReport.resourceType"),
        ({**good, "status": "pending"}, "MeasureReport.status"),
        ({**good, "type": "individual"}, "MeasureReport.type"),
        ({**good, "measure": "http://elsewhere.example/Measure/x"}, "MeasureReport.measure"),
        (
            {**good, "text": {"status": "generated", "div": "<div>Mrs Jansen</div>"}},
            "MeasureReport.text",
        ),
        ({**good, "group": []}, "MeasureReport.group"),
        (
            report(ERASMUS, group("delivery_room", total=6, available=-1)),
            "MeasureReport.group[0].population[1].count",
        ),
        (
            report(ERASMUS, group("delivery_room", total=501, available=1)),
            "MeasureReport.group[0].population[0].count",
        ),
        (
            report(ERASMUS, group("delivery_room", total=6, available=7)),
            "MeasureReport.group[0].population[1].count",
        ),
        (
            report(ERASMUS, group("delivery_room", total=6, available=2, occupied=3)),
            "MeasureReport.group[0].population[2].count",
        ),
        (report(ERASMUS, group("delivery_room", total=6)), "MeasureReport.group[0].population"),
        (
            report(ERASMUS, group("birthing_pool", total=6, available=1)),
            "MeasureReport.group[0].code",
        ),
        (
            report(ERASMUS, group("hsloc:1025-6", total=6, available=1)),
            "MeasureReport.group[0].code",
        ),
        (
            report(
                ERASMUS,
                group("nicu", total=6, available=1),
                group("hsloc:1040-5", total=6, available=1),
            ),
            "MeasureReport.group[1].code",
        ),
        (
            report("Not An Id", group("nicu", total=6, available=1)),
            "MeasureReport.subject.reference",
        ),
        ([good], "MeasureReport"),
    ]
    counted = report(ERASMUS, group("delivery_room", total=6, available=2))
    counted["group"][0]["population"][0]["count"] = "6"
    cases.append((counted, "MeasureReport.group[0].population[0].count"))
    return cases


async def test_hostile_bodies_are_422_naming_the_element_and_change_nothing(client, login) -> None:  # type: ignore[no-untyped-def]
    key = await _key(client, login, ERASMUS)
    before = await _picture(client, login)
    for body, element in _hostile():
        got = answer(
            await client.post("/fhir/MeasureReport", content=orjson.dumps(body), headers=key), 422
        )
        assert element in expressions(got), (element, got)
    for raw in (b"", b"{", b"\xff\xfe", b"null"):
        answer(await client.post("/fhir/MeasureReport", content=raw, headers=key), 422)
    # a category the facility does not offer (a hospital without NICU), named by its group
    ikazia = await _key(client, login, IKAZIA)
    body = report(
        IKAZIA, group("delivery_room", total=6, available=2), group("nicu", total=4, available=1)
    )
    got = answer(await client.post("/fhir/MeasureReport", json=body, headers=ikazia), 422)
    assert expressions(got) == ["MeasureReport.group[1].code"]
    assert await _picture(client, login) == before


async def test_a_huge_body_is_refused(client, login) -> None:  # type: ignore[no-untyped-def]
    key = await _key(client, login, ERASMUS)
    body = report(ERASMUS, *[group("delivery_room", total=6, available=2)] * 50_000)
    got = await client.post("/fhir/MeasureReport", content=orjson.dumps(body), headers=key)
    assert got.status_code in (413, 422), got.text
