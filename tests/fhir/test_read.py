"""Reading the picture as FHIR: every resource validates as R4B, and says what the API says."""

from __future__ import annotations

from fhir.resources.R4B.measurereport import MeasureReport

from tests.conftest import ERASMUS
from tests.fhir.support import BASE, answer, expressions, valid

IKAZIA = "ikazia-ziekenhuis-rotterdam"


async def test_metadata_and_code_system_are_public_and_valid(client) -> None:  # type: ignore[no-untyped-def]
    statement = answer(await client.get("/fhir/metadata"), 200)
    assert statement["fhirVersion"] == "4.3.0"
    kinds = {
        r["type"]: {i["code"] for i in r["interaction"]} for r in statement["rest"][0]["resource"]
    }
    assert kinds["Location"] == {"read", "search-type"}
    assert kinds["MeasureReport"] == {"search-type", "create"}
    system = answer(await client.get("/fhir/CodeSystem/capacity-category"), 200)
    assert {c["code"] for c in system["concept"]} == {
        "delivery_room",
        "maternity_bed",
        "obstetric_high_care",
        "neonatal_high_care",
        "nicu",
    }
    nicu = next(c for c in system["concept"] if c["code"] == "nicu")
    assert nicu["property"][0]["valueCoding"]["code"] == "1040-5"


async def test_locations_carry_city_position_region_and_a_stop_as_closed(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife, staff = await login("midwife"), await login(f"staff-{ERASMUS}")
    figures = {"categories": {"delivery_room": {"available": 2, "staffed": 6}}}
    put = await client.put(f"/api/v1/facilities/{ERASMUS}/capacity", json=figures, headers=staff)
    assert put.status_code == 200
    one = answer(await client.get(f"/fhir/Location/{ERASMUS}", headers=midwife), 200)
    assert one["address"]["city"] == "Rotterdam"
    assert 51 < one["position"]["latitude"] < 52
    assert one["partOf"]["identifier"]["value"] == "zuidwest"
    assert one["operationalStatus"]["code"] == "U"  # two free delivery rooms

    stop = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "staff"}, headers=staff
    )
    assert stop.status_code == 200
    found = answer(
        await client.get("/fhir/Location", params={"region": "zuidwest"}, headers=midwife), 200
    )
    assert found["type"] == "searchset" and found["total"] == len(found["entry"]) > 5
    by_id = {e["resource"]["id"]: e["resource"] for e in found["entry"]}
    assert by_id[ERASMUS]["operationalStatus"]["code"] == "C"
    assert "operationalStatus" not in by_id[IKAZIA]  # no figures reported yet
    assert all(
        e["fullUrl"] == f"{BASE}/Location/{i}" for i, e in zip(by_id, found["entry"], strict=True)
    )

    by_city = answer(
        await client.get("/fhir/Location", params={"address-city": "rotter"}, headers=midwife), 200
    )
    assert ERASMUS in {e["resource"]["id"] for e in by_city["entry"]}
    by_identifier = answer(
        await client.get(
            "/fhir/Location",
            params={"identifier": f"{BASE}/NamingSystem/facility|{ERASMUS}"},
            headers=midwife,
        ),
        200,
    )
    assert [e["resource"]["id"] for e in by_identifier["entry"]] == [ERASMUS]


async def test_measure_reports_give_total_occupied_and_available_per_category(
    client, login
) -> None:  # type: ignore[no-untyped-def]
    analyst, staff = await login("analyst-zuidwest"), await login(f"staff-{ERASMUS}")
    figures = {
        "categories": {
            "delivery_room": {"available": 2, "staffed": 6},
            "nicu": {"available": 0, "staffed": 12},
        }
    }
    put = await client.put(f"/api/v1/facilities/{ERASMUS}/capacity", json=figures, headers=staff)
    assert put.status_code == 200
    found = answer(
        await client.get(
            "/fhir/MeasureReport", params={"subject": f"Location/{ERASMUS}"}, headers=analyst
        ),
        200,
    )
    [entry] = found["entry"]
    report = MeasureReport.model_validate(entry["resource"])
    assert report.status == "complete" and report.type == "summary"
    assert report.subject.reference == f"Location/{ERASMUS}"
    groups = {
        g.code.coding[0].code: {p.code.coding[0].code: p.count for p in g.population}
        for g in report.group
    }
    assert groups == {
        "delivery_room": {"total": 6, "occupied": 4, "available": 2},
        "nicu": {"total": 12, "occupied": 12, "available": 0},
    }
    nicu = next(g for g in report.group if g.code.coding[0].code == "nicu")
    assert nicu.code.coding[1].code == "1040-5"

    later = answer(
        await client.get(
            "/fhir/MeasureReport",
            params={"region": "zuidwest", "date": "ge2100-01-01"},
            headers=analyst,
        ),
        200,
    )
    assert later["total"] == 0
    region = answer(
        await client.get("/fhir/MeasureReport", params={"region": "zuidwest"}, headers=analyst),
        200,
    )
    assert [e["resource"]["id"] for e in region["entry"]] == [ERASMUS]


async def test_readers_are_the_apis_readers(client, login) -> None:  # type: ignore[no-untyped-def]
    other = await login("analyst-noord")
    denied = answer(
        await client.get(
            "/fhir/MeasureReport", params={"subject": f"Location/{ERASMUS}"}, headers=other
        ),
        403,
    )
    assert "zuidwest" in denied["issue"][0]["diagnostics"]
    assert denied["issue"][0]["code"] == "forbidden"
    answer(await client.get("/fhir/Location"), 401)
    missing = answer(await client.get("/fhir/Location/nowhere", headers=other), 404)
    assert missing["issue"][0]["code"] == "not-found"


async def test_bad_search_parameters_are_named(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    unknown = answer(
        await client.get("/fhir/Location", params={"name:contains": "x"}, headers=midwife), 422
    )
    assert "name:contains" in unknown["issue"][0]["diagnostics"]
    for params in ({"address-city": "<script>"}, {"region": "Zuid West"}, {"_format": "xml"}):
        bad = answer(await client.get("/fhir/Location", params=params, headers=midwife), 422)
        assert expressions(bad) == list(params), bad
    bad_date = answer(
        await client.get("/fhir/MeasureReport", params={"date": "yesterday"}, headers=midwife),
        422,
    )
    assert expressions(bad_date) == ["date.0"]
    valid(bad_date)


async def test_what_we_do_not_serve_is_an_operation_outcome(client, login) -> None:  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    answer(await client.get("/fhir/Patient", headers=midwife), 404)
    answer(await client.delete(f"/fhir/Location/{ERASMUS}", headers=midwife), 405)
