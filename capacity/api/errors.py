"""One place that turns exceptions into 4xx/503 answers; no request may end in a bare 500."""

from __future__ import annotations

import logging
import re
from typing import Any

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
from capacity.observability.logs import redact
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[-1] if loc else "request")


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    message = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors[:5])
    return JSONResponse({"detail": errors, "message": message}, status_code=422)


def _unprocessable(loc: list[str], field: str, msg: str, kind: str) -> JSONResponse:
    """A 422 shaped like FastAPI's validation errors, with the ``message`` line naming ``field``."""
    detail = [{"loc": loc, "msg": msg, "type": kind}]
    return JSONResponse({"detail": detail, "message": f"{field}: {msg}"}, status_code=422)


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
    return _unprocessable([where, *parts], exc.field, exc.message, "value_error")


async def _http(request: Request, exc: Exception) -> Response:
    """A body FastAPI cannot even decode (not UTF-8, not JSON) is bad input too: 422 naming it."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        return _unprocessable(["body"], "body", "not valid JSON (UTF-8)", "json_invalid")
    return await http_exception_handler(request, exc)


def _conflict(_: Request, exc: Exception) -> JSONResponse:
    """412: the facility changed since the version the client's change was based on."""
    assert isinstance(exc, VersionConflict)
    version = exc.entry["version"] if exc.entry else exc.current
    body = {"detail": exc.message, "message": exc.message, "facility": exc.entry}
    return JSONResponse(body, status_code=412, headers={"ETag": f'"{version}"'})


def _too_many(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyLogins)
    headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(exc.body, status_code=429, headers=headers)


def _overflow(_: Request, exc: Exception) -> JSONResponse:
    # An id beyond 64 bits reaches the SQLite driver, which cannot even bind it.
    return _unprocessable(["path"], "id", "number too large (max 2^63-1)", "too_large")


def _plain(status: int, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    def handler(_: Request, exc: Exception) -> JSONResponse:
        message = str(exc.args[0]) if exc.args else type(exc).__name__
        return JSONResponse({"detail": message}, status_code=status, headers=headers)

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
        msg = "a value the database cannot store (e.g. a NUL byte, a number beyond 64 bits)"
        return _unprocessable(["request"], "request", msg, "value_error")
    what = f"{request.method} {request.url.path}"
    if isinstance(exc, IntegrityError):
        log.warning("integrity error on %s: %s", what, described(exc))
        return JSONResponse({"detail": "the change conflicts with stored data"}, status_code=409)
    log.error("database error on %s: %s", what, described(exc))
    return JSONResponse(
        {"detail": "the database is unavailable; nothing was changed, try again"}, status_code=503
    )


def _redis(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "redis error on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        redact(str(exc).splitlines()[0] if str(exc) else ""),
    )
    return JSONResponse(
        {"detail": "the live picture (Redis) is unavailable; nothing was changed, try again"},
        status_code=503,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(InputError, _input)
    app.add_exception_handler(VersionConflict, _conflict)
    app.add_exception_handler(TooManyLogins, _too_many)
    app.add_exception_handler(AuthError, _plain(401, {"WWW-Authenticate": "Bearer"}))
    app.add_exception_handler(Forbidden, _plain(403))
    app.add_exception_handler(NotFound, _plain(404))
    app.add_exception_handler(Conflict, _plain(409))
    app.add_exception_handler(Unavailable, _plain(503))
    app.add_exception_handler(SQLAlchemyError, _database)
    for exc_type in REDIS_DOWN:
        app.add_exception_handler(exc_type, _redis)
