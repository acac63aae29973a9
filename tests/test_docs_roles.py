"""The guides' role tables say what the permission matrix grants: every role row of
docs/operators.md, docs/operators-dashboard.md and docs/dispatch.md lists exactly the
role's permissions, and the operators' guide lists every role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coordinator.bootstrap import role_matrix

DOCS = Path(__file__).resolve().parent.parent / "docs"
MATRIX = {r.value: set(p) for r, p in role_matrix().items()}
ROW = re.compile(r"^\|\s*`(?P<role>[a-z_]+)`\s*\|(?P<rest>.*)\|\s*$")


def role_table(text: str) -> dict[str, set[str]]:
    """Role → permissions of the table whose header is ``| role | who | permissions |``."""
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"^\|\s*role\s*\|.*permissions\s*\|", line)),
        None,
    )
    if start is None:
        return {}
    out: dict[str, set[str]] = {}
    for line in lines[start + 2 :]:
        m = ROW.match(line)
        if not m:
            break
        cells = [c.strip() for c in m.group("rest").split("|")]
        out[m.group("role")] = set(re.findall(r"`([a-z_]+:[a-z_]+)`", cells[-1]))
    return out


def test_the_parser_reads_a_table() -> None:
    text = "x\n| role | who | permissions |\n|---|---|---|\n| `a` | one | `x:read`, `y:act` |\n\nz"
    assert role_table(text) == {"a": {"x:read", "y:act"}}


@pytest.mark.parametrize("doc", ["operators.md", "operators-dashboard.md", "dispatch.md"])
def test_the_guides_role_table_is_the_matrix(doc: str) -> None:
    table = role_table((DOCS / doc).read_text(encoding="utf-8"))
    assert {"operator", "call_taker", "dispatcher"} <= set(table), f"{doc}: no role table"
    for role, perms in table.items():
        assert role in MATRIX, f"{doc} lists {role!r}, which is no role"
        assert perms == MATRIX[role], (
            f"{doc}: {role} says {sorted(perms)}; the matrix grants {sorted(MATRIX[role])}"
        )


def test_the_operators_guide_lists_every_role() -> None:
    table = role_table((DOCS / "operators.md").read_text(encoding="utf-8"))
    assert set(table) == set(MATRIX), sorted(set(MATRIX) ^ set(table))


def test_call_taking_is_apart_from_dispatching() -> None:
    assert "dispatch:act" not in MATRIX["call_taker"] | MATRIX["operator"]
    assert {"incidents:act", "incidents:read"} <= MATRIX["call_taker"]
    assert "dispatch:act" in MATRIX["dispatcher"]
