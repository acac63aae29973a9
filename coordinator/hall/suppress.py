"""Small-count suppression of a two-way table (pure).

A cell under the threshold is hidden (primary suppression). Where row or column totals are
published, one hidden cell alone in its row or column could be worked out by subtraction,
so the smallest other cell of that row or column is hidden too (secondary suppression),
until no row or column has exactly one hidden cell. Totals follow the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping


def hidden_cells(counts: Mapping[tuple[str, str], int], min_cell: int) -> set[tuple[str, str]]:
    """The cells of a (row, column) → count table to publish as suppressed."""
    hidden = {k for k, v in counts.items() if v < min_cell}
    changed = True
    while changed:
        changed = False
        for axis in (0, 1):
            groups: dict[str, list[tuple[str, str]]] = {}
            for k in counts:
                groups.setdefault(k[axis], []).append(k)
            for keys in groups.values():
                if sum(k in hidden for k in keys) != 1:
                    continue
                rest = sorted((k for k in keys if k not in hidden), key=lambda k: (counts[k], k))
                if rest:
                    hidden.add(rest[0])
                    changed = True
    return hidden


def hidden_totals(totals: Mapping[str, int], min_cell: int) -> set[str]:
    """Totals to suppress when the grand total is published: those under the threshold,
    and the smallest other one when exactly one is hidden."""
    hidden = {k for k, v in totals.items() if v < min_cell}
    if len(hidden) == 1:
        rest = sorted((k for k in totals if k not in hidden), key=lambda k: (totals[k], k))
        if rest:
            hidden.add(rest[0])
    return hidden
