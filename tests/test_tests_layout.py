"""The test tree's own rules (docs/architecture.md): helpers live in ``tests/harness/``,
nothing imports a ``conftest.py`` or another test module, and ``tests/coordinator/``
mirrors the coordinator's packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
#: Imports of a conftest still waiting for their helpers to move, with the reason (none left).
PENDING_CONFTEST_IMPORTS: set[tuple[str, str]] = set()
#: Folders whose non-test modules are not harness helpers, with the reason.
OWN_TOOLING = {
    # The golden checks keep their adapter, comparer, scenario session and the script that
    # remakes the release database beside the recorded data they guard (see its README).
    "tests/golden",
}


def python_files() -> list[Path]:
    """Every Python file of the test tree."""
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def rel(path: Path) -> str:
    """Path relative to the repository, with forward slashes."""
    return path.relative_to(ROOT).as_posix()


def imported_modules(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a test-tree file, relative ones resolved."""
    package = package or ".".join(path.relative_to(ROOT).parent.parts)
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            # ``from tests.x import conftest`` / ``from . import test_y``
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


def forbidden(module: str) -> bool:
    """A conftest or a test module: fixtures are found by pytest, helpers live in harness."""
    leaf = module.rpartition(".")[2]
    return leaf == "conftest" or (module.startswith("tests.") and leaf.startswith("test_"))


def test_the_rule_reads_relative_and_absolute_forms(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from .conftest import place\n"
        "def f():\n    from ..identity import test_auth\n"
        "from tests.harness.api import bearer\n"
    )
    found = {m for _, m in imported_modules(probe, "tests.coordinator.dispatch")}
    assert "tests.coordinator.dispatch.conftest" in found
    assert "tests.coordinator.identity.test_auth" in found
    assert [m for m in sorted(found) if forbidden(m)] == [
        "tests.coordinator.dispatch.conftest",
        "tests.coordinator.identity.test_auth",
    ]


@pytest.mark.parametrize("path", python_files(), ids=rel)
def test_no_imports_of_conftest_or_test_modules(path):
    wrong = [
        f"{rel(path)}:{line}: {mod}"
        for line, mod in imported_modules(path)
        if forbidden(mod) and (rel(path), mod) not in PENDING_CONFTEST_IMPORTS
    ]
    assert not wrong, "move the helper into tests/harness/: " + ", ".join(wrong)


def test_helpers_live_in_the_harness():
    wrong = [
        rel(p)
        for p in python_files()
        if p.name not in ("conftest.py", "__init__.py")
        and not p.name.startswith("test_")
        and not rel(p).startswith("tests/harness/")
        and not any(rel(p).startswith(d + "/") for d in OWN_TOOLING)
    ]
    assert not wrong, wrong


def test_coordinator_tests_mirror_the_packages():
    folders = [
        p.name for p in (TESTS / "coordinator").iterdir() if p.is_dir() and p.name != "__pycache__"
    ]
    wrong = [f for f in folders if not (ROOT / "coordinator" / f / "__init__.py").exists()]
    assert folders and not wrong, f"tests/coordinator/{wrong} has no coordinator package"
