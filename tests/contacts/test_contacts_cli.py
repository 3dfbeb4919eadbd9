"""``capacity contacts import FILE``: the API's CSV import from the command line, all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import ERASMUS
from tests.test_cli import Run, cli, count, db_path

__all__ = ["cli", "db_path"]


def test_contacts_import_stores_all_rows_or_none_and_a_real_deployment_starts_without(
    cli: Run,
    db_path: Path,
    tmp_path: Path,
) -> None:
    cli("seed")
    assert count(db_path, "facility_contact") == 0  # no demo numbers outside development
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"facility_id;type;phone\n{ERASMUS};verloskunde;010 703 0000\n"
        f"{ERASMUS};neonatologie;ask Ans\n"
    )
    done = cli("contacts", "import", str(bad), ok=False)
    assert done.returncode == 2
    assert "error: line 3.phone:" in done.stderr
    assert count(db_path, "facility_contact") == 0
    good = tmp_path / "good.csv"
    good.write_bytes(
        f"\ufefffacility_id,type,phone\n{ERASMUS},verloskunde,010 703 0000\n"
        f"{ERASMUS},neonatologie,010 703 0001\n".encode()
    )
    assert "imported 2 numbers for 1 facilities" in cli("contacts", "import", str(good)).stdout
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute(
            "SELECT type, phone, demo FROM facility_contact ORDER BY phone"
        ).fetchall()
        actors = conn.execute(
            "SELECT actor FROM audit_event WHERE action = 'contacts.update'"
        ).fetchall()
    assert stored == [("verloskunde", "010 703 0000", 0), ("neonatologie", "010 703 0001", 0)]
    assert actors == [("cli",)]
