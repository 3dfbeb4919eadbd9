"""One encoded snapshot per region, shared by every client that connects meanwhile.

A connect storm (a server restart, a network blip on a ward) would otherwise read the whole
region from Redis and encode it once per client. Here the first caller builds it and everyone
arriving while it is built, or shortly after, gets the same string.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from capacity.realtime import messages

# How long a snapshot is reused while its seq is still current: short, so ``generated_at``
# and the ``stale`` flags of figures passing the freshness limit stay right.
MAX_AGE = 1.0

Build = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Snapshot:
    seq: int
    text: str
    built: float


class SnapshotCache:
    """Per region: the last encoded snapshot and the build in flight (at most one)."""

    def __init__(self) -> None:
        self._done: dict[str, Snapshot] = {}
        self._building: dict[str, asyncio.Future[Snapshot]] = {}

    async def get(self, region: str, *, at_least: int, build: Build) -> Snapshot:
        """A snapshot of ``region`` with seq >= ``at_least`` and younger than MAX_AGE."""
        loop = asyncio.get_running_loop()
        for _attempt in range(3):
            cached = self._done.get(region)
            if cached and cached.seq >= at_least and loop.time() - cached.built < MAX_AGE:
                return cached
            task = self._building.get(region)
            if task is None:
                # A task of its own: a caller that goes away does not cancel the others' build.
                task = self._building[region] = asyncio.create_task(self._build(region, build))
            snap = await asyncio.shield(task)
            if snap.seq >= at_least:
                return snap
            # Built before the change this caller must not miss: build again.
        return snap  # Redis keeps going back; the client still gets every later change

    async def _build(self, region: str, build: Build) -> Snapshot:
        started = asyncio.get_running_loop().time()
        try:
            picture = await build()
            snap = Snapshot(int(picture["seq"]), messages.snapshot(picture), started)
            self._done[region] = snap
            return snap
        finally:
            del self._building[region]

    def forget(self, region: str) -> None:
        """Redis went back or the region was rebuilt: never serve the old picture again."""
        self._done.pop(region, None)
