"""The frontend's files at ``/``, and honest answers for API paths that no route took.

The frontend is mounted at ``/``, so it matches every path a route did not match in full: without
this, a method a route does not allow (``PATCH /api/v1/refusals/stats``, ``OPTIONS`` on any API
path) got the static files' own 405 with ``Allow: GET, HEAD``, and an unknown API path an HTML
404. Here an API path gets a JSON 405 that lists the methods its routes allow, or a JSON 404
(an OperationOutcome under ``/fhir``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from capacity.api.errors import as_outcome, is_fhir
from capacity.i18n import in_language, messages, scope_language

API_PATHS = ("/api/", "/ws/", "/fhir", "/healthz", "/readyz", "/metrics")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class Frontend:
    def __init__(self, directory: Path, routes: list[BaseRoute]) -> None:
        # Without the frontend's folder (an API-only deployment, most tests) only the API answers.
        self.files = StaticFiles(directory=directory, html=True) if directory.is_dir() else None
        self.routes = routes

    def _allowed(self, scope: Scope) -> list[str]:
        """The methods some route answers on this path (whatever the kind of route)."""
        routes = [route for route in self.routes if not isinstance(route, Mount)]
        return [
            method
            for method in METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no stream at this path: the handshake is refused
            await WebSocketClose()(scope, receive, send)
            return
        if self.files is not None and not scope["path"].startswith(API_PATHS):
            await self.files(scope, receive, send)
            return
        allowed = self._allowed(scope)
        lang = scope_language(scope)
        said = {"Content-Language": lang, "Vary": "Accept-Language"}
        if allowed:
            methods = ", ".join(allowed)
            detail = messages.METHOD_NOT_ALLOWED(
                method=scope["method"], path=scope["path"], methods=methods
            )
            body = {"detail": in_language(detail, lang)}
            response = JSONResponse(body, status_code=405, headers={"Allow": methods, **said})
        else:
            detail = messages.NO_SUCH_ENDPOINT(path=scope["path"])
            response = JSONResponse(
                {"detail": in_language(detail, lang)}, status_code=404, headers=said
            )
        if is_fhir(scope["path"]):
            await as_outcome(response)(scope, receive, send)
            return
        await response(scope, receive, send)
