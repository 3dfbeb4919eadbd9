"""Failed-login limits, kept in Redis (shared by processes), checked before the password is.

Three counters of failures, each a fixed window (the first failure starts it, the counter
vanishes when it ends):

- ``account_address``: one account from one client address (5). The owner's own typos lock
  only her own address; a stranger elsewhere cannot lock her out.
- ``address``: one client address over all accounts (20): one guesser trying many names.
  An IPv6 client counts as its /64 here and in the pair: it has that many addresses.
- ``account``: one account over all addresses (100): guessing spread over many addresses.

Only failures count, atomically: one script reserves a slot before the password is verified
(refused while failures plus attempts in flight reach a limit), and the outcome turns the slot
into a failure or frees it. A burst of wrong passwords therefore gets at most the limit of
401s; a burst of right ones only waits its turn (a slot is free again once a right password
is through) and is never refused. A right password clears its account and address pair, not
the address (one right password must not reset an address guessing many) nor the account
over all addresses.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis

from capacity.i18n import Said, messages
from capacity.observability.metrics import REDIS_RECONNECTS
from capacity.storage import keys
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

LEASE_MS = 60_000  # an attempt in flight holds its slot at most this long (a crashed process)
WAIT_SECONDS = 30.0  # longest wait for a slot held by attempts in flight

# KEYS: failures_1, flight_1, ..., failures_n, flight_n; ARGV: token, lease_ms, limit_1..n.
# Answers {0} reserved, {1, i, pttl} limit i reached, {2, i} limit i full of attempts in flight.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS / 2
local failed = {}
for i = 1, n do
  failed[i] = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  if failed[i] >= tonumber(ARGV[2 + i]) then
    return {1, i, redis.call('PTTL', KEYS[2 * i - 1])}
  end
end
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', now)
  if failed[i] + redis.call('ZCARD', KEYS[2 * i]) >= tonumber(ARGV[2 + i]) then
    return {2, i, 0}
  end
end
for i = 1, n do
  redis.call('ZADD', KEYS[2 * i], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[2 * i], tonumber(ARGV[2]))
end
return {0, 0, 0}
"""

# KEYS: as _RESERVE, then the account's set of pair counters; ARGV: token, outcome
# ("failed", "ok" or "none"), window seconds, limit_1..n. Answers the limits this failure reached.
_FINISH = """
local n = (#KEYS - 1) / 2
for i = 1, n do redis.call('ZREM', KEYS[2 * i], ARGV[1]) end
local reached = {}
if ARGV[2] == 'failed' then
  for i = 1, n do
    local count = redis.call('INCR', KEYS[2 * i - 1])
    if count == 1 then redis.call('EXPIRE', KEYS[2 * i - 1], tonumber(ARGV[3])) end
    if count == tonumber(ARGV[3 + i]) then table.insert(reached, i) end
  end
  redis.call('SADD', KEYS[#KEYS], KEYS[1])
  redis.call('EXPIRE', KEYS[#KEYS], tonumber(ARGV[3]))
elseif ARGV[2] == 'ok' then
  redis.call('DEL', KEYS[1])
end
return reached
"""

# KEYS: the account's set of pair counters, the account's counter. Answers how many counters
# held failures.
_LIFT = """
local cleared = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  cleared = cleared + redis.call('DEL', key)
end
cleared = cleared + redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[1])
return cleared
"""

_SCOPES = {
    "account_address": messages.SCOPE_ACCOUNT_ADDRESS,
    "address": messages.SCOPE_ADDRESS,
    "account": messages.SCOPE_ACCOUNT,
}


