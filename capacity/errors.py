"""The service's own errors: one hierarchy, each class one answer (``api/errors.py`` maps them).

Built-in exceptions are not domain errors: a ``KeyError`` from a bug must not read as a 404, and
``PermissionError`` is an ``OSError``. Services raise these; nothing else is turned into a 4xx.
"""

from __future__ import annotations

from typing import Any

from capacity.i18n import Said, messages


class CapacityError(Exception):
    """Base of every error the service answers on purpose.

    Its message is a ``messages.X(...)`` of ``capacity/i18n/messages.py``: English as ``str``,
    with its Dutch, so the answer speaks the request's language (``tests/i18n`` checks it).
    """


class InputError(CapacityError, ValueError):
    """A request names something that does not fit (422); ``field`` says which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class AuthError(CapacityError):
    """Credentials missing, wrong, expired or revoked (401)."""


class TooManyLogins(CapacityError):
    """Failed logins reached a limit (429); ``body`` says which and until when."""

    def __init__(self, body: dict[str, Any], retry_after: int):
        super().__init__(body["message"])
        self.body = body
        self.retry_after = retry_after


class Forbidden(CapacityError):
    """The caller is known but may not do this (403)."""


class NotFound(CapacityError):
    """The thing named does not exist (404)."""


class Conflict(CapacityError):
    """The change conflicts with what is stored (409)."""


class Unavailable(CapacityError):
    """A part the service needs (database or Redis) is down; the change was not accepted (503)."""


class VersionConflict(CapacityError):
    """The facility's version is not the one the change was based on (412); nothing was saved.

    ``entry`` is the facility's current entry as in the regional picture; the write pipeline
    raises without it (it holds the lock), and the API fills it in from the live picture.
    """

    def __init__(self, *, facility_id: str, region: str, expected: int, current: int):
        super().__init__(messages.VERSION_CHANGED(expected=expected, now=current))
        self.facility_id, self.region = facility_id, region
        self.expected, self.current = expected, current
        self.entry: dict[str, Any] | None = None

    @property
    def message(self) -> Said:
        now = self.entry["version"] if self.entry else self.current
        return messages.VERSION_CHANGED(expected=self.expected, now=now)
