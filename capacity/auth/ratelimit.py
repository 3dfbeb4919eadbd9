"""Failed-login limits per account and per client address, kept in Redis (shared by processes).

A fixed window per counter: the first failure starts it, each failure adds one, and the counter
vanishes when the window ends. A successful login does not count and clears the account's
failures (not the address's: one right password must not reset an address guessing many).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import redis.asyncio as aioredis

from capacity.observability.metrics import REDIS_RECONNECTS
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    scope: str  # "account" | "address"
    ident: str
    max_failures: int

    @property
    def key(self) -> str:
        # Hashed: bounded key length and no account names or addresses readable in Redis.
        digest = hashlib.sha256(self.ident.encode()).hexdigest()[:32]
        return keys.login_attempts(self.scope, digest)


@dataclass(frozen=True)
class Blocked:
    """The limit a login hit and the seconds until it may try again."""

    scope: str
    max_failures: int
    window_seconds: int
    retry_after: int

    @property
    def message(self) -> str:
        who = "this account" if self.scope == "account" else "your address"
        minutes = max(1, round(self.window_seconds / 60))
        return (
            f"too many failed logins for {who}: at most {self.max_failures} per {minutes} "
            f"minutes; try again in {self.retry_after} seconds"
        )


class LoginLimiter:
    def __init__(
        self, client: aioredis.Redis, *, per_account: int, per_address: int, window_seconds: int
    ):
        self.client = client
        self.per_account = per_account
        self.per_address = per_address
        self.window = window_seconds

    def _limits(self, username: str, address: str) -> list[Limit]:
        return [
            Limit("account", username.casefold(), self.per_account),
            Limit("address", address, self.per_address),
        ]

    async def blocked(self, *, username: str, address: str) -> Blocked | None:
        """The first limit already reached, or None. Redis down: logins are not held up."""
        limits = self._limits(username, address)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for limit in limits:
                    pipe.get(limit.key)
                    pipe.ttl(limit.key)
                answers = await pipe.execute()
        except REDIS_DOWN as exc:
            REDIS_RECONNECTS.labels("ratelimit").inc()
            log.warning("login limits unavailable (Redis): %s", exc)
            return None
        for i, limit in enumerate(limits):
            count, ttl = answers[2 * i], answers[2 * i + 1]
            if count is not None and int(count) >= limit.max_failures:
                return Blocked(limit.scope, limit.max_failures, self.window, max(1, int(ttl)))
        return None

    async def failed(self, *, username: str, address: str) -> list[str]:
        """Count a failure; returns the scopes whose limit this failure reached (lock-outs)."""
        limits = self._limits(username, address)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                for limit in limits:
                    pipe.incr(limit.key)
                    pipe.expire(limit.key, self.window, nx=True)
                answers = await pipe.execute()
        except REDIS_DOWN as exc:
            REDIS_RECONNECTS.labels("ratelimit").inc()
            log.warning("login failure not counted (Redis): %s", exc)
            return []
        return [
            limit.scope for i, limit in enumerate(limits) if answers[2 * i] == limit.max_failures
        ]

    async def succeeded(self, *, username: str) -> None:
        """A right password clears the account's failures."""
        try:
            await self.client.delete(Limit("account", username.casefold(), 0).key)
        except REDIS_DOWN as exc:
            log.warning("login failures not cleared (Redis): %s", exc)
