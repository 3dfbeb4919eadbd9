"""A loopback TCP proxy in front of Redis that can swallow Redis's answers: Redis still carries
out every command, but the service never hears back (a network cut, or a Redis stalled past the
client's timeout), the fault where the service cannot know whether a change was taken."""

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
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

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
        for task in (
            asyncio.create_task(self._pump(reader, up_writer, answers=False)),
            asyncio.create_task(self._pump(up_reader, writer, answers=True)),
        ):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, answers: bool
    ) -> None:
        try:
            while data := await src.read(65536):
                if answers and self.swallow:
                    continue
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()
