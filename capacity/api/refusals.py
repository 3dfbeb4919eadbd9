"""Refusals, ROAZ statistics, capacity over time, exports and the monthly reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from capacity.api.deps import (
    DbDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    UnitOfWorkDep,
    check_region_readable,
    require,
)
from capacity.api.responses import ERRORS, ErrorBody, download
from capacity.audit import service as audit
from capacity.auth.models import Principal, Role
from capacity.availability import service as availability
from capacity.errors import NotFound
from capacity.facilities.models import Slug
from capacity.i18n import messages
from capacity.refusals import service
from capacity.refusals.models import (
    EpisodePublic,
    RefusalCreate,
    RefusalMineList,
    RefusalPublic,
    RefusalUpdate,
    public,
)
from capacity.reporting import exports, history, labels, render, reports
from capacity.reporting import service as reporting
from capacity.reporting.models import (
    CapacityOverTime,
    RefusalReport,
    RefusalStats,
    ReportContent,
    ReportSummary,
)

router = APIRouter(prefix="/api/v1", tags=["refusals"], responses=ERRORS)

Recorder = Annotated[Principal, require(Role.midwife, Role.facility_staff, Role.admin)]
Reader = Annotated[Principal, require(Role.analyst, Role.admin)]
GroupBy = reporting.GroupBy
FromQ = Annotated[
    date | None,
    Query(
        alias="from",
        description="First day (local date)",
        ge=reporting.FIRST_DAY,
        le=reporting.LAST_DAY,
    ),
]
ToQ = Annotated[
    date | None,
    Query(
        alias="to",
        description="Last day, inclusive",
        ge=reporting.FIRST_DAY,
        le=reporting.LAST_DAY,
    ),
]
LangQ = Annotated[
    Literal["nl", "en"] | None,
    Query(
        description="Language of labels in CSV, XLSX and HTML (default: Accept-Language, else nl)"
    ),
]
SepQ = Annotated[
    Literal[";", ","],
    Query(description="CSV separator: ; (Dutch Excel, decimal commas) or , (decimal points)"),
]

CodesQ = Annotated[
    bool, Query(description="true: the API's column names and codes instead of labels")
]
AcceptLanguage = Annotated[str | None, Header(include_in_schema=False)]


@router.post("/episodes", status_code=201, response_model=EpisodePublic)
async def post_episode(principal: Recorder, uow: UnitOfWorkDep) -> Any:
    """A new episode token: 128 random bits that group the refusals of one search.

    Only the account that asked for it may record with it, until ``expires_at``. A refusal's
    ``episode`` is such a token or null; nothing a person types can take its place.
    """
    episode = await service.issue_episode(
        session=uow.session, account_id=principal.id, now=datetime.now(UTC)
    )
    return {"episode": episode.token, "expires_at": episode.expires_at}


@router.post(
    "/refusals",
    status_code=201,
    response_model=RefusalPublic,
    responses={
        200: {
            "model": RefusalPublic,
            "description": "Sent before with this client_key: the stored record",
        }
    },
)
async def post_refusal(
    refusal_in: RefusalCreate,
    principal: Recorder,
    uow: UnitOfWorkDep,
    db: DbDep,
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
) -> Any:
    """Record a refusal (or, with ``decision: accepted``, an accepted transfer).

    The service stamps the region and ``shown_status``: what the regional picture showed for
    the facility and category at this moment (``shown_stale``, ``shown_stop_reason``,
    ``shown_available`` and ``shown_staffed`` complete it).

    ``client_key`` (a random UUID v4 made on the phone when she tapped) makes the POST safe to
    repeat: the same key from the same account answers 200 with the record stored the first
    time, never a second record; the same key with other facts is a 409.
    """
    now = datetime.now(UTC)
    stored = await service.stored_replay(
        session=uow.session, refusal_in=refusal_in, account_id=principal.id
    )
    if stored is not None:
        response.status_code = 200
        return public(stored)
    facility = await service.check_create(
        session=uow.session, refusal_in=refusal_in, account_id=principal.id, now=now
    )
    picture = await availability.region_capacity(
        db=db, store=store, settings=settings, region_id=facility.region, now=now
    )
    refusal, created = await service.record_refusal(
        session=uow.session,
        refusal_in=refusal_in,
        facility=facility,
        picture=picture,
        account_id=principal.id,
        actor=principal.actor,
        now=now,
    )
    if not created:
        response.status_code = 200
    return public(refusal)


@router.get("/refusals/mine", response_model=RefusalMineList)
async def my_refusals(
    principal: Recorder,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=service.MINE_MAX_DAYS)] = 7,
) -> Any:
    """The caller's own refusals and accepted transfers of the last ``days`` days (call time),
    newest first; ``undo_until`` is when the 15-minute undo window closes,
    ``outcome_editable_until`` when the 24-hour amendment window does."""
    items = await service.list_mine(
        session=session, account_id=principal.id, days=days, now=datetime.now(UTC)
    )
    return {"items": items}


@router.patch("/refusals/{refusal_id:int}", response_model=RefusalPublic)
async def patch_refusal(
    refusal_id: int, update_in: RefusalUpdate, principal: Recorder, uow: UnitOfWorkDep
) -> Any:
    """Set the outcome; only the account that recorded it, within 24 hours."""
    refusal = await service.set_outcome(
        session=uow.session,
        refusal_id=refusal_id,
        update_in=update_in,
        account_id=principal.id,
        actor=principal.actor,
    )
    return public(refusal)


@router.delete(
    "/refusals/{refusal_id:int}",
    status_code=204,
    responses={
        409: {
            "model": ErrorBody,
            "description": "Recorded more than 15 minutes ago: too late to undo",
        }
    },
)
async def delete_refusal(refusal_id: int, principal: Recorder, uow: UnitOfWorkDep) -> Response:
    """Undo a record: only the account that recorded it, within 15 minutes of recording.

    The record leaves the statistics, exports and later reports; the audit trail keeps a
    ``refusal.delete`` event (who, when, the record as it was). Later: 409, or 404 once undone.
    """
    await service.undo(
        session=uow.session,
        refusal_id=refusal_id,
        account_id=principal.id,
        actor=principal.actor,
        now=datetime.now(UTC),
    )
    return Response(status_code=204)


# ---- statistics, capacity over time, exports and reports (analysts of the region, admins) ----


def _dates(start: date | None, end: date | None) -> tuple[date, date]:
    """Defaults: the 30 days up to today (local); then the range rules."""
    end = end or datetime.now(service.LOCAL).date()
    start = start or end - timedelta(days=29)
    reporting.check_range(start, end)
    return start, end


async def _audit_export(
    db: DbDep, principal: Principal, action: str, detail: dict[str, Any]
) -> None:
    async with db.write_session() as session:
        audit.record(
            session=session,
            actor=principal.actor,
            action=action,
            entity="export",
            entity_id=detail.get("region"),
            detail=detail,
        )
        await session.commit()


async def _style(
    db: DbDep, lang: str | None, accept_language: str | None, sep: str, codes: bool
) -> exports.Style:
    names = {} if codes else await exports.facility_names(db)
    return exports.Style(labels.language(lang, accept_language), sep, codes, names)


def _download(body: Any, fmt: str, name: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type=exports.MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@router.get("/refusals/stats", response_model=RefusalStats)
async def refusal_stats(
    region: Slug,
    principal: Reader,
    session: SessionDep,
    start: FromQ = None,
    end: ToQ = None,
    group_by: GroupBy = "facility",
) -> Any:
    """Totals and groups of one region's refusals; ``to`` is inclusive, dates are local.

    ``total`` counts refusals; ``shown_available`` those recorded while the picture showed the
    category green or orange; ``searches`` the distinct episodes with a refusal (a refusal
    without episode is a search of its own); ``accepted`` the accepted transfers recorded, and
    ``refusal_rate`` = total / (total + accepted) (null when none was recorded). ``outcomes``
    count searches by outcome (an episode's latest outcome), with median calls and minutes.
    """
    await check_region_readable(session, principal, region)
    start, end = _dates(start, end)
    stats = await reporting.refusal_stats(
        session=session, region=region, start=start, end=end, group_by=group_by
    )
    return JSONResponse(stats)  # as built: the model only describes it


@router.get(
    "/refusals/export",
    response_class=StreamingResponse,
    responses=download("csv", "xlsx", description="The refusals as CSV or XLSX, streamed"),
)
async def refusal_export(
    region: Slug,
    principal: Reader,
    session: SessionDep,
    db: DbDep,
    start: FromQ = None,
    end: ToQ = None,
    format: Literal["csv", "xlsx"] = "csv",
    lang: LangQ = None,
    sep: SepQ = ";",
    codes: CodesQ = False,
    accept_language: AcceptLanguage = None,
) -> Any:
    """One row per refusal (and accepted transfer), streamed; no identity of the recorder.

    For Excel by default: Dutch column names and labels (``lang=en`` or ``Accept-Language``
    for English), each facility's name beside its id, times in Europe/Amsterdam (CSV
    ``YYYY-MM-DD HH:MM:SS``, XLSX date cells), CSV with a UTF-8 BOM and ``;`` (``sep=,``).
    ``codes=true``: the API's column names and codes, times ISO 8601 with the Amsterdam offset.
    """
    await check_region_readable(session, principal, region)
    start, end = _dates(start, end)
    detail = {"region": region, "from": start.isoformat(), "to": end.isoformat(), "format": format}
    await _audit_export(db, principal, "refusals.export", detail)
    style = await _style(db, lang, accept_language, sep, codes)
    rows = exports.refusal_rows(db=db, region=region, start=start, end=end, style=style)
    body = exports.stream(format, exports.refusal_columns(style), rows, "refusals", style)
    return _download(body, format, f"refusals-{region}-{start}-{end}")


@router.get(
    "/capacity-over-time",
    response_model=CapacityOverTime,
    responses={
        200: {
            "description": "The hours as JSON, or a CSV or XLSX download (``format``)",
            "content": download("csv", "xlsx", description="")[200]["content"],
        }
    },
)
async def capacity_over_time(
    region: Slug,
    principal: Reader,
    session: SessionDep,
    db: DbDep,
    settings: SettingsDep,
    start: FromQ = None,
    end: ToQ = None,
    period: Literal["day", "week", "month", "total"] = "month",
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: LangQ = None,
    sep: SepQ = ";",
    codes: CodesQ = False,
    accept_language: AcceptLanguage = None,
) -> Any:
    """Hours each facility's categories spent red, in a stop, or stale, per period.

    Rows ``{"facility_id", "category", "period", "hours_red", "hours_stop", "hours_stale"}``
    for every category a facility offers; periods split at local midnights (``week`` is the
    ISO week, ``total`` the whole range). Red uses the region's current thresholds, stale its
    freshness limit; a stop counts for every category offered. ``format=csv|xlsx`` downloads
    (labelled as the refusal export: ``lang``, ``sep``, ``codes``).
    """
    await check_region_readable(session, principal, region)
    start, end = _dates(start, end)
    async with history.turn(settings):  # a few at once per process; the rest wait
        rows = await history.capacity_over_time(
            session=session, settings=settings, region=region, start=start, end=end, period=period
        )
        if format == "json":
            head = {"region": region, "from": start, "to": end, "period": period}
            # 400 days of every facility's categories: encoded off the event loop
            encoded = await anyio.to_thread.run_sync(
                lambda: orjson.dumps({**head, "rows": list(rows)})
            )
            return Response(encoded, media_type="application/json")
    detail = {"region": region, "from": start.isoformat(), "to": end.isoformat(), "format": format}
    await _audit_export(db, principal, "capacity.export", detail)
    style = await _style(db, lang, accept_language, sep, codes)
    columns = history.COLUMNS if codes else ["facility_name", *history.COLUMNS]
    named = ({**r, "facility_name": r["facility_id"]} for r in rows)
    body = exports.stream(
        format, columns, exports.aiter_rows(named, columns, style), "capacity", style
    )
    return _download(body, format, f"capacity-{region}-{start}-{end}")


@router.get("/reports", response_model=list[ReportSummary])
async def list_reports(principal: Reader, session: SessionDep, region: Slug | None = None) -> Any:
    """Stored monthly ROAZ reports, newest first (an analyst sees those of their region)."""
    if region is not None:
        await check_region_readable(session, principal, region)
    elif principal.role is Role.analyst and principal.region_id is not None:
        region = principal.region_id
    return await reports.list_reports(session=session, region=region)


@router.post("/reports", status_code=201, response_model=ReportSummary)
async def generate_report(
    principal: Reader,
    session: SessionDep,
    db: DbDep,
    settings: SettingsDep,
    region: Slug,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="e.g. 2026-10")],
) -> Any:
    """Generate (or regenerate) one region's report of one month now."""
    await check_region_readable(session, principal, region)
    async with db.write_session() as write:
        report = await reports.generate(
            session=write, settings=settings, region=region, month=month, actor=principal.actor
        )
        await write.commit()
        return report


