"""Key rotation (admin endpoint and command) and the audit export (endpoint and command)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from capacity.settings import Settings
from tests.conftest import ERASMUS

CLI = str(Path(sys.executable).parent / "capacity")
PUT = f"/api/v1/facilities/{ERASMUS}/capacity"
FIGURES = {"categories": {"delivery_room": {"available": 1, "staffed": 3}}}


def today() -> date:
    """The export's day, read when the test runs (a module constant went stale at midnight)."""
    return datetime.now(UTC).date()


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPACITY_")}
    env.update(
        CAPACITY_DATA_DIR=str(settings.data_dir),
        CAPACITY_DATABASE_URL=settings.resolved_database_url,
        CAPACITY_REDIS_URL=settings.redis_url or "",
    )
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def _new_key(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, object]:
    response = await client.post(f"/api/v1/facilities/{ERASMUS}/keys", headers=admin)
    assert response.status_code == 201
    return dict(response.json())


async def _export(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> httpx.Response:
    return await client.get("/api/v1/admin/audit/export", params=params, headers=headers)


async def test_rotate_issues_a_new_key_and_the_old_one_stops_at_once(client, login) -> None:  # type: ignore[no-untyped-def]
    admin = await login("admin")
    old = await _new_key(client, admin)
    assert (
        await client.put(PUT, json=FIGURES, headers={"X-API-Key": old["key"]})
    ).status_code == 200
    rotated = await client.post(f"/api/v1/keys/{old['id']}/rotate", headers=admin)
    assert rotated.status_code == 201
    new = rotated.json()
    assert new["facility_id"] == ERASMUS and new["key"] != old["key"]
    refused = await client.put(PUT, json=FIGURES, headers={"X-API-Key": old["key"]})
    assert refused.status_code == 401
    assert (
        await client.put(PUT, json=FIGURES, headers={"X-API-Key": new["key"]})
    ).status_code == 200
    again = await client.post(f"/api/v1/keys/{old['id']}/rotate", headers=admin)
    assert again.status_code == 422 and "revoked" in again.text
    assert (await client.post("/api/v1/keys/999999/rotate", headers=admin)).status_code == 404
    staff = await login(f"staff-{ERASMUS}")
    assert (await client.post(f"/api/v1/keys/{new['id']}/rotate", headers=staff)).status_code == 403
    trail = (
        await client.get("/api/v1/audit", params={"actor": "user:admin"}, headers=admin)
    ).json()
    rotations = [e for e in trail if e["action"] == "api_key.rotate"]
    assert rotations and rotations[0]["entity_id"] == str(old["id"])
    assert rotations[0]["detail"]["new_key_id"] == new["id"]


async def test_rotate_command_revokes_the_old_key_in_running_servers(
    client, login, settings
) -> None:  # type: ignore[no-untyped-def]
    admin = await login("admin")
    old = await _new_key(client, admin)
    assert (
        await client.put(PUT, json=FIGURES, headers={"X-API-Key": old["key"]})
    ).status_code == 200
    done = run_cli(settings, "keys", "rotate", "--facility", ERASMUS)
    assert done.returncode == 0, done.stderr
    new_key = done.stdout.strip().splitlines()[-1]
    assert new_key.startswith("cap_") and f"key {old['id']} revoked" in done.stdout
    assert (
        await client.put(PUT, json=FIGURES, headers={"X-API-Key": old["key"]})
    ).status_code == 401
    assert (await client.put(PUT, json=FIGURES, headers={"X-API-Key": new_key})).status_code == 200
    # two live keys: the command asks which one
    await _new_key(client, admin)
    ambiguous = run_cli(settings, "keys", "rotate", "--facility", ERASMUS)
    assert ambiguous.returncode == 2 and "key_id" in ambiguous.stderr


async def test_admin_exports_the_audit_trail_as_csv_and_the_export_is_audited(
    client, login
) -> None:  # type: ignore[no-untyped-def]
    admin = await login("admin")
    await client.post("/api/v1/auth/token", data={"username": "=HYPERLINK(1)", "password": "x"})
    response = await _export(
        client, admin, **{"from": str(today()), "to": str(today()), "format": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {"id", "at", "actor", "action", "entity", "entity_id", "detail"} == set(rows[0])
    actions = [r["action"] for r in rows]
    assert "login.ok" in actions and "login.failed" in actions
    failed = next(r for r in rows if r["action"] == "login.failed")
    # a name that is no account is not recorded at all (so never a formula in a spreadsheet)
    assert (failed["actor"], failed["entity_id"]) == ("anonymous", "")
    assert "HYPERLINK" not in response.text
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(ids)
    trail = (await client.get("/api/v1/audit", headers=admin)).json()
    assert trail[0]["action"] == "audit.export" and trail[0]["actor"] == "user:admin"
    # a period before anything happened is empty, with the header row
    empty = await _export(client, admin, **{"from": "2020-01-01", "to": "2020-01-31"})
    assert empty.status_code == 200 and empty.text.strip() == ",".join(
        ["id", "at", "actor", "action", "entity", "entity_id", "detail"]
    )


async def test_audit_export_refuses_bad_periods_and_non_admins(client, login) -> None:  # type: ignore[no-untyped-def]
    admin = await login("admin")
    later = today() + timedelta(days=1)
    backwards = await _export(client, admin, **{"from": str(later), "to": str(today())})
    assert backwards.status_code == 422 and "to" in backwards.json()["message"]
    bad_date = await _export(client, admin, **{"from": "yesterday"})
    assert bad_date.status_code == 422 and "from" in bad_date.json()["message"]
    missing = await _export(client, admin)
    assert missing.status_code == 422 and "from" in missing.json()["message"]
    wrong_format = await _export(client, admin, **{"from": str(today()), "format": "xml"})
    assert wrong_format.status_code == 422 and "format" in wrong_format.json()["message"]
    for user in ("midwife", "analyst"):
        denied = await _export(client, await login(user), **{"from": str(today())})
        assert denied.status_code == 403
    assert (await _export(client, {}, **{"from": str(today())})).status_code == 401


async def test_audit_export_command(client, login, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await login("admin")
    out = tmp_path / "audit.csv"
    day = str(today())
    done = run_cli(settings, "audit", "export", "--from", day, "--to", day, "--output", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open()))
    assert any(r["action"] == "login.ok" and r["entity_id"] == "admin" for r in rows)
    stdout = run_cli(settings, "audit", "export", "--from", day, "--to", day)
    assert stdout.returncode == 0 and "audit.export" in stdout.stdout  # the first export, audited
    bad = run_cli(settings, "audit", "export", "--from", day, "--to", "2000-01-01")
    assert bad.returncode == 2 and "to" in bad.stderr
