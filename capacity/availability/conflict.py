"""Conditional writes: a change made against a version of the facility that is no longer current.

A client sends ``If-Match: "<version>"`` with the version its change was based on (a person's
screen, loaded a while ago); the write pipeline compares it with the facility's version while
holding the lock that raises that version, so two writers with the same ``If-Match`` can never
both succeed. The loser gets 412 with the facility's current entry and changes nothing.
"""

from __future__ import annotations

from typing import Any


class VersionConflict(Exception):
    """The facility's version is not the one the change was based on (412); nothing was saved.

    ``entry`` is the facility's current entry as in the regional picture; the write pipeline
    raises without it (it holds the lock), and the API fills it in from the live picture.
    """

    def __init__(self, *, facility_id: str, region: str, expected: int, current: int):
        super().__init__(
            f"the facility changed since version {expected} (now {current}); nothing was saved"
        )
        self.facility_id, self.region = facility_id, region
        self.expected, self.current = expected, current
        self.entry: dict[str, Any] | None = None

    @property
    def message(self) -> str:
        now = self.entry["version"] if self.entry else self.current
        return f"the facility changed since version {self.expected} (now {now}); nothing was saved"


def check_version(expected: int | None, current: int, *, facility_id: str, region: str) -> None:
    """Raise ``VersionConflict`` when a version was expected and ``current`` is another."""
    if expected is not None and expected != current:
        raise VersionConflict(
            facility_id=facility_id, region=region, expected=expected, current=current
        )