@router.get(
    "/reports/{report_id}",
    response_model=ReportContent,
    responses={
        200: {
            "description": "The report as JSON, CSV, XLSX or an HTML page (``format``)",
            "content": {
                **download("csv", "xlsx", description="")[200]["content"],
                "text/html": {"schema": {"type": "string"}},
            },
        }
    },
)
async def get_report(
    report_id: int,
    principal: Reader,
    session: SessionDep,
    db: DbDep,
    format: Literal["json", "csv", "xlsx", "html"] = "json",
    lang: LangQ = None,
    sep: SepQ = ";",
    accept_language: AcceptLanguage = None,
) -> Any:
    """One report as JSON, CSV, XLSX or an HTML page.

    JSON: a suppressed cell is ``{"suppressed": true}`` (under 5, or hidden so that no row or
    column total gives it back); ``null`` means not applicable (a refusal rate without accepted
    transfers). HTML, CSV and XLSX show facility names (ids in an extra column), Dutch labels
    (``lang=en`` or ``Accept-Language: en`` for English), "x" for suppressed and "n.v.t." for
    not applicable, times in Europe/Amsterdam. XLSX: one sheet per table, with charts. CSV: UTF-8
    with BOM, ``;`` and decimal commas for Dutch Excel; ``sep=,`` for commas and decimal points.
    """
    report = await session.get(RefusalReport, report_id)
    if report is None:
        raise NotFound(messages.UNKNOWN_REPORT(report=report_id))
    await check_region_readable(session, principal, report.region)
    await _audit_export(
        db,
        principal,
        "report.download",
        {"region": report.region, "month": report.month, "format": format},
    )
    if format == "json":
        return JSONResponse(reports.upgrade(report.content))  # as stored: the model describes it
    language = labels.language(lang, accept_language)
    if format == "html":
        # Its own policy: the service's strict one refuses the page's <style>.
        page = render.to_html(report.content, language)
        return HTMLResponse(page, headers={"Content-Security-Policy": render.CSP})
    if format == "csv":
        body = render.to_csv(report.content, language, sep)
    else:
        body = await anyio.to_thread.run_sync(render.to_xlsx, report.content, language)
    name = f"{labels.word('title', language).lower()}-{report.region}-{report.month}"
    return Response(
        body,
        media_type=exports.MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )
