"""FHIR R4 (R4B): facilities as Locations, figures as bed-capacity MeasureReports, and a
MeasureReport push that writes figures exactly as ``PUT /api/v1/facilities/{id}/capacity``.

Who may read is the API's rule: every account reads Locations (like ``/api/v1/facilities``)
and the MeasureReports of the regions it may read (like the regional picture); API keys read
nothing. The CapabilityStatement and our CodeSystem hold no capacity and are public. Errors
are OperationOutcomes (``capacity/api/errors.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from capacity.api.capacity import _inline_schema
from capacity.api.deps import DbDep, PrincipalDep, SessionDep, SettingsDep, StoreDep
from capacity.auth.service import may_read_region, may_write_facility
from capacity.availability import service as availability
from capacity.errors import Forbidden, InputError, NotFound
from capacity.facilities import service as facilities
from capacity.facilities.models import NAME, Facility, Region, Slug
from capacity.fhir import codes, intake, resources
from capacity.fhir.models import MeasureReportIn
from capacity.i18n import messages

FHIR_JSON = "application/fhir+json"


class FhirJSON(JSONResponse):
    """FHIR JSON, encoded once with orjson (a JSONResponse, so OpenAPI shows its schema)."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Resource(BaseModel):
    """Any FHIR R4B resource (the CapabilityStatement names each one's elements)."""

    model_config = ConfigDict(extra="allow")
    resourceType: str


class Issue(BaseModel):
    severity: Literal["error"]
    code: str
    diagnostics: str
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    resourceType: Literal["OperationOutcome"]
    issue: list[Issue]


OUTCOMES: dict[int | str, dict[str, Any]] = {
    **{
        status: {"model": OperationOutcome, "description": description}
        for status, description in {
            401: "Credentials missing, wrong, expired or revoked",
            403: "The caller's role or binding does not allow this",
            404: "Unknown facility",
            409: "The facility is deactivated",
            422: "Bad input; the issue's expression names the element or parameter",
            503: "Database or Redis unreachable; nothing was changed",
        }.items()
    },
    413: {"description": "Request body too large", "content": {"application/json": {}}},
}
router = APIRouter(prefix="/fhir", tags=["fhir"], responses=OUTCOMES)


