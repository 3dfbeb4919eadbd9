"""What the live stream sends, and the close codes it uses (see docs/live-stream.md).

Messages travel through the hub as ``Item`` tuples ``(seq, frame)``: the frame is built once per
change and the same bytes go to every client of the region.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from capacity.realtime.transport import frame

# Close codes (4000-4999 are ours; the last three digits follow HTTP where one fits).
# Missing, forged, expired or revoked token (the account deactivated): sign in again, do not
# retry with the same token. Also ends an open stream at its token's expiry or revocation.
CLOSE_BAD_TOKEN = 4401
CLOSE_FORBIDDEN = 4403  # the account may not read this region
CLOSE_UNKNOWN_REGION = 4404
CLOSE_TOO_SLOW = 4008  # the client fell behind its buffer; reconnect with ``since``
CLOSE_UNAVAILABLE = 1013  # Redis or the database is down; try again later
CLOSE_GOING_AWAY = 1001  # the server shuts down

# ``seq`` of an item that is sent whatever the client has seen (pings).
CONTROL = -1

# (seq, frame): the message as a whole websocket text frame, built once (see transport.frame).
# Frame None asks for a fresh snapshot: when the client has not seen ``seq`` yet (a reset
# entry, or a gap), or always when ``seq`` is CONTROL (Redis's stream went back).
Item = tuple[int, "bytes | None"]
RESYNC_ITEM: Item = (CONTROL, None)

PING = b'{"type":"ping"}'
PING_ITEM: Item = (CONTROL, frame(PING))


def snapshot(picture: dict[str, Any]) -> str:
    """The regional picture as the first message of a connection (or after a reset)."""
    return orjson.dumps({"type": "snapshot", **picture}).decode()


def entry_seq(entry_id: bytes | str) -> int:
    """The region ``seq`` of a stream entry id ``<seq>-0``."""
    raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(raw.split("-", 1)[0])


def accepted_at(message: bytes) -> float | None:
    """The epoch time in a ``facility`` message's ``at`` field, read without decoding it all."""
    start = message.find(b'"at":"')
    if start < 0:
        return None
    start += 6
    end = message.find(b'"', start)
    try:
        return datetime.fromisoformat(message[start:end].decode()).timestamp()
    except ValueError:
        return None