def client_group(address: str) -> str:
    """What the limits count as one address: an IPv6 client by its /64 (every connection has
    2^64 addresses to choose from), anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network((ip, 64), strict=False))
    return address


def _digest(ident: str) -> str:
    # Hashed: bounded key length and no account names or addresses readable in Redis.
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Limit:
    scope: str  # "account_address" | "address" | "account"
    ident: str
    max_failures: int

    @property
    def key(self) -> str:
        return keys.login_attempts(self.scope, _digest(self.ident))

    @property
    def flight_key(self) -> str:
        return keys.login_in_flight(self.scope, _digest(self.ident))


@dataclass(frozen=True)
class Blocked:
    """The limit a login hit and the seconds until it may try again."""

    scope: str
    max_failures: int
    window_seconds: int
    retry_after: int
    locked_until: datetime = field(compare=False)

    @property
    def message(self) -> Said:
        return messages.TOO_MANY_LOGINS(
            scope=_SCOPES[self.scope](),
            max=self.max_failures,
            minutes=max(1, round(self.window_seconds / 60)),
            seconds=self.retry_after,
        )

    def body(self) -> dict[str, Any]:
        """The 429 answer: ``detail`` and ``message`` in words, the rest for a login form."""
        return {
            "detail": self.message,
            "message": self.message,
            "scope": self.scope,
            "retry_after": self.retry_after,
            "locked_until": self.locked_until.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class Attempt:
    """A reserved slot: the outcome of the password check must be reported with ``finish``."""

    limits: list[Limit]
    username: str
    token: str
    counted: bool = True  # False when Redis was down: nothing reserved, nothing to report


class LoginLimiter:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        per_account_address: int,
        per_address: int,
        per_account: int,
        window_seconds: int,
    ):
        self.client = client
        self.per_account_address = per_account_address
        self.per_address = per_address
        self.per_account = per_account
        self.window = window_seconds
        self._reserve = client.register_script(_RESERVE)
        self._finish = client.register_script(_FINISH)
        self._lift = client.register_script(_LIFT)

    def _limits(self, username: str, address: str) -> list[Limit]:
        account, address = username.casefold(), client_group(address)
        return [
            Limit("account_address", f"{account}\n{address}", self.per_account_address),
            Limit("address", address, self.per_address),
            Limit("account", account, self.per_account),
        ]

    @staticmethod
    def _script_keys(limits: list[Limit]) -> list[str]:
        return [k for limit in limits for k in (limit.key, limit.flight_key)]

    async def reserve(self, *, username: str, address: str) -> Attempt | Blocked:
        """A slot for one password check, or the limit already reached.

        Waits while the slots are held by attempts in flight (their outcome decides). Redis
        down: logins are not held up (and not counted).
        """
        limits = self._limits(username, address)
        attempt = Attempt(limits, username, secrets.token_hex(8))
        argv: list[str | int] = [attempt.token, LEASE_MS, *(x.max_failures for x in limits)]
        waited = 0.0
        while True:
            try:
                kind, index, pttl = await self._reserve(keys=self._script_keys(limits), args=argv)
            except REDIS_DOWN as exc:
                REDIS_RECONNECTS.labels("ratelimit").inc()
                log.warning("login limits unavailable (Redis): %s", exc)
                return Attempt(limits, username, attempt.token, counted=False)
            if kind == 0:
                return attempt
            limit = limits[int(index) - 1]
            if kind == 1:
                retry_after = max(1, -(-int(pttl) // 1000)) if int(pttl) > 0 else self.window
                until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=retry_after)
                return Blocked(limit.scope, limit.max_failures, self.window, retry_after, until)
            if waited >= WAIT_SECONDS:  # attempts in flight for that long: a stuck server
                log.warning("login slot for %s not free after %.0f s", limit.scope, waited)
                return Blocked(limit.scope, limit.max_failures, self.window, 1, datetime.now(UTC))
            pause = random.uniform(0.01, 0.04)
            await asyncio.sleep(pause)
            waited += pause

    async def finish(self, attempt: Attempt, *, ok: bool | None) -> list[str]:
        """Report an attempt's outcome: True right password (frees the slot and clears the
        account and address pair), False wrong one (counts a failure), None no answer (frees
        the slot only). Returns the scopes whose limit this failure reached (lock-outs)."""
        if not attempt.counted:
            return []
        outcome = "none" if ok is None else "ok" if ok else "failed"
        account = attempt.limits[-1]
        script_keys = [*self._script_keys(attempt.limits), keys.login_pairs(_digest(account.ident))]
        argv: list[str | int] = [attempt.token, outcome, self.window]
        argv += [x.max_failures for x in attempt.limits]
        try:
            reached = await self._finish(keys=script_keys, args=argv)
        except REDIS_DOWN as exc:
            REDIS_RECONNECTS.labels("ratelimit").inc()
            log.warning("login outcome not counted (Redis): %s", exc)
            return []
        return [attempt.limits[int(i) - 1].scope for i in reached]

    async def lift_address(self, *, address: str) -> int:
        """Clear an address's failures over all accounts (a hospital's shared address locked by
        anyone behind it); 1 when it held some, else 0. Its accounts' own pairs stay."""
        return int(await self.client.delete(Limit("address", client_group(address), 0).key))

    async def lift(self, *, username: str) -> int:
        """Clear an account's failures from every address; returns how many counters held some."""
        account = username.casefold()
        script_keys = [
            keys.login_pairs(_digest(account)),
            Limit("account", account, 0).key,
        ]
        return int(await self._lift(keys=script_keys))
