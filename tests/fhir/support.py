"""Checking what /fhir answers against the FHIR R4B models, and building pushes."""

from __future__ import annotations

from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class

from capacity.fhir import codes

BASE = "http://testserver/fhir"
FHIR_JSON = "application/fhir+json"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after its R4B model accepted it (a Bundle's entries with it)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    for entry in resource.get("entry", []):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return resource


def answer(response: httpx.Response, status: int) -> dict[str, Any]:
    """The FHIR body of an answer with this status, validated; errors are OperationOutcomes."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = valid(response.json())
    if status >= 400:
        assert body["resourceType"] == "OperationOutcome"
    return body


def group(category: str, base: str = BASE, **counts: int) -> dict[str, Any]:
    """A group for one of our categories (or an HSLOC code ``hsloc:1040-5``) with populations."""
    if category.startswith("hsloc:"):
        coding = {"system": codes.HSLOC, "code": category.removeprefix("hsloc:")}
    else:
        coding = {"system": f"{base}/{codes.CATEGORY_SYSTEM}", "code": category}
    return {
        "code": {"coding": [coding]},
        "population": [
            {
                "code": {"coding": [{"system": f"{base}/{codes.POPULATION_SYSTEM}", "code": name}]},
                "count": count,
            }
            for name, count in counts.items()
        ],
    }


def report(facility: str, *groups: dict[str, Any], base: str = BASE) -> dict[str, Any]:
    """A SANER-style bed-capacity MeasureReport for one facility, as a hospital sends it."""
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": f"{base}/{codes.MEASURE}",
        "subject": {"reference": f"Location/{facility}"},
        "date": "2026-12-05T04:00:00+00:00",
        "period": {"start": "2026-12-05T03:55:00+00:00", "end": "2026-12-05T04:00:00+00:00"},
        "group": list(groups),
    }


def expressions(outcome: dict[str, Any]) -> list[str]:
    return [e for issue in outcome["issue"] for e in issue.get("expression", [])]
