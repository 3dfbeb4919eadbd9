"""The shape both group-commit writers share (figures: ``capacity.availability.writer``; new
transfer requests: ``capacity.transfers.writer``).

One writer of each kind per process and database (``of``): callers queue their change and wait
for its future; one task takes whatever is queued (up to ``max_batch``) and hands the batch to
the writer's ``_write``, which runs its SQL on the writer's own thread and sync connection
(``engine``, ``thread``) and answers every future. An error ``_write`` did not answer goes to
every caller still waiting; the task goes on with the next batch.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, Protocol, Self, TypeVar

from capacity.storage.db import Database
from capacity.storage.plain import writer_engine

log = logging.getLogger(__name__)


class Queued(Protocol):
    future: asyncio.Future[Any]


P = TypeVar("P", bound=Queued)


class GroupCommitWriter(Generic[P]):
    name = "writer"  # the thread's and the task's name: capacity-<name>
    max_batch = 64

    def __init__(self, db: Database):
        self.db = db
        self.engine = writer_engine(db)
        self.thread = ThreadPoolExecutor(1, thread_name_prefix=f"capacity-{self.name}")
        self.queue: asyncio.Queue[P] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, db: Database, *args: Any) -> Self:
        """The process's writer of this kind for ``db``: made on first use, closed with it."""
        writer = db.writers.get(cls)
        if writer is None:
            writer = db.writers[cls] = cls(db, *args)
            db.on_dispose.append(writer.close)
        assert isinstance(writer, cls)
        return writer

    async def queued(self, pending: P) -> None:
        """Queue ``pending``; its future is answered once its batch is written."""
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name=f"capacity-{self.name}")
        await self.queue.put(pending)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self.thread, self.engine.dispose)
        self.thread.shutdown(wait=False)

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._write(batch)
            except Exception as exc:  # the loop must survive; every caller gets an answer
                log.exception("%s batch failed", self.name)
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)

    async def _write(self, batch: list[P]) -> None:
        raise NotImplementedError
