"""The generated API client is current, type-checks, and is the only way to the API."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.webjs import (
    CLIENT,
    JS,
    ROOT,
    imported_names,
    js_files,
    literals,
    load_generator,
    rel,
    run_tsc,
)


def test_generated_client_is_current():
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_api_client.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", js_files(client=False), ids=rel)
def test_no_raw_api_path_outside_the_client(path: Path):
    for lit in literals(path):
        text = "".join(lit.parts)
        assert "/api/" not in text and text != "/api", f"{rel(path)}:{lit.line}: raw path {text!r}"
    src = path.read_text(encoding="utf-8")
    if path.name != "http.js":
        assert not re.search(r"\bfetch\(", src), f"{rel(path)} fetches on its own"
        assert not {"request", "url"} & imported_names(path, "http.js"), rel(path)


def test_every_path_parameter_is_encoded():
    src = CLIENT.read_text(encoding="utf-8")
    interpolated = re.findall(r"\$\{([^}]*)\}", src)
    assert interpolated and all(x.startswith("encodeURIComponent(") for x in interpolated)


@pytest.mark.parametrize("entry", ["app.js", "unit/app.js"])
def test_the_pages_type_check_against_the_client(tsc: Path, entry: str):
    """tsc --checkJs over each page's entry module and everything it imports (the
    dashboard's shell with every screen; the patrol unit's phone page; the client)."""
    res = run_tsc(tsc, JS / entry)
    assert res.returncode == 0, res.stdout + res.stderr


# Calls the broken screens made, each of which the checker must refuse.
BROKEN = {
    "missing purpose": ("await c.fraudReviewQueue();", "Expected 1 arguments, but got 0"),
    "decision instead of action": (
        'await c.fraudDecideLink(1, { decision: "confirm" });',
        "'decision' does not exist in type 'LinkDecisionIn'",
    ),
    "unknown answer field": (
        "(await c.authLogin({ username: 'a', password: 'b' })).token;",
        "Property 'token' does not exist on type 'TokenOut'",
    ),
    "path id as text": (
        'await c.fraudDecideLink("7", { action: "confirm" });',
        "'string' is not assignable to parameter of type 'number'",
    ),
    "wrong query field": ("await c.fleetAlerts({ limit: 50 });", "'limit' does not exist"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_checker_refuses_a_call_that_drifts_from_the_api(tsc: Path, tmp_path: Path, case: str):
    probe = tmp_path / "probe.js"
    probe.write_text(
        f'// @ts-check\nimport * as c from "{CLIENT.as_posix()}";\n'
        f"export async function probe() {{\n  {BROKEN[case][0]}\n}}\n",
        encoding="utf-8",
    )
    res = run_tsc(tsc, probe)
    errors = [line for line in res.stdout.splitlines() if "probe.js" in line and "error TS" in line]
    assert len(errors) == 1 and BROKEN[case][1] in errors[0], res.stdout


def test_coordinator_openapi_prints_the_document_the_client_is_made_from(tmp_path: Path):
    out = tmp_path / "openapi.json"
    res = subprocess.run(
        [sys.executable, "-m", "coordinator.cli", "openapi", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.") and "/api/fraud/links/review" in doc["paths"]
    assert doc == load_generator().load_openapi()
