"""The database and Redis URLs a user would write, read into the forms the service uses.

Each function returns the URL the drivers take, or raises ValueError with a message that
never repeats the URL (it may hold a password).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DATABASE_EXAMPLE = "postgresql://user:password@host:5432/db or sqlite:///path/capacity.db"
REDIS_SCHEMES = {"redis": "redis", "rediss": "rediss", "valkey": "redis", "valkeys": "rediss"}


def database_url(value: str) -> str:
    """sqlite:// -> sqlite+aiosqlite:// (absolute path); postgres(ql):// -> postgresql+psycopg://."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    scheme, sep, rest = value.strip().partition("://")
    if not sep:
        raise ValueError(f"not a URL; e.g. {DATABASE_EXAMPLE}")
    backend, _, driver = scheme.lower().partition("+")
    if backend == "sqlite" and driver in ("", "aiosqlite", "pysqlite"):
        scheme = "sqlite+aiosqlite"
    elif backend in ("postgres", "postgresql") and driver in ("", "psycopg", "psycopg2"):
        scheme = "postgresql+psycopg"
    else:
        raise ValueError(f"{scheme}:// is not supported; use {DATABASE_EXAMPLE}")
    try:
        url = make_url(f"{scheme}://{rest}")
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(f"cannot be read as a URL; e.g. {DATABASE_EXAMPLE}") from None
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("SQLite needs a file, e.g. sqlite:///var/capacity.db")
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    return url.render_as_string(hide_password=False)


def redis_url(value: str) -> str:
    """valkey:// -> redis://, valkeys:// -> rediss://; redis://, rediss://, unix:// as they are."""
    from redis.connection import parse_url

    scheme, sep, rest = value.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in {*REDIS_SCHEMES, "unix"}:
        raise ValueError(
            "use redis://[:password@]host:6379/0, rediss:// (TLS), valkey://, valkeys:// or unix://"
        )
    url = f"{REDIS_SCHEMES.get(scheme, scheme)}://{rest}"
    try:
        parse_url(url)
    except ValueError as exc:  # redis-py's messages name the part, not the whole URL
        raise ValueError(str(exc).split(" as ")[0]) from None
    return url


def redis_protected(url: str) -> bool:
    """The URL carries a password, or speaks TLS."""
    parts = urlsplit(url)
    return parts.scheme == "rediss" or bool(parts.password or parse_qs(parts.query).get("password"))


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for any other database)."""
    from sqlalchemy import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)
