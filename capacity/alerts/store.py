"""The alerts' state in Redis: per subscription whether its condition held at the seq last seen.

Every process reads every region's stream and evaluates the same changes; the script lets only
the first to see a transition into the condition fire it, and ignores any process that reports
an older seq than one already recorded (a process lagging behind cannot re-arm a condition).
The first observation of a subscription (made when it is created) is its baseline: a condition
that already holds then fires at its next transition, not at once.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from capacity.storage import keys

# KEYS[1] armed key; ARGV[1] the region seq the condition was read at; ARGV[2] '1' if it holds.
# No earlier observation: this one is the baseline and fires nothing.
_EDGE = """
local cur = redis.call('GET', KEYS[1])
local seq = tonumber(ARGV[1])
if cur then
  local s, was = string.match(cur, '^(%d+):(%d)$')
  if tonumber(s) >= seq then return 0 end
  redis.call('SET', KEYS[1], seq .. ':' .. ARGV[2])
  if was == '0' and ARGV[2] == '1' then return 1 end
  return 0
end
redis.call('SET', KEYS[1], seq .. ':' .. ARGV[2])
return 0
"""


class AlertStore:
    """Edge detection shared by all processes; created once per process."""

    def __init__(self, client: aioredis.Redis):
        self.redis = client
        self._edge = client.register_script(_EDGE)

    async def transition(self, *, subscription: int, subject: str, seq: int, holds: bool) -> bool:
        """True for exactly one caller: the first to see the condition start holding at ``seq``."""
        fired = await self._edge(
            keys=[keys.alert_armed(subscription, subject)], args=[seq, "1" if holds else "0"]
        )
        return bool(fired)

    async def subscriptions_changed(self) -> None:
        await self.redis.incr(keys.alert_subscriptions_generation())

    async def subscriptions_generation(self) -> int:
        return int(await self.redis.get(keys.alert_subscriptions_generation()) or 0)
