"""Every visible string goes through t(key) and the English catalogue holds every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.harness.webjs import STATIC, Literal, catalogue, js_files, literals, rel, visible_text

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.$")
CAT = catalogue()
NAMESPACES = {k.split(".", 1)[0] for k in CAT}


def _keys_and_prefixes() -> tuple[dict[str, str], dict[str, str]]:
    """Catalogue keys the code names (key → where) and key prefixes of computed keys."""
    keys: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for path in js_files(client=False):
        for lit in literals(path):
            where = f"{rel(path)}:{lit.line}"
            first = lit.parts[0]
            if first.split(".", 1)[0] not in NAMESPACES:
                continue
            if len(lit.parts) == 1 and KEY.match(first):
                keys[first] = where
            elif lit.quote == "`" and len(lit.parts) > 1 and PREFIX.match(first):
                prefixes[first] = where
    for html_page in sorted(STATIC.glob("*.html")):
        page = html_page.read_text(encoding="utf-8")
        for m in re.finditer(r'data-i18n(?:-title)?="([^"]+)"', page):
            keys[m.group(1)] = html_page.name
    return keys, prefixes


KEYS, PREFIXES = _keys_and_prefixes()


def test_the_scan_finds_the_screens_strings():
    assert len(KEYS) > 100 and "nav.fraud" in KEYS and "fleet.state." in PREFIXES


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_key_used_is_in_the_catalogue(key: str):
    assert key in CAT, f"{KEYS[key]} uses {key!r}, missing from i18n/en.json"


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_every_computed_key_has_strings_in_the_catalogue(prefix: str):
    assert any(k.startswith(prefix) for k in CAT), f"{PREFIXES[prefix]}: no key {prefix}*"


def test_every_catalogue_string_is_used():
    unused = [k for k in CAT if k not in KEYS and not any(k.startswith(p) for p in PREFIXES)]
    assert not unused, f"strings nothing shows (remove them or use them): {unused}"


def _templates() -> list[tuple[Path, Literal]]:
    return [(p, lit) for p in js_files(client=False) for lit in literals(p) if lit.tag == "html"]


@pytest.mark.parametrize("path,template", _templates(), ids=lambda x: getattr(x, "line", ""))
def test_no_words_written_into_a_template(path: Path, template: Literal):
    words = re.findall(r"[A-Za-z\u4e00-\u9fff]+", visible_text(template))
    assert not words, f"{rel(path)}:{template.line}: {words} shown without t()"


def test_index_html_text_comes_from_the_catalogue():
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    body = re.sub(r"<(script|title)[^>]*>.*?</\1>", " ", page, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", body.split("<body>", 1)[1])
    assert not re.findall(r"[A-Za-z]+", text)


def test_placeholders_are_well_formed():
    for key, s in CAT.items():
        assert s.count("{") == s.count("}"), key
        assert all(re.fullmatch(r"\w+", p) for p in re.findall(r"\{([^}]*)\}", s)), key
