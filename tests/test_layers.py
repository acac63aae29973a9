"""The coordinator's layers, read from the source with ``ast`` (docs/architecture.md).

Every import counts: module level, inside functions, and under ``TYPE_CHECKING`` — a
function-level import still ties two packages together. The checked graph has one node per
package of the coordinator (``coordinator.fleet``); a domain's routes and commands
(``api.py``, ``api_*.py``, ``*_api.py``, ``cli.py``) form a separate node (``coordinator.fleet:shell``) because they sit
above ``coordinator.http``, which in turn sits above the domains' services.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "coordinator"
#: First-party top-level packages the coordinator must never import.
FORBIDDEN_ROOTS = ("edge_agent", "provisioning", "devtools", "tests", "bench", "scripts")
#: What ``coordinator.platform`` may import from the coordinator besides itself.
PLATFORM_MAY_IMPORT = {"coordinator.settings", "coordinator.errors"}
#: Domain packages, lowest first: a domain's services import only domains before it.
DOMAIN_ORDER = [
    "identity",
    "approvals",
    "staff",
    "geo",
    "fleet",
    "camrules",
    "incidents",
    "ingest",
    "dispatch",
    "enrolment",
    "population",
    "fraud",
]
#: Domains that sit beside the chain above, on identity and the approvals service only.
BESIDE = {"population", "fraud"}
BESIDE_MAY_IMPORT = {"coordinator.identity", "coordinator.approvals"}


@dataclass(frozen=True)
class Import:
    """One import statement's target, with where it was written."""

    source: str  # importing module
    target: str  # imported module (a submodule when ``from pkg import mod``)
    where: str  # file:line


def module_name(path: Path) -> str:
    """Dotted module name of a file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the coordinator package by dotted name."""
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """Every import in a module, resolved to absolute module names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        where = f"{shown}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            out += [Import(name, a.name, where) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append(Import(name, sub if sub in known else base, where))
    return out


def all_imports() -> list[Import]:
    """Every import of every coordinator module."""
    mods = modules()
    known = set(mods)
    return [i for n, p in mods.items() for i in imports_of(n, p, known)]


def node_of(module: str) -> str:
    """The graph node of a coordinator module (package, or a domain's shell)."""
    parts = module.split(".")
    if len(parts) == 1:
        return module
    top = f"coordinator.{parts[1]}"
    if (PKG / parts[1]).is_dir() and len(parts) > 2:
        leaf = parts[-1]
        if leaf in ("cli", "api") or leaf.startswith("api_") or leaf.endswith("_api"):
            return f"{top}:shell"
    return top


def package_graph() -> dict[str, dict[str, list[str]]]:
    """node -> imported node -> where (only edges between different nodes)."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for imp in all_imports():
        if not imp.target.startswith("coordinator.") or imp.target == "coordinator":
            continue
        a, b = node_of(imp.source), node_of(imp.target)
        if a != b and a != "coordinator":
            graph[a][b].append(imp.where)
    return graph


def find_cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(graph) | {w for e in graph.values() for w in e}):
        if v not in index:
            visit(v)
    return out


def describe(graph: dict[str, dict[str, list[str]]], comp: list[str]) -> str:
    """The edges inside one cycle, with the lines that make them."""
    return "; ".join(
        f"{a} -> {b} ({', '.join(graph[a][b][:2])})"
        for a in comp
        for b in comp
        if b in graph.get(a, {})
    )


def test_the_checker_sees_function_level_imports_and_cycles(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..fleet import service\n")
    found = imports_of("coordinator.incidents.probe", probe, {"coordinator.fleet.service"})
    assert [i.target for i in found] == ["coordinator.fleet.service"]
    graph = {"a": {"b": ["x:1"]}, "b": {"c": ["x:2"]}, "c": {"a": ["x:3"]}, "d": {"a": ["x:4"]}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert node_of("coordinator.fleet.service") == "coordinator.fleet"
    assert node_of("coordinator.fleet.map_api") == "coordinator.fleet:shell"
    assert node_of("coordinator.population.api_records") == "coordinator.population:shell"
    assert node_of("coordinator.bootstrap") == "coordinator.bootstrap"


def test_no_import_cycles_between_coordinator_packages():
    graph = package_graph()
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(describe(graph, c) for c in cycles)


def test_no_import_cycles_between_coordinator_modules():
    mods = modules()
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for imp in all_imports():
        if imp.target in mods and imp.target != imp.source and imp.target != "coordinator":
            graph[imp.source][imp.target].append(imp.where)
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(describe(graph, c) for c in cycles)


def test_platform_imports_no_domain_and_not_http():
    wrong = [
        f"{i.where}: {i.target}"
        for i in all_imports()
        if i.source.startswith("coordinator.platform")
        and i.target.startswith("coordinator.")
        and not i.target.startswith("coordinator.platform")
        and i.target not in PLATFORM_MAY_IMPORT
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("root", FORBIDDEN_ROOTS)
def test_coordinator_never_imports(root):
    wrong = [
        f"{i.where}: {i.target}"
        for i in all_imports()
        if i.target == root or i.target.startswith(root + ".")
    ]
    assert not wrong, wrong


def test_domains_import_only_lower_domains_and_services_never_http():
    """A domain's services import platform, settings and the domains below it; only its
    routes and commands (the shell) reach ``http``, and no domain reaches the composition
    root, the app or the command line."""
    rank = {f"coordinator.{d}": i for i, d in enumerate(DOMAIN_ORDER)}
    top = ("coordinator.bootstrap", "coordinator.app", "coordinator.cli")
    wrong = []
    for a, edges in package_graph().items():
        domain, _, shell = a.partition(":")
        if domain not in rank:
            continue
        for b, where in edges.items():
            b_domain = b.partition(":")[0]
            if b in top or b.endswith(":shell"):
                ok = False
            elif b == "coordinator.http":
                ok = bool(shell)
            elif b_domain == domain:
                ok = True  # a shell over its own domain
            elif b_domain in rank:
                if domain.split(".")[1] in BESIDE:
                    ok = b_domain in BESIDE_MAY_IMPORT
                else:
                    ok = rank[b_domain] < rank[domain]
            else:
                ok = True  # platform, settings, services
            if not ok:
                wrong.append(f"{a} -> {b} ({where[0]})")
    assert not wrong, wrong
