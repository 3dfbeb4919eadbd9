"""Security headers on every answer, a strict CSP for the frontend, and CORS closed by default.

Every answer gets the strict policy unless it brings its own: the API docs (``/docs``, which
allow their one inline script by its hash, capacity/api/docs.py) and the monthly HTML report
(its one <style> by its hash, capacity/reporting/reports.py) do, and are no less strict.
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


def docs_policy(script_hashes: list[str]) -> str:
    """The strict policy, plus the inline scripts of the ``/docs`` page by their hashes."""
    scripts = " ".join(["'self'", *script_hashes])
    return STRICT_CSP.replace("script-src 'self';", f"script-src {scripts};")


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

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                # A header the answer set itself (a page's own policy) is kept.
                added = [(k, v) for k, v in self.strict if k not in present]
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
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "Idempotency-Key"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders, production=not settings.development)
