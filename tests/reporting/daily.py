"""An independent count of refusal_daily, computed in Python from the records themselves."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Engine, create_engine, text

from tests.conftest import _sync_url

DIMS = ("all", "facility", "reason", "request_type", "category", "hour")


def engine(url: str) -> Engine:
    return create_engine(_sync_url(url))


def nonzero(counts: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """Drop zero cells (a bucket emptied by a correction), keep negative ones (a bug)."""
    return Counter({k: v for k, v in counts.items() if v != 0})


def expected(records: list[Any]) -> Counter[tuple[Any, ...]]:
    """(region, dim, day, bucket, decision, measure) -> count, from the refusal rows."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for r in records:
        buckets = {
            "all": "",
            "facility": r.facility_id,
            "reason": r.reason or "",
            "request_type": r.request_type or "",
            "category": r.category,
            "hour": str(r.occurred_hour),
        }
        for dim in DIMS:
            key = (r.region, dim, str(r.occurred_on), buckets[dim], r.decision)
            counts[(*key, "n")] += 1
            counts[(*key, "n_shown")] += r.shown_status in ("green", "orange")
            counts[(*key, "n_no_episode")] += r.episode is None
    return nonzero(counts)


def stored(url: str) -> Counter[tuple[Any, ...]]:
    """The same, as refusal_daily holds it."""
    counts: Counter[tuple[Any, ...]] = Counter()
    eng = engine(url)
    with eng.connect() as conn:
        for row in conn.execute(text("SELECT * FROM refusal_daily")).mappings():
            key = (row["region"], row["dim"], str(row["occurred_on"]), row["bucket"])
            for measure in ("n", "n_shown", "n_no_episode"):
                counts[(*key, row["decision"], measure)] += row[measure]
    eng.dispose()
    return nonzero(counts)


def records(url: str) -> list[Any]:
    eng = engine(url)
    with eng.connect() as conn:
        rows = list(conn.execute(text("SELECT * FROM refusal")).all())
    eng.dispose()
    return rows


def agrees(url: str) -> bool:
    """refusal_daily holds exactly what the records say (and the records are not empty)."""
    rows = records(url)
    return bool(rows) and stored(url) == expected(rows)
