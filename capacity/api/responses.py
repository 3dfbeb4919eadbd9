"""Response helpers: pre-encoded JSON for the hot paths, and the error answers' exact shapes.

Every 4xx/503 body the service writes (``api/errors.py``, ``api/limits.py``, the frontend's
404/405) is one of the models below, so a client generated from ``/openapi.json`` can read each
answer; ``tests/api/test_schema_conformance.py`` holds every answer to its schema.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from capacity.reporting.exports import MEDIA


class ErrorBody(BaseModel):
    """An error in words (in the request's language, ``Content-Language`` says which)."""

    detail: str
    message: str | None = Field(None, description="The same words, where a form shows them")


class ValidationProblem(BaseModel):
    loc: list[str | int] = Field(description='Where: ["body", "figures", 0, "available"]')
    msg: str
    type: str = Field(description="A code: missing, int_parsing, value_error, ...")


class ValidationErrorBody(BaseModel):
    """422: what did not fit, per field; ``message`` names the fields in one line."""

    detail: list[ValidationProblem]
    message: str


class TooManyLoginsBody(BaseModel):
    """429: a failed-login limit was reached; ``Retry-After`` says the seconds left."""

    detail: str
    message: str
    scope: Literal["account_address", "address", "account"]
    retry_after: int
    locked_until: str = Field(description="UTC, ISO 8601 with Z")


def _error(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("Credentials missing, wrong, expired or revoked"),
    403: _error("The caller's role or binding does not allow this"),
    404: _error("Unknown facility, region or record"),
    409: _error("The change conflicts with stored data"),
    413: _error("Request body too large"),
    422: _error("Bad input: the fields that did not fit", ValidationErrorBody),
    503: _error("Database or Redis unreachable; nothing was changed"),
}
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: _error(
        "Too many failed logins for the account from this address, the address, or the "
        "account (Retry-After)",
        TooManyLoginsBody,
    )
}
NO_CONTENT: dict[int | str, dict[str, Any]] = {204: {"description": "Done; no body"}}


def download(*formats: str, description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 that is a file in one of ``formats`` (``exports.MEDIA`` names their types)."""
    text = {"type": "string"}
    binary = {"type": "string", "format": "binary"}
    content = {MEDIA[f].split(";")[0]: {"schema": binary if f == "xlsx" else text} for f in formats}
    return {200: {"description": description, "content": content}}


class JSONBytes(JSONResponse):
    """JSON encoded once with orjson, skipping response-model validation on the hot paths.

    A ``JSONResponse`` so that the schema of a route answering with it is the JSON its
    ``responses`` declare (any other class reads as ``{"type": "string"}``)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
