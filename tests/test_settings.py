"""Settings are validated at start: unsafe combinations refuse to start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from capacity.settings import Settings

KEY = "k" * 40
ANY_HOST = "0.0.0.0"  # noqa: S104 - the address development mode must refuse


@pytest.mark.parametrize("host", [ANY_HOST, "192.168.1.10", "example.org", "::"])
def test_development_mode_refuses_a_non_loopback_host(host: str) -> None:
    with pytest.raises(ValidationError, match="development mode refuses"):
        Settings(mode="development", host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_development_mode_binds_to_loopback(host: str) -> None:
    assert Settings(mode="development", host=host).host == host


def test_development_host_from_the_environment_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPACITY_HOST", ANY_HOST)
    with pytest.raises(ValidationError, match="development mode refuses"):
        Settings()


REDIS = "redis://:a-password@redis:6379/0"


def test_production_requires_secret_key_and_database_url() -> None:
    db = "postgresql+psycopg://db/c"
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(mode="production", host=ANY_HOST, database_url=db, redis_url=REDIS)
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(mode="production", host=ANY_HOST, secret_key=KEY, redis_url=REDIS)
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(mode="production", secret_key="short", database_url=db, redis_url=REDIS)
    ok = Settings(
        mode="production", host=ANY_HOST, secret_key=KEY, database_url=db, redis_url=REDIS
    )
    assert ok.resolved_secret_key == KEY


@pytest.mark.parametrize("redis_url", [None, "redis://redis:6379/0", "valkey://user@redis/0"])
def test_production_refuses_a_redis_anyone_may_write_to(redis_url: str | None) -> None:
    """The embedded Valkey or a Redis without password: any process could rewrite the picture."""
    with pytest.raises(ValidationError, match="CAPACITY_REDIS_URL with a password or TLS"):
        Settings(
            mode="production", secret_key=KEY, database_url="postgresql://db/c", redis_url=redis_url
        )


@pytest.mark.parametrize(
    "redis_url",
    [REDIS, "rediss://redis:6380/0", "valkeys://redis:6380/0", "redis://app:pw@redis:6379/0"],
)
def test_production_takes_a_redis_with_a_password_or_tls(redis_url: str) -> None:
    made = Settings(
        mode="production", secret_key=KEY, database_url="postgresql://db/c", redis_url=redis_url
    )
    assert made.redis_url is not None and made.redis_url.startswith(("redis://", "rediss://"))


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("postgres://u:p@db:5432/c", "postgresql+psycopg://u:p@db:5432/c"),
        ("postgresql://db/c", "postgresql+psycopg://db/c"),
        ("postgresql+psycopg://db/c", "postgresql+psycopg://db/c"),
        ("sqlite:////srv/capacity.db", "sqlite+aiosqlite:////srv/capacity.db"),
    ],
)
def test_the_usual_database_url_forms_are_read(written: str, used: str) -> None:
    assert Settings(database_url=written).resolved_database_url == used


def test_a_relative_sqlite_path_is_taken_from_the_current_folder(tmp_path: Path) -> None:
    import os

    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        url = Settings(database_url="sqlite:///x.db").resolved_database_url
    finally:
        os.chdir(here)
    assert url == f"sqlite+aiosqlite:///{(tmp_path / 'x.db').resolve()}"


@pytest.mark.parametrize(
    ("written", "used"),
    [("valkey://h:6379/0", "redis://h:6379/0"), ("valkeys://:pw@h/1", "rediss://:pw@h/1"),
     ("", None), ("redis://h", "redis://h")],
)  # fmt: skip
def test_the_usual_redis_url_forms_are_read(written: str, used: str | None) -> None:
    assert Settings(redis_url=written).redis_url == used


@pytest.mark.parametrize(
    ("field", "value"),
    [("database_url", "mysql://u:secretpw@h/x"), ("database_url", "sqlite://"),
     ("database_url", "postgres://u:secretpw@h:port/x"), ("redis_url", "http://u:secretpw@h"),
     ("redis_url", "redis://:secretpw@h:port/0")],
)  # fmt: skip
def test_a_bad_url_is_named_without_repeating_its_password(field: str, value: str) -> None:
    from capacity.settings import explain

    with pytest.raises(ValidationError) as refused:
        Settings(**{field: value})
    line = explain(refused.value)
    assert line.startswith(f"CAPACITY_{field.upper()}: ") and "\n" not in line
    assert "secretpw" not in line


def test_dev_secret_key_is_generated_once_and_kept_in_the_data_dir(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "var").resolved_secret_key
    assert len(first) >= 32
    stored = tmp_path / "var" / "secret_key"
    assert stored.read_text().strip() == first
    assert stored.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert Settings(data_dir=tmp_path / "var").resolved_secret_key == first
    assert Settings(data_dir=tmp_path / "other").resolved_secret_key != first


def test_defaults_follow_the_issue(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.freshness_limit_minutes == 240
    assert settings.port == 8000
    assert settings.max_body_bytes == 64 * 1024
    assert (
        settings.resolved_database_url
        == f"sqlite+aiosqlite:///{(tmp_path / 'capacity.db').resolve()}"
    )
    with pytest.raises(ValidationError, match="orange_min"):
        Settings(green_min=1, orange_min=3)


SENTINELS = "sentinel-1:26379, sentinel-2:26379,[::1]:26380"


def test_sentinels_are_read_as_host_port_pairs() -> None:
    settings = Settings(redis_sentinels=SENTINELS)
    assert settings.sentinel_addresses == [
        ("sentinel-1", 26379),
        ("sentinel-2", 26379),
        ("::1", 26380),
    ]
    assert settings.redis_master == "capacity"  # the default master name
    assert settings.external_redis  # no embedded Valkey then
    assert not Settings(redis_sentinels="").external_redis


@pytest.mark.parametrize("value", ["sentinel-1", "sentinel-1:port", ":26379", "s:70000", ","])
def test_a_bad_sentinel_list_is_named(value: str) -> None:
    from capacity.settings import explain

    with pytest.raises(ValidationError) as refused:
        Settings(redis_sentinels=value)
    assert explain(refused.value).startswith("CAPACITY_REDIS_SENTINELS: ")


def test_sentinels_and_a_redis_url_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="set one"):
        Settings(redis_sentinels=SENTINELS, redis_url="redis://:pw@h:6379/0")


@pytest.mark.parametrize(
    ("password", "sentinel_password"), [(None, None), ("pw", None), (None, "spw")]
)
def test_production_refuses_sentinels_without_both_passwords(
    password: str | None, sentinel_password: str | None
) -> None:
    """Without them any process reaching Redis or a sentinel could rewrite the live picture,
    or have the sentinels name another primary."""
    with pytest.raises(ValidationError, match="CAPACITY_REDIS_SENTINEL_PASSWORD are required"):
        Settings(
            mode="production",
            secret_key=KEY,
            database_url="postgresql://db/c",
            redis_sentinels=SENTINELS,
            redis_password=password,
            redis_sentinel_password=sentinel_password,
        )


def test_production_takes_sentinels_with_both_passwords() -> None:
    made = Settings(
        mode="production",
        host=ANY_HOST,
        secret_key=KEY,
        database_url="postgresql://db/c",
        redis_sentinels=SENTINELS,
        redis_master="maternity",
        redis_password="pw",
        redis_sentinel_password="spw",
    )
    assert made.redis_url is None and made.redis_master == "maternity"