def _resource(name: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    return {status: {"description": f"A FHIR R4B {name}", "model": Resource}}


def base_url(request: Request) -> str:
    """This server's FHIR base, the root of our canonical URLs and of ``fullUrl``s."""
    return str(request.base_url).rstrip("/") + "/fhir"


Format = Annotated[
    Literal["json", "application/json", "application/fhir+json"] | None,
    Query(alias="_format", description="Only JSON is spoken"),
]
Region_ = Annotated[Slug | None, Query(alias="region", description="The ROAZ region's id")]
CityName = Annotated[
    str | None, Query(alias="address-city", max_length=80, pattern=NAME["pattern"])
]
IDENTIFIER = r"^([A-Za-z0-9.:/_-]{1,200}\|)?[a-z0-9][a-z0-9-]{0,63}$"
SUBJECT = r"^(Location/)?[a-z0-9][a-z0-9-]{0,63}$"
DATE = (
    r"^(ge|gt|le|lt)?\d{4}-\d{2}-\d{2}"
    r"(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$"
)
DateParam = Annotated[str, StringConstraints(max_length=40, pattern=DATE)]


def _only(request: Request, known: set[str]) -> None:
    """A search parameter we do not know is a 422 naming it (never silently ignored)."""
    for name in request.query_params:
        if name not in known:
            raise InputError(
                name, messages.FHIR_UNKNOWN_PARAMETER(name=name, known=", ".join(sorted(known)))
            )


def _no_keys(principal: PrincipalDep) -> None:
    if principal.is_key:
        raise Forbidden(messages.API_KEY_ONLY_CAPACITY())


async def _regions(session: SessionDep) -> dict[str, Region]:
    return {r.id: r for r in await facilities.list_regions(session=session)}


async def _entries(
    *, db: DbDep, store: StoreDep, settings: SettingsDep, region_ids: set[str]
) -> tuple[dict[str, dict[str, Any]], str]:
    """Every facility's entry of the live picture in these regions, and when it was read."""
    entries: dict[str, dict[str, Any]] = {}
    generated = availability.iso(availability.utcnow())
    for region_id in sorted(region_ids):
        picture = await availability.region_capacity(
            db=db, store=store, settings=settings, region_id=region_id
        )
        generated = picture["generated_at"]
        entries.update({e["facility_id"]: e for e in picture["facilities"]})
    return entries, generated


@router.get("/metadata", response_class=FhirJSON, responses=_resource("CapabilityStatement"))
async def metadata(request: Request, format_: Format = None) -> Any:
    """What this FHIR server offers (public: it holds no capacity)."""
    _only(request, {"_format"})
    return FhirJSON(resources.capability_statement(base_url(request)))


@router.get(
    "/CodeSystem/capacity-category", response_class=FhirJSON, responses=_resource("CodeSystem")
)
async def category_code_system(request: Request, format_: Format = None) -> Any:
    """Our categories of care, each with its HSLOC code where one fits (public)."""
    _only(request, {"_format"})
    return FhirJSON(codes.code_system(base_url(request)))


def _matches(facility: Facility, *, ids: set[str], city: str | None, region: str | None) -> bool:
    if ids and facility.id not in ids:
        return False
    if city and not facility.city.casefold().startswith(city.casefold()):
        return False
    return region is None or facility.region == region


def _identifier_id(base: str, identifier: str) -> str | None:
    """The facility id of ``[system|]value``; None for another system than ours."""
    system, _, value = identifier.rpartition("|")
    if system and system != codes.url(base, codes.FACILITY_SYSTEM):
        return None
    return value


@router.get("/Location", response_class=FhirJSON, responses=_resource("Bundle (searchset)"))
async def search_locations(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
    id_: Annotated[Slug | None, Query(alias="_id")] = None,
    identifier: Annotated[str | None, Query(max_length=265, pattern=IDENTIFIER)] = None,
    city: CityName = None,
    region: Region_ = None,
    format_: Format = None,
) -> Any:
    """Facilities as Locations; a stop shows as operationalStatus C (closed)."""
    _only(request, {"_id", "identifier", "address-city", "region", "_format"})
    _no_keys(principal)
    base = base_url(request)
    ids = {i for i in (id_,) if i}
    if identifier is not None:
        wanted = _identifier_id(base, identifier)
        if wanted is None or (ids and wanted not in ids):
            return FhirJSON(resources.searchset(base, str(request.url), []))
        ids = {wanted}
    regions = await _regions(session)
    found = [
        f
        for f in await facilities.list_facilities(session=session)
        if _matches(f, ids=ids, city=city, region=region)
    ]
    entries, _ = await _entries(
        db=db, store=store, settings=settings, region_ids={f.region for f in found}
    )
    located = [resources.location(base, f, regions[f.region], entries.get(f.id)) for f in found]
    return FhirJSON(resources.searchset(base, str(request.url), located))


@router.get("/Location/{facility_id}", response_class=FhirJSON, responses=_resource("Location"))
async def read_location(
    facility_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")],
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
    format_: Format = None,
) -> Any:
    """One facility as a Location."""
    _only(request, {"_format"})
    _no_keys(principal)
    facility = await facilities.get_facility(session=session, facility_id=facility_id)
    if facility is None:
        raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))
    region = await facilities.get_region(session=session, region_id=facility.region)
    assert region is not None
    entries, _ = await _entries(db=db, store=store, settings=settings, region_ids={region.id})
    return FhirJSON(
        resources.location(base_url(request), facility, region, entries.get(facility.id))
    )


def _moment(value: str) -> tuple[str, datetime]:
    """A ``date`` search value: its prefix (``eq`` when none) and the moment (UTC)."""
    prefix = value[:2] if value[:2] in ("ge", "gt", "le", "lt") else "eq"
    text = value[2:] if prefix != "eq" else value
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            moment = datetime.combine(datetime.fromisoformat(text).date(), time(), UTC)
    except ValueError:
        raise InputError("date", messages.FHIR_DATE_MALFORMED()) from None
    return prefix, moment


