"""Request body size limit, enforced while reading (no Content-Length is no way around it)."""

from __future__ import annotations

from typing import Any

import orjson

from capacity.i18n import in_language, messages, scope_language

Scope = dict[str, Any]


class BodyLimit:
    """Pure ASGI middleware: 413 for bodies over ``max_bytes``."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(scope, send)
                    return
        seen = 0
        started = False
        overflow = False

        async def limited_receive() -> Any:
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    overflow = True
                    raise _TooLarge
            return message

        async def tracking_send(message: Any) -> None:
            # FastAPI turns any error while reading the body into a 400; answer 413 instead.
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if overflow:
                    await self._reject(scope, send)
                    return
            if overflow:
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Any) -> None:
        lang = scope_language(scope)
        detail = messages.BODY_TOO_LARGE(kb=self.max_bytes // 1024)
        message = f"body: {in_language(messages.TOO_LARGE(), lang)}"
        body = orjson.dumps({"detail": in_language(detail, lang), "message": message})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"content-language", lang.encode()),
                    (b"vary", b"Accept-Language"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
