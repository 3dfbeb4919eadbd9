"""One place that turns exceptions into 4xx/503 answers; no request may end in a bare 500.

The human words (``message``, ``detail`` as a sentence, each validation error's ``msg``) are in
Dutch when the request's ``Accept-Language`` prefers it, else English; ``Content-Language`` says
which. Status codes, ``loc``, ``type`` and the other fields are the same in both.
"""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from capacity.errors import (
    AuthError,
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    TooManyLogins,
    Unavailable,
    VersionConflict,
)
from capacity.fhir.resources import operation_outcome
from capacity.i18n import Lang, Said, in_language, language, messages
from capacity.i18n.validation import translated
from capacity.observability.logs import redact
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[-1] if loc else "request")


def _lang(request: Request) -> Lang:
    return language(request.headers.get("accept-language"))


def _answer(
    lang: Lang, body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The error's JSON, saying its language (and that it depends on ``Accept-Language``)."""
    said = {"Content-Language": lang, "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, headers={**(headers or {}), **said})


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    lang = _lang(request)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": translated(e, lang), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    message = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors[:5])
    return _answer(lang, {"detail": errors, "message": message}, 422)


def _unprocessable(
    request: Request, loc: list[str | int], field: str, msg: str, kind: str
) -> JSONResponse:
    """A 422 shaped like FastAPI's validation errors, with the ``message`` line naming ``field``."""
    lang = _lang(request)
    text = in_language(msg, lang)
    detail = [{"loc": loc, "msg": text, "type": kind}]
    return _answer(lang, {"detail": detail, "message": f"{field}: {text}"}, 422)


def _input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    parts = exc.field.split(".")
    # Where the field came from, as FastAPI's own 422s say it: ``?to=`` is a query field.
    where = (
        "query"
        if parts[0] in request.query_params
        else "path"
        if parts[0] in request.path_params
        else "body"
    )
    # A list's index is a number, as in FastAPI's own: ["body", "facilities", 1].
    at: list[str | int] = [int(p) if p.isdigit() else p for p in parts]
    return _unprocessable(request, [where, *at], exc.field, exc.message, "value_error")


async def _http(request: Request, exc: Exception) -> Response:
    """A body FastAPI cannot even decode (not UTF-8, not JSON) is bad input too: 422 naming it."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        return _unprocessable(request, ["body"], "body", messages.NOT_JSON(), "json_invalid")
    if exc.status_code == 400 and isinstance(exc.detail, str):  # Starlette's form parser
        reason = exc.detail[:80]
        return _unprocessable(
            request, ["body"], "body", messages.NOT_A_FORM(reason=reason), "form_invalid"
        )
    if isinstance(exc.detail, Said):  # raise HTTPException(status, messages.X(...))
        lang = _lang(request)
        detail = in_language(exc.detail, lang)
        return _answer(lang, {"detail": detail}, exc.status_code, dict(exc.headers or {}))
    response = await http_exception_handler(request, exc)
    response.headers["Content-Language"] = "en"  # the framework's own words
    return response


def _conflict(request: Request, exc: Exception) -> JSONResponse:
    """412: the facility changed since the version the client's change was based on."""
    assert isinstance(exc, VersionConflict)
    lang = _lang(request)
    version = exc.entry["version"] if exc.entry else exc.current
    text = in_language(exc.message, lang)
    body = {"detail": text, "message": text, "facility": exc.entry}
    return _answer(lang, body, 412, {"ETag": f'"{version}"'})


def _too_many(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyLogins)
    lang = _lang(request)
    words: dict[str, Any] = {
        k: in_language(exc.body[k], lang) for k in ("detail", "message") if k in exc.body
    }
    return _answer(lang, {**exc.body, **words}, 429, {"Retry-After": str(exc.retry_after)})


def _overflow(request: Request, exc: Exception) -> JSONResponse:
    # An id beyond 64 bits reaches the SQLite driver, which cannot even bind it.
    return _unprocessable(request, ["path"], "id", messages.NUMBER_TOO_LARGE(), "too_large")


def _plain(status: int, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    def handler(request: Request, exc: Exception) -> JSONResponse:
        lang = _lang(request)
        message = in_language(exc.args[0], lang) if exc.args else type(exc).__name__
        return _answer(lang, {"detail": message}, status, headers)

    return handler


_TABLE = re.compile(r"(?i)\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|FROM)\s+(\"?\w+\"?)")


def described(exc: SQLAlchemyError) -> str:
    """What failed, without a value: the error's class, the driver's, the statement's verb and
    table, and the driver's first line (PostgreSQL's DETAIL line quotes values: left out)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(cause).strip().splitlines() or [""])[0][:200]
    statement = " ".join((getattr(exc, "statement", None) or "").split())
    found = _TABLE.search(statement)
    doing = f"{found.group(1).upper()} {found.group(2)}" if found else statement[:20]
    driver = f"{type(cause).__module__}.{type(cause).__name__}"
    return redact(f"{type(exc).__name__} ({driver}) in {doing or 'connect'}: {first}")


def _database(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SQLAlchemyError)
    if isinstance(exc, DataError):  # a NUL byte, or an id beyond 64 bits, on PostgreSQL
        msg = messages.UNSTORABLE_VALUE()
        return _unprocessable(request, ["request"], "request", msg, "value_error")
    what = f"{request.method} {request.url.path}"
    if isinstance(exc, IntegrityError):
        log.warning("integrity error on %s: %s", what, described(exc))
        lang = _lang(request)
        return _answer(lang, {"detail": in_language(messages.STORED_DATA_CONFLICT(), lang)}, 409)
    log.error("database error on %s: %s", what, described(exc))
    lang = _lang(request)
    return _answer(lang, {"detail": in_language(messages.DATABASE_DOWN(), lang)}, 503)


def _redis(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "redis error on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        redact(str(exc).splitlines()[0] if str(exc) else ""),
    )
    lang = _lang(request)
    return _answer(lang, {"detail": in_language(messages.REDIS_DOWN(), lang)}, 503)


_KEPT_HEADERS = ("content-language", "vary", "www-authenticate", "etag", "retry-after", "allow")


def _fhir_path(loc: list[Any]) -> str:
    """A validation error's place: a FHIRPath for the body, the parameter's name otherwise."""
    if loc and loc[0] == "body":
        path = "MeasureReport"
        for part in loc[1:]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        return path
    return ".".join(str(p) for p in loc[1:]) or str(loc[0] if loc else "request")


def is_fhir(path: str) -> bool:
    return path == "/fhir" or path.startswith("/fhir/")


def as_outcome(response: Response) -> Response:
    """The same error as a FHIR OperationOutcome (for ``/fhir``), words and status unchanged."""
    body = orjson.loads(bytes(response.body))
    detail = body.get("detail")
    places = [_fhir_path(e.get("loc", [])) for e in detail] if isinstance(detail, list) else []
    message = body.get("message") or (detail if isinstance(detail, str) else "")
    outcome = operation_outcome(response.status_code, str(message), places)
    headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
    return Response(
        orjson.dumps(outcome),
        status_code=response.status_code,
        headers=headers,
        media_type="application/fhir+json",
    )


def _speaking_fhir(handler: Any) -> Any:
    """The handler, answering with an OperationOutcome where the request was for ``/fhir``."""

    async def handle(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        if is_fhir(request.url.path):
            return as_outcome(response)
        return response  # type: ignore[no-any-return]

    return handle


def install(app: FastAPI) -> None:
    handlers: list[tuple[Any, Any]] = [
        (RequestValidationError, _validation),
        (HTTPException, _http),
        (OverflowError, _overflow),
        (InputError, _input),
        (VersionConflict, _conflict),
        (TooManyLogins, _too_many),
        (AuthError, _plain(401, {"WWW-Authenticate": "Bearer"})),
        (Forbidden, _plain(403)),
        (NotFound, _plain(404)),
        (Conflict, _plain(409)),
        (Unavailable, _plain(503)),
        (SQLAlchemyError, _database),
        *((exc_type, _redis) for exc_type in REDIS_DOWN),
    ]
    for exc_type, handler in handlers:
        app.add_exception_handler(exc_type, _speaking_fhir(handler))
