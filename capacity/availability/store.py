"""The live picture in Redis: per region a sequence number, a hash of facility states and a stream.

Every change is applied by one Lua script, so the state, the region ``seq`` and the stream entry
(id ``<seq>-0``) move together or not at all. The script applies a change only when its ``seq``
follows the stored one; otherwise it reports the stored value and the caller rebuilds the region
from SQL (Redis came back empty, or is ahead of SQL after a failed commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis

from capacity.storage import keys

_APPLY = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
local seq = tonumber(ARGV[1])
if cur ~= seq - 1 then return {0, cur} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('SET', KEYS[1], seq)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], seq .. '-0', 't', 'facility', 'm', ARGV[4])
redis.call('PUBLISH', KEYS[4], seq)
return {1, seq}
"""

_REBUILD = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
if #last > 0 then
  local id = tonumber(string.match(last[1][1], '^(%d+)'))
  if id > cur then cur = id end
end
local seq = tonumber(ARGV[1])
if seq <= cur then return {0, cur} end
redis.call('DEL', KEYS[2])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[5], ARGV[3])
redis.call('SET', KEYS[1], seq)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], seq .. '-0', 't', 'reset',
  'm', '{"type":"reset","seq":' .. seq .. '}')
redis.call('PUBLISH', KEYS[4], seq)
return {1, seq}
"""

_REPLACE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

_READ = """
return {redis.call('GET', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('GET', KEYS[3])}
"""


def region_rules_key(region: str) -> str:
    return keys.region_state(region) + ":rules"


def _change_keys(region: str) -> list[str]:
    """The keys every change script of a region touches, in the order the scripts expect."""
    return [
        keys.region_seq(region),
        keys.region_state(region),
        keys.region_stream(region),
        keys.region_channel(region),
    ]


@dataclass(slots=True)
class Applied:
    applied: bool
    current: int  # the region's seq in Redis after the call (-1: not loaded)


@dataclass(slots=True)
class RegionState:
    seq: int
    facilities: dict[str, dict[str, Any]]
    rules: dict[str, Any]


class CapacityStore:
    """Reads and writes one Redis's live picture; created in the lifespan."""

    def __init__(self, client: aioredis.Redis, *, replay: int = 1000):
        self.redis = client
        self.replay = replay
        self._apply = client.register_script(_APPLY)
        self._rebuild = client.register_script(_REBUILD)
        self._read = client.register_script(_READ)
        self._replace = client.register_script(_REPLACE)

    async def apply(
        self, *, region: str, seq: int, facility_id: str, raw: bytes, message: bytes
    ) -> Applied:
        """Apply one facility change with the region seq it was given in SQL."""
        applied, current = await self._apply(
            keys=_change_keys(region),
            args=[seq, facility_id, raw, message, self.replay],
        )
        return Applied(bool(applied), int(current))

    async def apply_many(self, changes: list[tuple[str, int, str, bytes, bytes]]) -> list[Applied]:
        """Apply several (region, seq, facility_id, raw, message) changes in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for region, seq, facility_id, raw, message in changes:
            await self._apply(
                keys=_change_keys(region),
                args=[seq, facility_id, raw, message, self.replay],
                client=pipe,
            )
        results = await pipe.execute()
        return [Applied(bool(a), int(c)) for a, c in results]

    async def rebuild(
        self, *, region: str, seq: int, facilities: dict[str, bytes], rules: bytes
    ) -> Applied:
        """Replace the region's whole picture at ``seq``; refused if Redis already went past it."""
        args: list[Any] = [seq, self.replay, rules]
        for facility_id, raw in facilities.items():
            args += [facility_id, raw]
        applied, current = await self._rebuild(
            keys=[*_change_keys(region), region_rules_key(region)],
            args=args,
        )
        return Applied(bool(applied), int(current))

    async def read(self, region: str) -> RegionState | None:
        """The region's picture as one consistent read, or None when Redis does not hold it."""
        seq, flat, rules = await self._read(
            keys=[keys.region_seq(region), keys.region_state(region), region_rules_key(region)]
        )
        if seq is None or rules is None:
            return None
        facilities = {flat[i].decode(): orjson.loads(flat[i + 1]) for i in range(0, len(flat), 2)}
        return RegionState(seq=int(seq), facilities=facilities, rules=orjson.loads(rules))

    async def facility_raw(self, region: str, facility_id: str) -> bytes | None:
        """One facility's raw state as Redis holds it (None: not there)."""
        found = await self.redis.hget(keys.region_state(region), facility_id)
        return found.encode() if isinstance(found, str) else found

    async def replace_raw(self, region: str, facility_id: str, old: bytes, new: bytes) -> bool:
        """Put ``new`` in place of ``old`` without a new seq (nothing is announced); False when
        the facility's state is no longer ``old`` (a change came in between: it stays)."""
        done = await self._replace(keys=[keys.region_state(region)], args=[facility_id, old, new])
        return bool(done)

    async def current_seq(self, region: str) -> int | None:
        value = await self.redis.get(keys.region_seq(region))
        return None if value is None else int(value)

    async def mark_loaded(self, token: str) -> None:
        await self.redis.set(keys.loaded_marker(), token)

    async def loaded(self) -> bool:
        """False when Redis lost the picture (came back empty): it must be rebuilt from SQL."""
        return bool(await self.redis.exists(keys.loaded_marker()))
