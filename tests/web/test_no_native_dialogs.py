"""No screen opens the browser's own dialogs: prompt(), alert() and confirm() block the page,
cannot be styled, validated or translated, and a wall display cannot answer them. Every
question is an in-page <dialog> (alarms.js, incident_dialogs.js, handover.js)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.harness.webjs import STATIC

#: A call of a native dialog: bare, or through window/globalThis/self (not obj.confirm()).
NATIVE = re.compile(
    r"(?<![\w$.])(?:(?:window|globalThis|self)\s*\.\s*)?(prompt|alert|confirm)\s*\("
)
BLOCK = re.compile(r"/\*.*?\*/", re.S)
LINE = re.compile(r"(^|\s)//.*$", re.M)


def _code(text: str) -> str:
    """The source without comments (which may name prompt() to say it is not used)."""
    return LINE.sub(r"\1", BLOCK.sub("", text))


def _sources() -> list[Path]:
    return sorted([*STATIC.rglob("*.js"), *STATIC.glob("*.html")])


def test_the_scan_covers_every_screen() -> None:
    names = {p.name for p in _sources()}
    assert {"incidents.js", "alarms.js", "incident_dialogs.js", "index.html"} <= names
    assert NATIVE.search("x = prompt('id?')") and NATIVE.search("window.confirm('sure?')")
    assert not NATIVE.search("incidentsConfirm(id)") and not NATIVE.search("dlg.confirm(x)")
    assert not NATIVE.search(_code("// never prompt() here\n/* nor alert() */"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(STATIC)))
def test_no_native_dialog(path: Path) -> None:
    code = _code(path.read_text(encoding="utf-8"))
    calls = [
        f"line {code.count(chr(10), 0, m.start()) + 1}: {m.group(0)}" for m in NATIVE.finditer(code)
    ]
    assert not calls, f"{path.name} opens a native dialog (use an in-page <dialog>): {calls}"
