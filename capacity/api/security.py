"""Security headers on every answer, a strict CSP for the frontend, and CORS closed by default.

The interactive API docs (``/docs``, ``/redoc``) load Swagger UI / ReDoc from a CDN and start it
with an inline script, so they get their own, relaxed policy; everything else (the frontend and
every API answer) gets the strict one.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from capacity.settings import Settings

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
CDN = "https://cdn.jsdelivr.net"
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {CDN}; "
    f"style-src 'self' 'unsafe-inline' {CDN} https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; connect-src 'self'; worker-src 'self' blob:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = b"max-age=63072000; includeSubDomains"


def _common(production: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"geolocation=(self), camera=(), microphone=(), payment=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if production:
        headers.append((b"strict-transport-security", HSTS))
    return headers


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers to every HTTP answer, whatever produced it."""

    def __init__(self, app: Any, production: bool):
        self.app = app
        self.common = _common(production)
        self.strict = [*self.common, (b"content-security-policy", STRICT_CSP.encode())]
        self.docs = [*self.common, (b"content-security-policy", DOCS_CSP.encode())]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = self.docs if path.startswith(DOCS_PATHS) else self.strict

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings) -> None:
    """CORS only for the configured origins (none by default), then the security headers."""
    origins = settings.cors_origin_list
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, production=not settings.development)
