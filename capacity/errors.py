"""The service's own errors: one hierarchy, each class one answer (``api/errors.py`` maps them).

Built-in exceptions are not domain errors: a ``KeyError`` from a bug must not read as a 404, and
``PermissionError`` is an ``OSError``. Services raise these; nothing else is turned into a 4xx.
"""

from __future__ import annotations

from typing import Any


class CapacityError(Exception):
    """Base of every error the service answers on purpose."""


class InputError(CapacityError, ValueError):
    """A request names something that does not fit (422); ``field`` says which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class AuthError(CapacityError):
    """Credentials missing, wrong, expired or revoked (401)."""


class Forbidden(CapacityError):
    """The caller is known but may not do this (403)."""


class NotFound(CapacityError):
    """The thing named does not exist (404)."""


class Conflict(CapacityError):
    """The change conflicts with what is stored (409)."""


class Unavailable(CapacityError):
    """A part the service needs (database or Redis) is down; the change was not accepted (503)."""


class VersionConflict(CapacityError):
    """``If-Match`` named a version the facility has left behind (412), with the current entry."""

    def __init__(self, message: str, entry: dict[str, Any]):
        super().__init__(message)
        self.entry = entry
