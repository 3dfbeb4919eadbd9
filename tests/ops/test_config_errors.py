"""Configuration a user would write works, or the command refuses in one line naming the setting.

Each case runs the real ``capacity`` command in a folder of its own, as someone would after
copying a URL from a colleague's notes: no traceback, the ``CAPACITY_`` variable named, the
password never repeated, and nothing made where the command did not find the service's data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "capacity")
SECRET = "hunter2-not-to-be-repeated"


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAPACITY_")}
    return subprocess.run(
        [CLI, *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], variable: str) -> str:
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr  # no traceback
    assert variable in lines[0]
    assert "Traceback" not in done.stderr and SECRET not in done.stderr + done.stdout
    return lines[0]


def test_a_closed_postgresql_port_is_one_line_naming_the_database_url(tmp_path: Path) -> None:
    url = f"postgres://capacity:{SECRET}@127.0.0.1:{closed_port()}/capacity"
    done = run(["serve"], tmp_path, CAPACITY_DATABASE_URL=url)
    assert_one_line(done, "CAPACITY_DATABASE_URL")


def test_a_valkey_url_nobody_answers_is_one_line_naming_the_redis_url(tmp_path: Path) -> None:
    url = f"valkey://:{SECRET}@127.0.0.1:{closed_port()}/0"
    done = run(["serve"], tmp_path, CAPACITY_REDIS_URL=url)
    assert_one_line(done, "CAPACITY_REDIS_URL")


def test_a_short_secret_in_production_is_one_line_naming_the_secret_key(tmp_path: Path) -> None:
    done = run(
        ["serve"],
        tmp_path,
        CAPACITY_MODE="production",
        CAPACITY_SECRET_KEY="short",
        CAPACITY_DATABASE_URL=f"postgresql://capacity:{SECRET}@db/capacity",
        CAPACITY_REDIS_URL=f"redis://:{SECRET}@redis:6379/0",
    )
    assert_one_line(done, "CAPACITY_SECRET_KEY")


@pytest.mark.parametrize("scheme", ["sqlite:///", "sqlite+aiosqlite:///"])
def test_the_plain_sqlite_url_form_works(tmp_path: Path, scheme: str) -> None:
    url = f"{scheme}{tmp_path / 'x.db'}"
    done = run(["migrate"], tmp_path, CAPACITY_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    listed = run(["facilities", "list"], tmp_path, CAPACITY_DATABASE_URL=url)
    assert listed.returncode == 0, listed.stderr
    assert "erasmus-mc-rotterdam" in listed.stdout


def test_a_command_outside_the_service_folder_says_where_it_looked(tmp_path: Path) -> None:
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    done = run(["facilities", "list"], elsewhere)
    line = assert_one_line(done, "CAPACITY_DATA_DIR")
    assert str(elsewhere) in line
    assert not (elsewhere / "var").exists()  # no new, empty database made there

    named = run(
        ["keys", "create", "--facility", "erasmus-mc-rotterdam"],
        elsewhere,
        CAPACITY_DATABASE_URL=f"sqlite:///{elsewhere / 'missing.db'}",
    )
    assert_one_line(named, "CAPACITY_DATABASE_URL")
    assert not (elsewhere / "missing.db").exists()
