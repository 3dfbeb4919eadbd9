"""Our code systems (categories of care, bed populations) and what they map to.

Canonical URLs are this server's own ``/fhir`` base (the CodeSystem is served there), so a
client reads the codes it must send from the same place it sends them to.
"""

from __future__ import annotations

from capacity.facilities.models import Category

FHIR_VERSION = "4.3.0"  # R4B
CATEGORY_SYSTEM = "CodeSystem/capacity-category"
POPULATION_SYSTEM = "CodeSystem/bed-population"
MEASURE = "Measure/bed-capacity"
REGION_SYSTEM = "NamingSystem/roaz-region"
FACILITY_SYSTEM = "NamingSystem/facility"
HSLOC = "https://www.cdc.gov/nhsn/cdaportal/terminology/codesystem/hsloc.html"
V2_0116 = "http://terminology.hl7.org/CodeSystem/v2-0116"  # bed status

CATEGORY_DISPLAY = {
    Category.delivery_room: "Delivery room (verloskamer)",
    Category.maternity_bed: "Maternity bed (kraambed)",
    Category.obstetric_high_care: "Obstetric high care (MIC)",
    Category.neonatal_high_care: "Neonatal high care (HC neonatologie, level II)",
    Category.nicu: "Neonatal intensive care (NICU, level III)",
}
# HSLOC (NHSN healthcare service location) codes, checked against the HL7 HAI code system
# (2.16.840.1.113883.6.259) and SANER's InpatientLocations value set. Delivery rooms and
# maternity beds are left unmapped: no labour-and-delivery or postpartum code could be checked.
CATEGORY_HSLOC: dict[Category, tuple[str, str]] = {
    Category.obstetric_high_care: ("1034-8", "Prenatal Critical Care"),
    Category.neonatal_high_care: ("1041-3", "Step down Neonatal ICU (Level II)"),
    Category.nicu: ("1040-5", "Neonatal Critical Care (Level III)"),
}
HSLOC_CATEGORY = {code: category for category, (code, _) in CATEGORY_HSLOC.items()}

# The populations of each group: staffed beds ("total"), occupied and available ones.
TOTAL, OCCUPIED, AVAILABLE = "total", "occupied", "available"
POPULATION_DISPLAY = {
    TOTAL: "Staffed beds (total in use)",
    OCCUPIED: "Occupied staffed beds",
    AVAILABLE: "Available staffed beds",
}

# A facility's operational status (Location.operationalStatus, HL7 v2 table 0116 "bed
# status"): C closed while a stop is in force, O occupied when it has reported no free place in
# any category, U unoccupied when it has at least one.
CLOSED = ("C", "Closed")
OCCUPIED_STATUS = ("O", "Occupied")
UNOCCUPIED = ("U", "Unoccupied")


def url(base: str, path: str) -> str:
    """A canonical URL of ours: the server's ``/fhir`` base and the resource's path."""
    return f"{base}/{path}"


def code_system(base: str) -> dict[str, object]:
    """Our categories of care as a CodeSystem, each with its HSLOC code where one fits."""
    concepts = []
    for category in Category:
        concept: dict[str, object] = {
            "code": category.value,
            "display": CATEGORY_DISPLAY[category],
        }
        if category in CATEGORY_HSLOC:
            code, display = CATEGORY_HSLOC[category]
            concept["property"] = [{"code": "hsloc", "valueCoding": _hsloc(code, display)}]
        concepts.append(concept)
    return {
        "resourceType": "CodeSystem",
        "id": "capacity-category",
        "url": url(base, CATEGORY_SYSTEM),
        "name": "CapacityCategory",
        "title": "Categories of birth care capacity",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "count": len(concepts),
        "property": [
            {
                "code": "hsloc",
                "uri": HSLOC,
                "description": "The matching HSLOC location code",
                "type": "Coding",
            }
        ],
        "concept": concepts,
    }


def _hsloc(code: str, display: str) -> dict[str, str]:
    return {"system": HSLOC, "code": code, "display": display}


def category_code(base: str, category: Category) -> dict[str, object]:
    """A group's code: our category, and its HSLOC code where one exists."""
    coding = [
        {
            "system": url(base, CATEGORY_SYSTEM),
            "code": category.value,
            "display": CATEGORY_DISPLAY[category],
        }
    ]
    if category in CATEGORY_HSLOC:
        coding.append(_hsloc(*CATEGORY_HSLOC[category]))
    return {"coding": coding, "text": CATEGORY_DISPLAY[category]}


def population_code(base: str, population: str) -> dict[str, object]:
    return {
        "coding": [
            {
                "system": url(base, POPULATION_SYSTEM),
                "code": population,
                "display": POPULATION_DISPLAY[population],
            }
        ]
    }
