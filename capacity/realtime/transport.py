"""Pre-built websocket frames written straight to the socket, skipping ASGI per message.

A server's frames are not masked, so the frame of a change is the same bytes for every client:
the hub builds it once, and each client's share of the fan-out is one ``transport.write`` (no
task switch, no ASGI ``send``, no per-client frame serialisation). uvicorn runs this protocol
when started with ``--ws capacity.realtime.transport:FrameWebSocketProtocol`` (``capacity
serve`` does); under any other server the live stream falls back to ASGI ``send``.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

EXTENSION = "capacity.frames"


def frame(payload: bytes) -> bytes:
    """One unfragmented text frame (FIN, opcode 1) carrying ``payload``, unmasked."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


def payload_text(data: bytes) -> str:
    """The text a frame built by ``frame`` carries (for the ASGI fallback)."""
    size = data[1]
    return data[2 if size < 126 else 4 if size == 126 else 10 :].decode()


class Frames:
    """What the live stream may do with the socket under this protocol."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol):
        self._protocol = protocol

    def writable(self) -> bool:
        """Open and not pushing back (the kernel and transport buffers are not full)."""
        p = self._protocol
        return p.writable.is_set() and not (p.close_sent or p.disconnected)

    @property
    def closed(self) -> bool:
        return self._protocol.close_sent or self._protocol.disconnected

    def write(self, data: bytes) -> None:
        """Whole frames only, so they never interleave with uvicorn's own pings and close."""
        self._protocol.transport.write(data)

    async def drained(self) -> None:
        await self._protocol.writable.wait()


class FrameWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, offering ``Frames`` in the ASGI scope."""

    async def run_asgi(self) -> None:
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {})  # type: ignore[assignment]
        extensions[EXTENSION] = Frames(self)
        await super().run_asgi()


def frames_of(scope: Any) -> Frames | None:
    """The scope's ``Frames`` when the server runs ``FrameWebSocketProtocol``, else None."""
    found = (scope.get("extensions") or {}).get(EXTENSION)
    return found if isinstance(found, Frames) else None
