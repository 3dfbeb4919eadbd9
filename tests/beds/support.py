"""Bed lists for the tests: a 300-bed hospital whose figures are known in advance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

# ward code -> (category, beds); OK (the operating rooms) has no mapping on purpose.
WARDS = {
    "VK": ("delivery_room", 30),
    "KRAAM": ("maternity_bed", 120),
    "MCU": ("obstetric_high_care", 30),
    "NEO": ("neonatal_high_care", 60),
    "NICU": ("nicu", 40),
    "OK": (None, 20),
}
STATUSES = ["free", "occupied", "occupied", "closed", "blocked"]
MAPPING = {"wards": [{"ward": w, "category": c} for w, (c, _) in WARDS.items() if c]}


def beds(*, shift: int = 0) -> list[dict[str, Any]]:
    """300 beds; bed i of a ward has status STATUSES[(i + shift) % 5]."""
    rows = []
    for ward, (_, count) in WARDS.items():
        for i in range(count):
            rows.append(
                {
                    "ward": ward,
                    "room": f"{i // 4 + 1}.{i % 4:02d}",
                    "bed": str(i % 2 + 1),
                    "status": STATUSES[(i + shift) % 5],
                }
            )
    return rows


def expected(*, shift: int = 0) -> dict[str, dict[str, int]]:
    """The figures the 300 beds give: available = free, staffed = not closed."""
    out = {}
    for category, count in WARDS.values():
        if category is None:
            continue
        states = [STATUSES[(i + shift) % 5] for i in range(count)]
        out[category] = {
            "available": states.count("free"),
            "staffed": sum(s != "closed" for s in states),
        }
    return out


def csv_of(
    rows: list[dict[str, Any]], *, sep: str = ";", measured: datetime | None = None
) -> bytes:
    head = ["ward", "room", "bed", "status"] + (["measured_at"] if measured else [])
    lines = [sep.join(head)]
    for r in rows:
        cells = [r["ward"], r["room"], r["bed"], r["status"]]
        lines.append(sep.join(cells + ([measured.isoformat()] if measured else [])))
    return ("\n".join(lines) + "\n").encode()


CSV = {"Content-Type": "text/csv"}
