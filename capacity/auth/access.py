"""Who is calling, answered from memory on the hot path and forgotten at once on a revocation.

Resolving an API key or checking that a token's account is still active costs an SQL round trip;
hospitals' systems push figures many times a second, so each process keeps the answers. Every
revocation (a key revoked, an account deactivated or its tokens revoked) puts a new generation
value in Redis after its transaction committed; each request reads that value first (one Redis
GET) and a process that sees a new value drops everything it knew. So a revoked key or a
deactivated account gets 401 on its very next request, whichever process serves it.

A token is valid while its account is active and the account's ``token_generation`` is not above
the one the token was issued under (``capacity.auth.service.revoke_tokens`` raises it).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from sqlmodel import select

from capacity.auth.models import ApiKey, Principal, User
from capacity.auth.service import KEY_PREFIX, decode_token, hash_key, key_facilities
from capacity.errors import AuthError
from capacity.i18n import messages
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

MAX_ENTRIES = 20_000  # a flood of forged tokens must not grow memory without bound
# Defence in depth: a revocation that could not be announced (the command line without the
# service's Redis, Redis down at the time) still takes effect within this many seconds.
MAX_AGE_SECONDS = 10.0
_UNKNOWN = b"redis unreachable"


async def announce_revocation(redis: aioredis.Redis) -> bool:
    """Tell every process to forget what it knew of keys and accounts (after the commit).

    A new random value, never a counter: after a Redis restart a counter starts again and could
    come back to the very value a process last saw, hiding the revocation from it.

    False when Redis is down: the revocation is made all the same (it is in SQL; answering 503
    "nothing was changed" would lie, and lose a rotated key shown only in that answer).
    Processes that cannot read Redis trust no cached answer; the others reread within
    ``MAX_AGE_SECONDS``.
    """
    try:
        await redis.set(keys.auth_generation(), secrets.token_hex(8))
    except REDIS_DOWN as exc:
        log.warning(
            "revocation not announced (Redis): %s; every process sees it within %.0f s",
            exc,
            MAX_AGE_SECONDS,
        )
        return False
    return True


class _SharedRead:
    """Reads the revocation generation once for all requests that arrived meanwhile.

    A request always waits for a read sent after it arrived, never for one already on its way,
    so a revocation announced before the request came in is always seen. Under load many
    concurrent requests share one Redis round trip (it was a fifth of a push's server time).
    """

    def __init__(self, redis: aioredis.Redis):
        self.redis = redis
        self.waiting: list[asyncio.Future[bytes | str | None]] = []
        self.reader: asyncio.Task[None] | None = None

    async def get(self) -> bytes | str | None:
        future: asyncio.Future[bytes | str | None] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._read(), name="access-generation")
        return await future

    async def _read(self) -> None:
        while self.waiting:
            waiting, self.waiting = self.waiting, []
            try:
                value = await self.redis.get(keys.auth_generation())
            except Exception as exc:  # every waiter gets the failure (REDIS_DOWN is handled)
                for future in waiting:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for future in waiting:
                if not future.done():  # a request whose client went away was cancelled
                    future.set_result(value)


class AccessCache:
    """One per process: key hash -> principal, token -> principal, account id -> (active,
    token generation)."""

    def __init__(self, *, db: Database, redis: aioredis.Redis, secret: str):
        self.db, self.redis, self.secret = db, redis, secret
        self.shared = _SharedRead(redis)
        self.generation: bytes | str | None = None
        self.expires_at = 0.0
        self.by_key: dict[str, Principal | AuthError] = {}
        self.by_token: dict[str, Principal] = {}
        self.accounts: dict[int, tuple[bool, int]] = {}

    async def _current(self) -> bool:
        """Drop everything if another process revoked something; False when Redis is down."""
        try:
            generation = await self.shared.get()
        except REDIS_DOWN:
            # A revocation made meanwhile could not be announced: trust nothing cached so far.
            generation, down = _UNKNOWN, True
        else:
            down = False
        now = time.monotonic()
        if generation != self.generation or now >= self.expires_at:
            self.by_key.clear()
            self.by_token.clear()
            self.accounts.clear()
            self.generation, self.expires_at = generation, now + MAX_AGE_SECONDS
        return not down

    def _remember(
        self, cache: dict[Any, Any], ident: object, value: object, generation: bytes | str | None
    ) -> None:
        # Only an answer read under the generation still in force may be kept.
        if generation != self.generation:
            return
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[ident] = value

    async def for_key(self, key: str) -> Principal:
        """The facility principal of a live API key; AuthError for an unknown or revoked key."""
        if not key.startswith(KEY_PREFIX) or len(key) > 100:
            raise AuthError(messages.API_KEY_INVALID())
        digest = hash_key(key)
        cached = await self._current()
        generation = self.generation
        known = self.by_key.get(digest) if cached else None
        if known is None:
            async with self.db.session() as session:
                row = (await session.exec(select(ApiKey).where(ApiKey.key_hash == digest))).first()
                if row is None:
                    # Not kept: the key may be created later.
                    raise AuthError(messages.API_KEY_INVALID())
                assert row.id is not None
                group = (await key_facilities(session=session, key_ids=[row.id])).get(row.id)
            known = (
                AuthError(messages.API_KEY_REVOKED())
                if row.revoked_at is not None
                else Principal(
                    kind="key",
                    id=row.id,
                    name=f"{row.id}",
                    role=None,
                    facility_id=row.facility_id,
                    facility_ids=tuple(group or [row.facility_id]),
                )
            )
            if cached:
                self._remember(self.by_key, digest, known, generation)
        if isinstance(known, AuthError):
            raise AuthError(*known.args)  # the cached message, in both languages
        return known

    async def for_token(self, token: str) -> Principal:
        """The principal of a valid token whose account is still active and whose tokens were not
        revoked since it was issued; AuthError otherwise."""
        cached = await self._current()
        generation = self.generation
        principal = self.by_token.get(token) if cached else None
        if principal is None or principal.expires <= datetime.now(UTC).timestamp():
            principal = decode_token(token, secret=self.secret)
            if cached:
                self._remember(self.by_token, token, principal, generation)
        account = self.accounts.get(principal.id) if cached else None
        if account is None:
            async with self.db.session() as session:
                found = (
                    await session.exec(
                        select(User.active, User.token_generation).where(User.id == principal.id)
                    )
                ).first()
            account = (bool(found[0]), int(found[1])) if found is not None else (False, 0)
            if cached:
                self._remember(self.accounts, principal.id, account, generation)
        active, current = account
        if not active:
            raise AuthError(messages.ACCOUNT_DEACTIVATED())
        # Older than the account's generation: revoked. Newer can only mean the cached answer
        # predates a revocation not yet announced, and a token issued after it is good.
        if principal.generation < current:
            raise AuthError(messages.TOKEN_REVOKED())
        return principal
