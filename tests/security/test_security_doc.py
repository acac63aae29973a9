"""docs/security.md cannot drift from the adversarial suite: it lists every attack of the
registry, every registered test exists, and the register is what the generator makes of
the committed results."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.attack_registry import ATTACKS, BROKE_THROUGH, BY_ID

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"


def test_the_document_lists_every_attack_of_the_registry() -> None:
    text = DOC.read_text()
    register = text.split("<!-- attacks:begin -->", 1)[1]
    missing = [a.id for a in ATTACKS if f"| `{a.id}` |" not in register]
    assert not missing, f"docs/security.md lacks {missing}: run scripts/gen_security_doc.py"
    listed = set(re.findall(r"^\| `([a-z0-9.-]+)` \|", register, re.M))
    assert listed == set(BY_ID), sorted(listed ^ set(BY_ID))


def test_ids_are_unique_and_every_attack_has_a_test() -> None:
    assert len(BY_ID) == len(ATTACKS)
    assert all(a.tests and a.tried and a.expected for a in ATTACKS)


@pytest.mark.parametrize("nodeid", sorted({t for a in ATTACKS for t in a.tests}))
def test_every_registered_test_exists(nodeid: str) -> None:
    path, _, name = nodeid.partition("::")
    tree = ast.parse((ROOT / path).read_text())
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert name in names, f"{nodeid} does not exist"


def test_every_attack_that_once_broke_through_names_a_control() -> None:
    """Each of them has a control (the attack with its defence removed), and only the
    controls module holds controls."""
    assert set(BROKE_THROUGH) <= set(BY_ID), sorted(set(BROKE_THROUGH) - set(BY_ID))
    missing = [i for i in BROKE_THROUGH if not BY_ID[i].before]
    assert not missing, f"attacks without a control (before the fix): {missing}"
    elsewhere = [t for a in ATTACKS for t in a.before if "/test_before_fix.py::" not in t]
    assert not elsewhere, elsewhere


@pytest.mark.parametrize("nodeid", sorted({t for a in ATTACKS for t in a.before}))
def test_every_control_exists_and_records_its_attack(nodeid: str) -> None:
    path, _, name = nodeid.partition("::")
    tree = ast.parse((ROOT / path).read_text())
    funcs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert name in funcs, f"{nodeid} does not exist"
    source = ast.get_source_segment((ROOT / path).read_text(), funcs[name]) or ""
    ids = set(re.findall(r'before_fix\("([a-z0-9.-]+)"\)', source))
    assert ids and all(nodeid in BY_ID[i].before for i in ids), (nodeid, ids)


def test_every_attack_a_security_test_names_is_registered() -> None:
    used = set()
    for f in (ROOT / "tests" / "security").glob("test_*.py"):
        used |= set(re.findall(r'attack\("([a-z0-9.-]+)"\)', f.read_text()))
    assert used and used <= set(BY_ID), sorted(used - set(BY_ID))


def test_the_register_is_what_the_generator_makes_of_the_recorded_results() -> None:
    r = subprocess.run(
        [sys.executable, "scripts/gen_security_doc.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
