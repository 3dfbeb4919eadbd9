"""Conditional writes over HTTP: ``If-Match`` in, ``ETag`` out, 412 with the current entry.

The version check itself runs in the write pipeline, under the lock that raises the version
(``availability.conflict``); here the header is read and the answers are shaped.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.exceptions import RequestValidationError
from sqlmodel import SQLModel

from capacity.api.responses import JSONBytes
from capacity.availability import service
from capacity.availability.conflict import VersionConflict
from capacity.availability.models import FacilityCapacity
from capacity.i18n import messages

ETAG = {
    "ETag": {"description": 'The facility\'s version, quoted: "12"', "schema": {"type": "string"}}
}


class VersionConflictBody(SQLModel):
    detail: str
    message: str
    facility: FacilityCapacity


ENTRY: dict[int | str, dict[str, Any]] = {
    200: {
        "model": FacilityCapacity,
        "description": "The facility's entry in the picture",
        "headers": ETAG,
    },
    412: {
        "model": VersionConflictBody,
        "description": "If-Match named another version than the facility's current one; "
        "nothing was saved. The body holds the current entry.",
        "headers": ETAG,
    },
}
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Only write if the facility is still at this version: "12" (also W/"12", '
        "12, or * for any)",
    ),
]
_VERSION = re.compile(r'(?:W/)?"(\d{1,18})"|(\d{1,18})')


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names; None when absent or ``*``; 422 if malformed."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _VERSION.fullmatch(if_match.strip())
    if found is None:
        msg = messages.IF_MATCH_MALFORMED()
        raise RequestValidationError(
            [{"loc": ("header", "If-Match"), "msg": msg, "type": "value_error"}]
        )
    return int(found.group(1) or found.group(2))


def tagged(entry: dict[str, Any]) -> JSONBytes:
    return JSONBytes(entry, headers={"ETag": f'"{entry["version"]}"'})


async def conditional(request: Request, write: Awaitable[Any]) -> Any:
    """Run the write; on a version conflict, put the current entry (live picture) into it."""
    try:
        return await write
    except VersionConflict as exc:
        state = request.app.state
        picture = await service.region_capacity(
            db=state.db, store=state.store, settings=state.settings, region_id=exc.region
        )
        found = (e for e in picture["facilities"] if e["facility_id"] == exc.facility_id)
        exc.entry = next(found, None)  # None only if the facility was deactivated meanwhile
        raise
