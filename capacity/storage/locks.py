"""A lock in Redis, so that of all processes only one runs a scheduled job at a time.

The lock lives ``seconds`` and is renewed while the job runs, so a run longer than that keeps
it, while a process killed mid-run (SIGKILL, no ``finally``) blocks the job for at most
``seconds``. Every run that took the lock is counted in Redis, with a check (a marker key of
its own) that no other run of the same job was in progress: the evidence that two schedulers
never both run a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from capacity.storage import keys

log = logging.getLogger(__name__)

# Delete the lock only if it is still ours (it may have expired and been taken by another).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Extend the lock only if it is still ours.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


async def _renew(client: aioredis.Redis, names: list[str], token: str, seconds: int) -> None:
    while True:
        await asyncio.sleep(max(seconds / 3, 0.2))
        try:
            for name in names:
                if not await client.eval(_RENEW, 1, name, token, seconds):  # type: ignore[misc]
                    log.error("job lock %s was lost while the job ran", name)
        except Exception as exc:  # Redis down: the run itself will notice and fail
            log.warning("could not renew job lock %s: %s", names[-1], exc)


async def _start_run(client: aioredis.Redis, job: str, token: str) -> None:
    """Count the run; if another run's marker is still there, count an overlap too.

    The marker expires with the lock at the latest (it takes the lock's remaining time, and is
    renewed before it): a marker left by a killed run outliving its lock by a few milliseconds
    would count the next run, which rightly took the free lock, as an overlap.
    """
    remaining = await client.pttl(keys.scheduler_lock(job))
    if remaining <= 0:  # the lock expired already: this run no longer holds it
        log.error("job %s lost its lock before it started", job)
        remaining = 1
    other = await client.set(keys.job_running(job), token, px=remaining, get=True)
    await client.hincrby(keys.job_runs(job), "runs", 1)
    if other is not None:
        log.error("job %s started while another run of it was in progress", job)
        await client.hincrby(keys.job_runs(job), "overlaps", 1)


@asynccontextmanager
async def job_lock(client: aioredis.Redis, job: str, *, seconds: int) -> AsyncIterator[bool]:
    """Yields True if this process took the job's lock (released on exit), else False."""
    name, token = keys.scheduler_lock(job), uuid.uuid4().hex
    if not await client.set(name, token, nx=True, ex=seconds):
        yield False
        return
    running = keys.job_running(job)
    renewer = asyncio.create_task(
        _renew(client, [running, name], token, seconds), name=f"lock-{job}"
    )
    try:
        await _start_run(client, job, token)
        yield True
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await client.eval(_RELEASE, 1, running, token)  # type: ignore[misc]
        await client.eval(_RELEASE, 1, name, token)  # type: ignore[misc]
