"""Response helpers: pre-encoded JSON for the hot paths, and the error shapes."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Credentials missing, wrong, expired or revoked"},
    403: {"description": "The caller's role or binding does not allow this"},
    404: {"description": "Unknown facility or region"},
    409: {"description": "The change conflicts with stored data"},
    413: {"description": "Request body too large"},
    503: {"description": "Database or Redis unreachable; nothing was changed"},
}


class JSONBytes(Response):
    """JSON encoded once with orjson, skipping response-model validation on the hot paths."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
