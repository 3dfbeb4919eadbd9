"""FHIR R4 (R4B): facilities as Locations, figures as bed-capacity MeasureReports, and a
MeasureReport push that writes figures exactly as ``PUT /api/v1/facilities/{id}/capacity``.

Who may read is the API's rule: every account reads Locations (like ``/api/v1/facilities``)
and the MeasureReports of the regions it may read (like the regional picture); API keys read
nothing. The CapabilityStatement and our CodeSystem hold no capacity and are public. Errors
are OperationOutcomes (``capacity/api/errors.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from capacity.api.capacity import _inline_schema
from capacity.api.deps import DbDep, PrincipalDep, SessionDep, SettingsDep, StoreDep
from capacity.api.responses import ERRORS
from capacity.auth.service import may_write_facility
from capacity.errors import Forbidden, InputError
from capacity.facilities.models import NAME, Slug
from capacity.fhir import codes, intake, resources, search
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
    # Written by api/limits.py before FHIR is reached: the service's own error body.
    413: {
        "description": ERRORS[413]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    },
}
router = APIRouter(prefix="/fhir", tags=["fhir"], responses=OUTCOMES)


def _resource(name: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    return {status: {"description": f"A FHIR R4B {name}"}}  # its schema: response_model


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


@router.get(
    "/metadata",
    response_class=FhirJSON,
    response_model=Resource,
    responses=_resource("CapabilityStatement"),
)
async def metadata(request: Request, format_: Format = None) -> Any:
    """What this FHIR server offers (public: it holds no capacity)."""
    _only(request, {"_format"})
    return FhirJSON(resources.capability_statement(base_url(request)))


@router.get(
    "/CodeSystem/capacity-category",
    response_class=FhirJSON,
    response_model=Resource,
    responses=_resource("CodeSystem"),
)
async def category_code_system(request: Request, format_: Format = None) -> Any:
    """Our categories of care, each with its HSLOC code where one fits (public)."""
    _only(request, {"_format"})
    return FhirJSON(codes.code_system(base_url(request)))


@router.get(
    "/Location",
    response_class=FhirJSON,
    response_model=Resource,
    responses=_resource("Bundle (searchset)"),
)
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
    ids = {id_} if id_ else None
    if identifier is not None:
        wanted = search.identifier_id(base, identifier)
        ids = {wanted} if wanted is not None and ids in (None, {wanted}) else set()
    picture = search.Picture(db=db, store=store, settings=settings)
    found = await search.locations(
        session=session, picture=picture, base=base, ids=ids, city=city, region=region
    )
    return FhirJSON(resources.searchset(base, str(request.url), found))


@router.get(
    "/Location/{facility_id}",
    response_class=FhirJSON,
    response_model=Resource,
    responses=_resource("Location"),
)
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
    picture = search.Picture(db=db, store=store, settings=settings)
    return FhirJSON(
        await search.location(
            session=session, picture=picture, base=base_url(request), facility_id=facility_id
        )
    )


@router.get(
    "/MeasureReport",
    response_class=FhirJSON,
    response_model=Resource,
    responses=_resource("Bundle (searchset)"),
)
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
    _no_keys(principal)
    dates = [search.moment(value) for value in date or []]
    base = base_url(request)
    picture = search.Picture(db=db, store=store, settings=settings)
    found = await search.measure_reports(
        session=session,
        picture=picture,
        base=base,
        principal=principal,
        subject=subject.removeprefix("Location/") if subject else None,
        region=region,
        dates=dates,
    )
    return FhirJSON(resources.searchset(base, str(request.url), found))


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
    response_model=Resource,
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
    facility_id = intake.facility_of(report)
    base = base_url(request)
    update_in, groups = intake.figures(base=base, report=report)  # 422 before 403, as PUT
    if not may_write_facility(principal, facility_id):
        raise Forbidden(messages.NOT_YOUR_FIGURES(facility=facility_id))
    state = request.app.state
    stored = await intake.push(
        db=state.db,
        store=state.store,
        settings=state.settings,
        base=base,
        facility_id=facility_id,
        update_in=update_in,
        groups=groups,
        actor=principal.actor,
    )
    version = stored["meta"]["versionId"]
    headers = {
        "Location": f"{base}/MeasureReport/{facility_id}/_history/{version}",
        "ETag": f'W/"{version}"',
    }
    return FhirJSON(stored, status_code=201, headers=headers)
