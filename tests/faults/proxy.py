"""A loopback TCP proxy in front of Redis that can swallow Redis's answers: Redis still carries
out every command, but the service never hears back (a network cut, or a Redis stalled past the
client's timeout), the fault where the service cannot know whether a change was taken.

``swallow`` drops every answer while set. ``lose_answer_to(*markers)`` is the sharper fault: the
first command (or pipeline) that contains every marker reaches Redis and is carried out, and
everything Redis answers on that connection from then on is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib

from tests.servers import free_port


class SwallowingProxy:
    def __init__(self, upstream_port: int, password: str = ""):
        self.upstream_port = upstream_port
        self.password = password  # Redis's own: the proxy passes AUTH through
        self.port = free_port()
        self.swallow = False
        self.markers: tuple[bytes, ...] = ()
        self.lost = 0  # commands whose answers were dropped by ``lose_answer_to``
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def lose_answer_to(self, *markers: bytes) -> None:
        """Let the next command holding every marker through, then drop its connection's answers."""
        self.markers = markers

    async def start(self) -> SwallowingProxy:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        cut = asyncio.Event()  # set once this connection's answers are to be lost
        for task in (
            asyncio.create_task(self._commands(reader, up_writer, cut)),
            asyncio.create_task(self._answers(up_reader, writer, cut)),
        ):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _commands(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, cut: asyncio.Event
    ) -> None:
        try:
            while data := await src.read(65536):
                if self.markers and all(m in data for m in self.markers):
                    self.markers = ()
                    self.lost += 1
                    cut.set()  # before the command goes out: its answer must not slip through
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()

    async def _answers(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, cut: asyncio.Event
    ) -> None:
        try:
            while data := await src.read(65536):
                if self.swallow or cut.is_set():
                    continue
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()
