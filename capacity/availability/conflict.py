"""Conditional writes: a change made against a version of the facility that is no longer current.

A client sends ``If-Match: "<version>"`` with the version its change was based on (a person's
screen, loaded a while ago); the write pipeline compares it with the facility's version while
holding the lock that raises that version, so two writers with the same ``If-Match`` can never
both succeed. The loser gets 412 with the facility's current entry and changes nothing.
"""

from __future__ import annotations

from capacity.errors import Conflict, VersionConflict
from capacity.i18n import messages


def deactivated(facility_id: str) -> Conflict:
    """The answer (409) to a change of a facility an admin deactivated."""
    return Conflict(messages.FACILITY_DEACTIVATED(facility=facility_id))


def check_version(expected: int | None, current: int, *, facility_id: str, region: str) -> None:
    """Raise ``VersionConflict`` when a version was expected and ``current`` is another."""
    if expected is not None and expected != current:
        raise VersionConflict(
            facility_id=facility_id, region=region, expected=expected, current=current
        )
