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


def test_production_requires_secret_key_and_database_url() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(mode="production", host=ANY_HOST, database_url="postgresql+psycopg://db/capacity")
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(mode="production", host=ANY_HOST, secret_key=KEY)
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(mode="production", secret_key="short", database_url="postgresql+psycopg://db/c")
    ok = Settings(
        mode="production", host=ANY_HOST, secret_key=KEY, database_url="postgresql+psycopg://db/c"
    )
    assert ok.resolved_secret_key == KEY


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
