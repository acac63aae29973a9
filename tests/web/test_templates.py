"""Every screen renders through the one template helper and registers itself; no globals."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.harness.webjs import JS, STATIC, js_files, literals, rel

SCREENS = sorted((JS / "screens").glob("*.js"))
HTML_JS = JS / "html.js"


@pytest.mark.parametrize("path", js_files(), ids=rel)
def test_no_window_globals(path: Path):
    src = path.read_text(encoding="utf-8")
    assert not re.search(r"\bwindow\s*\.", src), f"{rel(path)} reaches for window.*"
    assert not re.search(r"\bglobalThis\b", src), f"{rel(path)} reaches for globalThis"


@pytest.mark.parametrize("path", js_files(), ids=rel)
def test_markup_only_through_the_template_helper(path: Path):
    """No innerHTML/outerHTML/insertAdjacentHTML with a string, no hand-written escaping."""
    if path == HTML_JS:
        return
    src = path.read_text(encoding="utf-8")
    for pattern in (r"\.innerHTML\b", r"\.outerHTML\s*=", r"insertAdjacentHTML", r"\besc\("):
        assert not re.search(pattern, src), f"{rel(path)}: {pattern} outside html.js"
    assert "&amp;" not in src and "&lt;" not in src, f"{rel(path)} escapes by hand"


@pytest.mark.parametrize("path", js_files(client=False), ids=rel)
def test_markup_is_written_only_in_html_templates(path: Path):
    """A string or an untagged template holding a tag would bypass escaping."""
    for lit in literals(path):
        if lit.tag == "html" or path == HTML_JS:
            continue
        text = "".join(lit.parts)
        assert not re.search(r"<[a-zA-Z/][^>]*>", text), (
            f"{rel(path)}:{lit.line}: markup in {text!r}"
        )


@pytest.mark.parametrize("path", SCREENS, ids=rel)
def test_every_screen_is_imported_by_the_registry_index(path: Path):
    index = (JS / "screens" / "index.js").read_text(encoding="utf-8")
    if path.name == "index.js":
        return
    assert f'import "./{path.name}";' in index
    assert "registerScreen({" in path.read_text(encoding="utf-8"), f"{path.name} never registers"


def test_the_shell_builds_navigation_from_the_registry_only():
    app = (JS / "app.js").read_text(encoding="utf-8")
    assert "allScreens()" in app and 'import "./screens/index.js";' in app
    assert not re.search(r'from\s+"\./screens/(?!index)', app), "the shell imports a screen itself"


def test_html_helper_escapes_every_interpolation_and_keeps_nested_templates(tmp_path: Path):
    script = tmp_path / "t.mjs"
    script.write_text(
        f'import {{ html, raw }} from "{(JS / "html.js").as_uri()}";\n'
        'const evil = `<img src=x onerror="alert(1)">&\'` + "`";\n'
        "const inner = html`<i>${evil}</i>`;\n"
        "console.log(JSON.stringify([\n"
        '  html`<b title="${evil}">${evil}</b>`.text,\n'
        "  html`<ul>${[1, 2].map((n) => html`<li>${n}</li>`)}</ul>`.text,\n"
        '  html`${inner}${raw("<hr>")}${null}${undefined}${false}${0}`.text,\n'
        "]));\n",
        encoding="utf-8",
    )
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True)
    attr, lst, mixed = json.loads(out.stdout)
    esc = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;&#96;"
    assert attr == f'<b title="{esc}">{esc}</b>'
    assert lst == "<ul><li>1</li><li>2</li></ul>"
    assert mixed == f"<i>{esc}</i><hr>0"


def test_index_html_has_no_inline_script_and_loads_the_shell_as_a_module():
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert '<script type="module" src="js/app.js"></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


@pytest.mark.parametrize("path", js_files(client=False), ids=rel)
def test_template_lines_stay_short_enough_to_read(path: Path):
    """Long templates are split into small render functions (rows, cells, sections)."""
    long = [
        n
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if len(line) > 140
    ]
    assert not long, f"{rel(path)}: lines {long} are longer than 140 characters"
