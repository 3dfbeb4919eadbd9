"""The deployment files hold what docs/operations.md promises (no Docker engine to run them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from capacity.cli import app as cli

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_compose_runs_two_apps_behind_a_proxy_and_one_scheduler() -> None:
    services = _compose()["services"]
    apps = [name for name, s in services.items() if s.get("command") == ["capacity", "serve"]]
    assert apps == ["app-1", "app-2"]
    for name in apps:
        assert services[name]["environment"]["CAPACITY_SCHEDULER"] == "false"
        assert services[name]["environment"]["CAPACITY_MODE"] == "production"
    assert services["scheduler"]["command"] == ["capacity", "scheduler"]
    assert "scheduler" in get_command(cli).commands  # type: ignore[attr-defined]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"server app-1:8000", nginx) and re.search(r"server app-2:8000", nginx)
    assert "location = /metrics" in nginx  # not public through the proxy
    assert "$request_uri" not in nginx and "$args" not in nginx  # no ?token= in its log


def test_every_long_running_service_has_a_health_check_and_restart_policy() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name


def test_valkey_keeps_an_append_only_file_and_postgres_a_volume() -> None:
    services = _compose()["services"]
    command = services["valkey"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in services["valkey"]["volumes"])
    assert any("/var/lib/postgresql/data" in v for v in services["postgres"]["volumes"])


def test_no_secret_is_written_into_the_files() -> None:
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "Dockerfile").read_text()
    for variable in ("POSTGRES_PASSWORD", "CAPACITY_SECRET_KEY"):
        assert re.search(rf"\$\{{{variable}:\?", text), variable  # required from the environment
    assert not re.search(r"SECRET_KEY:\s*[\"']?[A-Za-z0-9]{16,}", text)
