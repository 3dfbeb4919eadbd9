"""The resources ``/fhir`` answers with, as plain JSON built from what the API already serves:
a facility (its row) and its entry of the live picture. Tests check each against the
``fhir.resources`` R4B models; building them as dicts keeps the read path as cheap as the API's.
"""

from __future__ import annotations

from typing import Any

from capacity import __version__
from capacity.facilities.models import CATEGORY_ORDER, Facility, Region
from capacity.fhir import codes

PUBLISHED = "2026-12-05"  # when this CapabilityStatement last changed


def location(
    base: str, facility: Facility, region: Region, entry: dict[str, Any] | None
) -> dict[str, Any]:
    """A facility as a Location: name, city, position, its region, and whether it takes women."""
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": facility.id,
        "identifier": [{"system": codes.url(base, codes.FACILITY_SYSTEM), "value": facility.id}],
        "status": "active",
        "name": facility.name,
        "mode": "instance",
        "address": {"city": facility.city, "country": "NL"},
        "position": {"latitude": facility.lat, "longitude": facility.lon},
        "partOf": {
            "identifier": {"system": codes.url(base, codes.REGION_SYSTEM), "value": region.id},
            "display": region.name,
        },
    }
    status = operational_status(entry)
    if status is not None:
        code, display = status
        resource["operationalStatus"] = {"system": codes.V2_0116, "code": code, "display": display}
    if facility.phone:
        resource["telecom"] = [{"system": "phone", "value": facility.phone, "use": "work"}]
    return resource


def operational_status(entry: dict[str, Any] | None) -> tuple[str, str] | None:
    """Closed under a stop; else unoccupied when a current figure has a free place, occupied
    when none has; nothing while the facility has reported no current figure."""
    if entry is None:
        return None
    if entry.get("stop") is not None:
        return codes.CLOSED
    current = [c for c in entry["categories"].values() if not c["stale"]]
    if not current:
        return None
    if any(c["available"] > 0 for c in current):
        return codes.UNOCCUPIED
    return codes.OCCUPIED_STATUS


def measure_report(
    base: str, facility: Facility, entry: dict[str, Any], generated_at: str
) -> dict[str, Any]:
    """A facility's figures as a SANER-style bed-capacity MeasureReport: one group per category
    it reported, each with staffed (total), occupied and available beds."""
    groups = []
    times = []
    for category in CATEGORY_ORDER:
        figure = entry["categories"].get(category.value)
        if figure is None:
            continue
        times.append(figure["updated_at"])
        counts = {
            codes.TOTAL: figure["staffed"],
            codes.OCCUPIED: figure["staffed"] - figure["available"],
            codes.AVAILABLE: figure["available"],
        }
        groups.append(
            {
                "code": codes.category_code(base, category),
                "population": [
                    {"code": codes.population_code(base, name), "count": count}
                    for name, count in counts.items()
                ],
            }
        )
    report: dict[str, Any] = {
        "resourceType": "MeasureReport",
        "id": facility.id,
        "meta": {
            "versionId": str(entry["version"]),
            "lastUpdated": max(times, default=generated_at),
        },
        "status": "complete",
        "type": "summary",
        "measure": codes.url(base, codes.MEASURE),
        "subject": {"reference": f"Location/{facility.id}", "display": facility.name},
        "date": generated_at,
        "period": {"start": min(times, default=generated_at), "end": generated_at},
    }
    if groups:
        report["group"] = groups
    return report


def searchset(base: str, self_url: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A search's answer: every match, each with its full URL."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def _param(name: str, kind: str, doc: str) -> dict[str, str]:
    return {"name": name, "type": kind, "documentation": doc}


def capability_statement(base: str) -> dict[str, Any]:
    """What this server does in FHIR: Locations read and searched, MeasureReports searched and
    created, our CodeSystem read."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": PUBLISHED,
        "publisher": "capacity",
        "kind": "instance",
        "software": {"name": "capacity", "version": __version__},
        "implementation": {"description": "Birth care capacity per ROAZ region", "url": base},
        "fhirVersion": codes.FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Authorization: Bearer <token> to read (any account); "
                    "X-API-Key of the facility to create MeasureReports"
                },
                "resource": [
                    {
                        "type": "Location",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            _param("_id", "token", "The facility's id"),
                            _param("identifier", "token", "The facility's id (system|value)"),
                            _param("address-city", "string", "City, case-insensitive prefix"),
                            _param("region", "token", "The ROAZ region's id"),
                        ],
                    },
                    {
                        "type": "MeasureReport",
                        "interaction": [{"code": "search-type"}, {"code": "create"}],
                        "searchParam": [
                            _param("subject", "reference", "Location/<facility id>"),
                            _param("region", "token", "The ROAZ region's id"),
                            _param(
                                "date",
                                "date",
                                "Only reports of figures changed since "
                                "(ge) or before (le) this moment",
                            ),
                        ],
                    },
                    {"type": "CodeSystem", "interaction": [{"code": "read"}]},
                ],
            }
        ],
    }


ISSUE_CODES = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    422: "invalid",
    429: "throttled",
}


def operation_outcome(status: int, message: str, expressions: list[str]) -> dict[str, Any]:
    """An error as FHIR says it: one issue, its FHIRPath (or parameter) where one is known."""
    issue: dict[str, Any] = {
        "severity": "error",
        "code": ISSUE_CODES.get(status, "exception" if status >= 500 else "invalid"),
        "diagnostics": message,
    }
    if expressions:
        issue["expression"] = expressions
    return {"resourceType": "OperationOutcome", "issue": [issue]}
