"""Every visible string goes through t(key); the English and Chinese catalogues hold the same
keys, with the same placeholders, and every key the code names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.harness.webjs import (
    CATALOGUES,
    STATIC,
    Literal,
    catalogue,
    js_files,
    literals,
    rel,
    visible_text,
)

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.$")
CAT = catalogue()
LANGS = {lang: catalogue(lang) for lang in CATALOGUES}
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
            elif len(lit.parts) == 1 and PREFIX.match(first):
                prefixes[first] = where  # label("incidents.status.", value)
    for html_page in sorted(STATIC.glob("*.html")):
        page = html_page.read_text(encoding="utf-8")
        for m in re.finditer(r'data-i18n(?:-title|-label)?="([^"]+)"', page):
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


@pytest.mark.parametrize("lang", sorted(LANGS))
def test_placeholders_are_well_formed(lang: str):
    for key, s in LANGS[lang].items():
        assert s.count("{") == s.count("}"), (lang, key)
        assert all(re.fullmatch(r"\w+", p) for p in re.findall(r"\{([^}]*)\}", s)), (lang, key)


@pytest.mark.parametrize("lang", sorted(set(LANGS) - {"en"}))
def test_every_language_has_exactly_the_english_keys(lang: str):
    missing = sorted(set(CAT) - set(LANGS[lang]))
    extra = sorted(set(LANGS[lang]) - set(CAT))
    assert not missing and not extra, f"{lang}: missing {missing}, not in English {extra}"


@pytest.mark.parametrize("lang", sorted(set(LANGS) - {"en"}))
def test_placeholders_match_english(lang: str):
    def names(s: str) -> list[str]:
        return sorted(re.findall(r"\{(\w+)\}", s))

    wrong = [k for k, s in LANGS[lang].items() if k in CAT and names(s) != names(CAT[k])]
    assert not wrong, f"{lang}: placeholders differ from English in {wrong}"


def test_chinese_strings_are_translated():
    """A Chinese string that equals the English one (other than names, codes and symbols) was
    forgotten; the brand and the few strings with no words in them may stay as they are."""
    same = [
        k
        for k, s in LANGS["zh-CN"].items()
        if s == CAT[k]
        and re.search(r"[A-Za-z]{2,}", re.sub(r"\{\w+\}|CityWatch|SHA-256|JSON", "", s))
    ]
    assert not same, f"untranslated: {same}"


def _glossary() -> list[tuple[str, list[str]]]:
    """The glossary's rows: the Chinese term and the catalogue keys it names."""
    rows = []
    text = (STATIC.parents[2] / "docs" / "glossary.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.search(r"[\u4e00-\u9fff]", cells[0]):
            rows.append((cells[0], re.findall(r"`([a-z][\w.]*\*?)`", cells[2])))
    return rows


GLOSSARY = _glossary()


def test_the_glossary_lists_the_domain_terms():
    terms = " ".join(term for term, _ in GLOSSARY)
    for word in ("接警", "派警", "处警", "出警", "警情", "居住证", "境外人员住宿登记", "流动人口"):
        assert word in terms, word
    for word in ("反诈预警", "布控", "巡逻区", "派出所", "指挥中心", "误报"):
        assert word in terms, word


@pytest.mark.parametrize("term,keys", GLOSSARY, ids=[t for t, _ in GLOSSARY])
def test_the_glossary_term_is_the_catalogues_word(term: str, keys: list[str]):
    """Each key the glossary names exists, and the Chinese strings use the term."""
    zh = LANGS["zh-CN"]
    strings = []
    for key in keys:
        found = [k for k in zh if k == key or (key.endswith("*") and k.startswith(key[:-1]))]
        assert found, f"glossary names {key}, not in the catalogue"
        strings += [zh[k] for k in found]
    words = [w.strip() for w in re.sub(r"（.*?）|\(.*?\)", "", term).split("/")]
    assert not keys or any(w and w in s for w in words for s in strings), (term, strings)
