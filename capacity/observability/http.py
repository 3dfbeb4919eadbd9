"""Per-request bookkeeping: a request id (header and logs) and the HTTP metrics."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from capacity.observability.logs import REQUEST_ID
from capacity.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _route(scope: dict[str, Any]) -> str:
    """The route template (``/api/v1/facilities/{facility}/capacity``), never the raw path,
    so that ids do not multiply the metric's series; the frontend's files count as one."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path or "/"
    return "unmatched"


class RequestContext:
    """Pure ASGI middleware: X-Request-ID in and out, request count and latency per route."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope.get("headers", []) if k == b"x-request-id"), b"")
        text = incoming.decode("latin-1")
        request_id = text if _VALID_ID.match(text) else secrets.token_hex(8)
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route(scope)
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(
                method if method in _METHODS else "other", route, str(status)
            ).inc()
            HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)
