"""Small-cell suppression that subtraction cannot undo.

Primary suppression hides every count from 1 to 4. That alone is not enough: where a row or
column has a total and only one of its cells is hidden, the cell is the total minus the shown
ones. Complementary (secondary) suppression therefore hides, in every line (a total and its
parts) with exactly one hidden member, the next-smallest shown part as well, and repeats over
all lines until none has exactly one hidden member. Lines share members (the facility counts are
the parts of the region's total and the totals of the facility x reason rows), so a cell hidden
for one line may open another; the loop runs until stable.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

SMALL = 5
# a hidden cell in the report's JSON; null means "not applicable" (a rate without transfers)
SUPPRESSED: dict[str, bool] = {"suppressed": True}

Line = tuple[Hashable, Sequence[Hashable]]  # (the total, its parts)


def is_suppressed(value: object) -> bool:
    return isinstance(value, dict) and value.get("suppressed") is True


def protect(
    values: dict[Hashable, int], lines: Sequence[Line], small: int = SMALL
) -> set[Hashable]:
    """The cells to hide: counts under ``small`` (not 0), then complements until stable.

    In a line with one hidden member, the smallest shown non-zero part is hidden next (ties:
    the first in ``values``' order); failing that a shown zero part, failing that the total.
    """
    order = {k: i for i, k in enumerate(values)}
    hidden = {k for k, v in values.items() if 0 < v < small}
    changed = True
    while changed:
        changed = False
        for total, parts in lines:
            members = [total, *parts]
            if not parts or sum(m in hidden for m in members) != 1:
                continue
            shown = [p for p in parts if p not in hidden]
            candidates = [p for p in shown if values[p] > 0] or shown or [total]
            hidden.add(min(candidates, key=lambda k: (values[k], order[k])))
            changed = True
    return hidden
