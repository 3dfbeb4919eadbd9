"""A lock in Redis, so that of all processes only one runs a scheduled job at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from capacity.storage import keys

# Delete the lock only if it is still ours (it may have expired and been taken by another).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@asynccontextmanager
async def job_lock(client: aioredis.Redis, job: str, *, seconds: int) -> AsyncIterator[bool]:
    """Yields True if this process took the job's lock (released on exit), else False."""
    name, token = keys.scheduler_lock(job), uuid.uuid4().hex
    if not await client.set(name, token, nx=True, ex=seconds):
        yield False
        return
    try:
        yield True
    finally:
        await client.eval(_RELEASE, 1, name, token)  # type: ignore[misc]
