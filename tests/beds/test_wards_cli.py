"""``capacity wards set|list|import``: the ward map from the command line, all rows or none."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.api.support import IKAZIA
from tests.conftest import ERASMUS
from tests.test_cli import Run, cli, count, db_path

__all__ = ["cli", "db_path"]


def test_wards_are_set_listed_and_imported_all_rows_or_none(
    cli: Run, db_path: Path, tmp_path: Path
) -> None:
    cli("seed")
    done = cli("wards", "set", ERASMUS, "vk=delivery_room", "NICU=nicu")
    assert f"{ERASMUS}: 2 wards mapped" in done.stdout
    assert cli("wards", "list", ERASMUS).stdout.splitlines() == ["NICU\tnicu", "VK\tdelivery_room"]
    formula = cli("wards", "set", ERASMUS, "=cmd=nicu", ok=False)
    assert formula.returncode == 2 and "wards.0.ward" in formula.stderr
    # IKAZIA has no NICU: the whole file is refused, naming the line; nothing changes.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"facility_id;ward;category\n{ERASMUS};KRAAM;maternity_bed\n{IKAZIA};NICU;nicu\n"
    )
    refused = cli("wards", "import", str(bad), ok=False)
    assert refused.returncode == 2 and "error: line 3.category:" in refused.stderr
    assert count(db_path, "ward_mapping") == 2
    good = tmp_path / "good.csv"
    good.write_bytes(
        f"\ufefffacility_id,ward,category\n{ERASMUS},KRAAM,maternity_bed\n"
        f"{IKAZIA},VK,delivery_room\n{IKAZIA},vk2,delivery_room\n".encode()
    )
    assert "imported 3 wards for 2 facilities" in cli("wards", "import", str(good)).stdout
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute(
            "SELECT facility_id, ward, category FROM ward_mapping ORDER BY facility_id, ward"
        ).fetchall()
        actors = {
            a
            for (a,) in conn.execute("SELECT actor FROM audit_event WHERE action = 'wards.update'")
        }
    assert stored == [
        (ERASMUS, "KRAAM", "maternity_bed"),
        (IKAZIA, "VK", "delivery_room"),
        (IKAZIA, "VK2", "delivery_room"),
    ]
    assert actors == {"cli"}
