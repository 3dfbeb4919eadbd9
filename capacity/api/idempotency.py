"""``Idempotency-Key`` on every write (/api/v1, /fhir): a retried request gets the first answer.

A machine that pushes figures and loses the answer (a timeout, a dropped connection) cannot know
whether its change was made; with an ``Idempotency-Key`` it sends the very same request again and
gets the first answer back (``Idempotent-Replayed: true``) instead of making a second change.

Kept in Valkey per caller (account or API key) and key, so two callers' keys never meet:

- the first request claims the key (``SET NX``, pending for ``PENDING_SECONDS``), runs, and
  stores its answer for ``idempotency_ttl_seconds`` before sending it;
- a repeat with the same method, path and body gets that answer; with another one, 422 naming
  ``Idempotency-Key``;
- a repeat while the first still runs waits for it up to ``idempotency_wait_seconds`` and then
  gets its answer, or 409 (nothing done; retry);
- 5xx answers, and answers that mean "try again" (401, 408, 409, 429), are not kept: the key is
  released and a retry runs afresh, as nothing was changed.

Valkey keeps its data across restarts (append-only file) in this project. A process killed after
its change committed but before it stored the answer leaves the key pending; once that expires
(``PENDING_SECONDS``), a retry runs again.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from typing import Any

import orjson

from capacity.api.deps import RESOLVED, access_cache
from capacity.auth.models import Principal
from capacity.errors import AuthError
from capacity.i18n import in_language, messages, scope_language
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Every write: the JSON API and the FHIR push (a retried MeasureReport must not count twice).
PREFIXES = ("/api/v1/", "/fhir/")
PENDING_SECONDS = 60  # longer than any write takes; a claim left by a killed process ends then
POLL_SECONDS = 0.05
MAX_KEPT_BYTES = 256 * 1024  # a larger answer is sent, not kept (no write answers that much)
NOT_KEPT = frozenset({401, 408, 409, 429})  # "try again": nothing was changed

Scope = dict[str, Any]


def valid_key(value: bytes) -> bool:
    """1 to 255 visible ASCII characters (0x21-0x7E)."""
    return 1 <= len(value) <= 255 and all(0x21 <= b <= 0x7E for b in value)


def fingerprint(scope: Scope, body: bytes) -> str:
    """What makes two requests the same: method, path, query and body."""
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


async def _caller(state: Any, scope: Scope) -> Principal | None:
    """The caller, as ``deps.get_principal`` resolves it; None lets the route answer 401."""
    access = access_cache(state)
    authorization = (_header(scope, b"authorization") or b"").decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    try:
        if scheme.lower() == "bearer" and token:
            return await access.for_token(token.strip())
        api_key = _header(scope, b"x-api-key")
        if api_key:
            return await access.for_key(api_key.decode("latin-1"))
    except AuthError:
        return None
    return None


class Idempotency:
    """Pure ASGI middleware; requests without the header pass straight through."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITES
            or not scope["path"].startswith(PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not valid_key(key):
            await _error(scope, send, 422, messages.IDEMPOTENCY_KEY_MALFORMED(), field=True)
            return
        body, receive = await _read_body(receive)
        state = scope["app"].state
        try:
            principal = await _caller(state, scope)
        except REDIS_DOWN:
            principal = None  # the route answers as it does without Redis
        if principal is None:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[RESOLVED] = principal  # not resolved twice
        record = keys.idempotency(
            f"{principal.kind}:{principal.id}", hashlib.sha256(key).hexdigest()
        )
        try:
            await self._handle(scope, receive, send, state, record, fingerprint(scope, body))
        except REDIS_DOWN as exc:
            log.warning("idempotency record unreachable (Redis): %s", exc)
            await _error(scope, send, 503, messages.REDIS_DOWN())

    async def _handle(
        self, scope: Scope, receive: Any, send: Any, state: Any, record: str, fp: str
    ) -> None:
        redis, settings = state.redis, state.settings
        pending = orjson.dumps({"fp": fp})
        deadline = time.monotonic() + settings.idempotency_wait_seconds
        while not await redis.set(record, pending, nx=True, ex=PENDING_SECONDS):
            raw = await redis.get(record)
            if raw is None:
                continue  # released (a 5xx) or expired meanwhile: claim it
            found = orjson.loads(raw)
            if found["fp"] != fp:
                await _error(scope, send, 422, messages.IDEMPOTENCY_KEY_REUSED(), field=True)
                return
            if "status" in found:
                await _replay(send, found)
                return
            if time.monotonic() >= deadline:
                await _error(scope, send, 409, messages.IDEMPOTENCY_IN_PROGRESS())
                return
            await asyncio.sleep(POLL_SECONDS)
        await self._first(scope, receive, send, redis, record, fp, settings.idempotency_ttl_seconds)

    async def _first(
        self, scope: Scope, receive: Any, send: Any, redis: Any, record: str, fp: str, ttl: int
    ) -> None:
        """Run the request holding the claim; keep its answer before sending it."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        done = False

        async def keeping_send(message: Any) -> None:
            nonlocal done
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body" or done:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            done = True
            await _keep(redis, record, fp, ttl, start, b"".join(chunks))
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks)})

        try:
            await self.app(scope, receive, keeping_send)
        finally:
            if not done:  # no answer (an exception, a cancelled request): nothing to replay
                await _release(redis, record)


async def _keep(
    redis: Any, record: str, fp: str, ttl: int, start: dict[str, Any], body: bytes
) -> None:
    status = int(start["status"])
    try:
        if status >= 500 or status in NOT_KEPT or len(body) > MAX_KEPT_BYTES:
            await redis.delete(record)
            return
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in start.get("headers", [])]
        answer = {
            "fp": fp,
            "status": status,
            "headers": headers,
            "body": base64.b64encode(body).decode(),
        }
        await redis.set(record, orjson.dumps(answer), ex=ttl)
    except REDIS_DOWN as exc:
        # The change is made; its answer goes out. A retry meets the pending claim until it ends.
        log.warning("idempotent answer not kept (Redis): %s", exc)


async def _release(redis: Any, record: str) -> None:
    try:
        await redis.delete(record)
    except REDIS_DOWN as exc:
        log.warning("idempotency claim not released (Redis): %s", exc)


async def _replay(send: Any, found: dict[str, Any]) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in found["headers"]]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": found["status"], "headers": headers})
    await send({"type": "http.response.body", "body": base64.b64decode(found["body"])})


async def _read_body(receive: Any) -> tuple[bytes, Any]:
    """The whole body, and a ``receive`` that hands it to the app again."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app sees an empty body and the disconnect
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    given = False

    async def replay() -> Any:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _error(scope: Scope, send: Any, status: int, text: str, *, field: bool = False) -> None:
    lang = scope_language(scope)
    words = in_language(text, lang)
    media = b"application/json"
    if scope["path"].startswith("/fhir/"):  # FHIR clients read OperationOutcomes
        media = b"application/fhir+json"
        code = {422: "invalid", 409: "conflict"}.get(status, "exception")
        issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": words}
        if field:
            issue["expression"] = ["Idempotency-Key"]
        body = orjson.dumps({"resourceType": "OperationOutcome", "issue": [issue]})
    elif field:  # shaped like the service's other 422s, naming the header
        detail: Any = [{"loc": ["header", "Idempotency-Key"], "msg": words, "type": "value_error"}]
        body = orjson.dumps({"detail": detail, "message": f"Idempotency-Key: {words}"})
    else:
        body = orjson.dumps({"detail": words})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media),
                (b"content-length", str(len(body)).encode()),
                (b"content-language", lang.encode()),
                (b"vary", b"Accept-Language"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique value per change (a UUID): a retry with the same key and request "
    "gets the first answer (Idempotent-Replayed: true) instead of making a second change; "
    "the same key with another request is 422. Kept per caller for "
    "CAPACITY_IDEMPOTENCY_TTL_SECONDS (24 h).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]+$"},
}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the header on every write operation (/api/v1 and /fhir) of an OpenAPI document."""
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(PREFIXES):
            continue
        for method, operation in operations.items():
            if method.upper() in WRITES:
                parameters = operation.setdefault("parameters", [])
                if all(p.get("name") != PARAMETER["name"] for p in parameters):
                    parameters.append(PARAMETER)
    return schema