def _in_dates(updated: str | None, dates: list[tuple[str, datetime]]) -> bool:
    if not dates:
        return True
    if updated is None:
        return False
    at = datetime.fromisoformat(updated)
    tests = {
        "ge": at.__ge__,
        "gt": at.__gt__,
        "le": at.__le__,
        "lt": at.__lt__,
        "eq": at.__eq__,
    }
    return all(tests[prefix](moment) for prefix, moment in dates)


@router.get("/MeasureReport", response_class=FhirJSON, responses=_resource("Bundle (searchset)"))
async def search_measure_reports(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
    subject: Annotated[str | None, Query(max_length=73, pattern=SUBJECT)] = None,
    region: Region_ = None,
    date: Annotated[list[DateParam] | None, Query(max_length=2)] = None,
    format_: Format = None,
) -> Any:
    """Each facility's current figures as a bed-capacity MeasureReport, for the regions the
    caller may read (naming another region, or a facility in one, is a 403)."""
    _only(request, {"subject", "region", "date", "_format"})
    if principal.is_key:
        raise Forbidden(messages.API_KEY_ONLY_CAPACITY())
    dates = []
    for value in date or []:
        dates.append(_moment(value))
    base = base_url(request)
    regions = await _regions(session)
    wanted_region = region
    found = await facilities.list_facilities(session=session)
    if subject is not None:
        facility_id = subject.removeprefix("Location/")
        found = [f for f in found if f.id == facility_id]
        if found and not may_read_region(principal, found[0].region):
            raise Forbidden(messages.NO_REGION_ACCESS(region=found[0].region))
    if wanted_region is not None:
        if wanted_region in regions and not may_read_region(principal, wanted_region):
            raise Forbidden(messages.NO_REGION_ACCESS(region=wanted_region))
        found = [f for f in found if f.region == wanted_region]
    found = [f for f in found if may_read_region(principal, f.region)]
    entries, generated = await _entries(
        db=db, store=store, settings=settings, region_ids={f.region for f in found}
    )
    reports = [
        resources.measure_report(base, f, entries[f.id], generated)
        for f in found
        if f.id in entries
    ]
    reports = [
        r for r in reports if _in_dates(r["meta"].get("lastUpdated"), dates) and "group" in r
    ]
    return FhirJSON(resources.searchset(base, str(request.url), reports))


async def _report(request: Request) -> MeasureReportIn:
    """The pushed resource, parsed straight from the bytes; 422 naming the element otherwise."""
    try:
        return MeasureReportIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


@router.post(
    "/MeasureReport",
    response_class=FhirJSON,
    status_code=201,
    responses=_resource("MeasureReport: the facility's, as stored", 201),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: {"schema": _inline_schema(MeasureReportIn)}},  # type: ignore[arg-type]
        }
    },
)
async def create_measure_report(request: Request, principal: PrincipalDep) -> Any:
    """Set a facility's figures from a SANER-style MeasureReport: each group's ``total`` is
    staffed, ``available`` (or total minus ``occupied``) available. Categories without a
    group are left as they are. The same write as ``PUT /api/v1/facilities/{id}/capacity``."""
    report = await _report(request)
    base = base_url(request)
    update_in, groups = intake.figures(base=base, report=report)
    facility_id = intake.facility_of(report)
    if not may_write_facility(principal, facility_id):
        raise Forbidden(messages.NOT_YOUR_FIGURES(facility=facility_id))
    state = request.app.state
    try:
        entry = await availability.update_capacity(
            db=state.db,
            store=state.store,
            settings=state.settings,
            facility_id=facility_id,
            update_in=update_in,
            actor=principal.actor,
        )
    except InputError as exc:  # a category not offered, said of the group that named it
        category = exc.field.split(".")[1] if exc.field.startswith("categories.") else None
        at = next((i for c, i in groups.items() if c.value == category), None)
        raise InputError("subject" if at is None else f"group[{at}].code", exc.message) from None
    async with state.db.session() as session:
        facility = await facilities.get_facility(session=session, facility_id=facility_id)
    assert facility is not None  # the write just found it active
    stored = resources.measure_report(
        base, facility, entry, availability.iso(availability.utcnow())
    )
    version = entry["version"]
    headers = {
        "Location": f"{base}/MeasureReport/{facility_id}/_history/{version}",
        "ETag": f'W/"{version}"',
    }
    return FhirJSON(stored, status_code=201, headers=headers)
