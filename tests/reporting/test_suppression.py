"""Small cells stay hidden: no suppressed cell is the total minus the shown cells of its line.

The property test builds the monthly report of many random months (real SQL, the report's own
code path) and checks every row and column that has a total, from the report alone: a line with
exactly one hidden member (cell or total) would give that member back by subtraction.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from capacity.reporting import reports
from capacity.reporting.suppression import SUPPRESSED, is_suppressed, protect
from tests.conftest import ERASMUS
from tests.reporting.data import IKAZIA, make, store

FACILITIES = [
    ERASMUS,
    IKAZIA,
    "maasstad-ziekenhuis-rotterdam",
    "franciscus-gasthuis-rotterdam",
    "albert-schweitzer-ziekenhuis-dordrecht",
    "admiraal-de-ruyter-ziekenhuis-goes",
]
REASONS = ["no_bed", "no_nurse", "no_obstetrician", "neonatal_full", "stop", "other"]
REQUESTS = ["non_medical", "medical", "acute", "antenatal_transfer", "neonatal_transfer", None]
CATEGORIES = ["delivery_room", "maternity_bed", "obstetric_high_care", "nicu"]
OUTCOMES = ["placed", "home_birth", "birth_en_route", "unknown"]
SHOWN = ["green", "orange", "red", "red", "stop"]
MONTHS = 40


def random_month(rng: random.Random, month: str) -> list[Any]:
    """A month of one region: a few busy facilities and reasons, many small cells."""
    year, number = map(int, month.split("-"))
    facilities = rng.sample(FACILITIES, rng.randint(1, len(FACILITIES)))
    weights = [rng.choice([1, 1, 2, 5, 20]) for _ in facilities]
    records = []
    for _ in range(rng.randint(0, 60)):
        accepted = rng.random() < 0.2
        when = datetime(year, number, rng.randint(2, 27), rng.randint(0, 23), 5, tzinfo=UTC)
        outcome: dict[str, Any] = {}
        if not accepted and rng.random() < 0.4:
            outcome = {
                "outcome": rng.choices(OUTCOMES, [10, 2, 1, 3])[0],
                "outcome_at": when + timedelta(hours=1),
            }
        records.append(
            make(
                rng.choices(facilities, weights)[0],
                when.replace(tzinfo=None).isoformat(),
                decision="accepted" if accepted else "refused",
                reason=None if accepted else rng.choices(REASONS, [20, 8, 3, 1, 1, 2])[0],
                shown=rng.choice(SHOWN),
                request_type=rng.choice(REQUESTS),  # type: ignore[arg-type]
                category=rng.choice(CATEGORIES),
                **outcome,
            )
        )
    return records


def lines(content: dict[str, Any]) -> list[tuple[str, Any, list[Any]]]:
    """Every (name, total, parts) of the report that a reader can subtract in."""
    out = []
    s = content["summary"]
    for g, rows in content["groups"].items():
        for measure, total in (("count", "total"), ("shown_available", "shown_available")):
            out.append((f"{g}.{measure}", s[total], [r[measure] for r in rows]))
        if g != "reason":
            out.append((f"{g}.accepted", s["accepted"], [r["accepted"] for r in rows]))
    by_facility = {r["key"]: r["count"] for r in content["groups"]["facility"]}
    by_reason = {r["key"]: r["count"] for r in content["groups"]["reason"]}
    cross = content["facility_reason"]
    for row in cross["rows"]:
        out.append((f"row {row['key']}", by_facility[row["key"]], list(row["cells"].values())))
    for reason in cross["reasons"]:
        cells = [row["cells"][reason] for row in cross["rows"]]
        out.append((f"column {reason}", by_reason.get(reason, 0), cells))
    o = content["outcomes"]
    out.append(("outcomes", o["recorded"], [o[k] for k in OUTCOMES]))
    return out


def recomputable(content: dict[str, Any]) -> list[str]:
    """The lines where one hidden member is the total minus (or plus) the shown ones."""
    return [
        name
        for name, total, parts in lines(content)
        if sum(is_suppressed(v) for v in [total, *parts]) == 1
    ]


def test_complement_hides_the_next_smallest_cell() -> None:
    values = {"total": 20, "a": 3, "b": 7, "c": 10}
    assert protect(values, [("total", ["a", "b", "c"])]) == {"a", "b"}
    # a second line sharing a cell: hiding b there opens the first line again
    values = {"t1": 13, "a": 3, "b": 10, "t2": 40, "d": 8, "e": 22}
    assert protect(values, [("t1", ["a", "b"]), ("t2", ["b", "d", "e"])]) == {"a", "b", "d"}
    assert protect({"t": 0, "a": 0}, [("t", ["a"])]) == set()


async def test_no_suppressed_cell_can_be_recomputed_in_many_random_months(app) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(20261205)
    months = [f"{2018 + i // 12}-{i % 12 + 1:02d}" for i in range(MONTHS)]
    data = {m: random_month(rng, m) for m in months}
    await store(app, [r for records in data.values() for r in records])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    hidden_total = 0
    for month in months:
        async with app.state.db.session() as session:
            content = await reports.build(
                session=session,
                settings=app.state.settings,
                region="zuidwest",
                month=month,
                now=now,
            )
        assert recomputable(content) == [], month
        refused = [r for r in data[month] if r.decision == "refused"]
        truth = Counter(r.facility_id for r in refused)
        cross = Counter((r.facility_id, r.reason) for r in refused)
        for row in content["groups"]["facility"]:
            n = truth[row["key"]]
            # small counts hidden; every count shown is the true one
            assert is_suppressed(row["count"]) if 0 < n < 5 else row["count"] in (n, SUPPRESSED)
            hidden_total += is_suppressed(row["count"])
            if is_suppressed(row["count"]) or is_suppressed(row["accepted"]):
                assert row["refusal_rate"] is None or is_suppressed(row["refusal_rate"])
        for row in content["facility_reason"]["rows"]:
            for reason, v in row["cells"].items():
                n = cross[(row["key"], reason)]
                assert is_suppressed(v) if 0 < n < 5 else v in (n, SUPPRESSED)
    assert hidden_total > MONTHS  # the data had small cells to hide


async def test_a_single_small_facility_is_not_the_total_minus_the_others(client, login, app):
    """Erasmus MC 8, Ikazia 2: showing 8 and the total 10 would give Ikazia's 2 back."""
    base = datetime(2026, 10, 5, 10, tzinfo=UTC)
    await store(
        app,
        [
            make(ERASMUS, (base + timedelta(days=i)).replace(tzinfo=None).isoformat())
            for i in range(8)
        ]
        + [
            make(IKAZIA, (base + timedelta(days=i)).replace(tzinfo=None).isoformat())
            for i in range(2)
        ],
    )
    admin = await login("admin")
    created = await client.post(
        "/api/v1/reports", params={"region": "zuidwest", "month": "2026-10"}, headers=admin
    )
    report = (await client.get(f"/api/v1/reports/{created.json()['id']}", headers=admin)).json()
    assert report["summary"]["total"] == 10
    counts = {g["key"]: g["count"] for g in report["groups"]["facility"] if g["count"] != 0}
    assert counts == {ERASMUS: SUPPRESSED, IKAZIA: SUPPRESSED}
    # a rate without accepted transfers does not apply: null, not suppressed
    assert report["summary"]["refusal_rate"] is None
    assert recomputable(report) == []
