"""Names: Latin spellings, the text indexed for search, FTS5 query escaping, fuzzy match.

Pure functions. Search uses SQLite FTS5's ``trigram`` tokenizer, which finds any
substring of three or more characters without word segmentation, so it works for
Chinese names as well as Latin ones. Many Chinese names have only two characters
(王芳), so every indexed form is wrapped in markers (``^王芳$``): a two-character query
then becomes the three-character phrases ``"^王芳"`` (name starts with it) and
``"王芳$"`` (name ends with it). Chinese names are also indexed by their pinyin, in
Chinese and in Western order, so "Wang Fang", "wangfang" and "Fang Wang" all find 王芳.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

START, END = "^", "$"
MIN_QUERY = 2
MAX_QUERY = 100

# Two-character surnames: pinyin is split after them, not after the first character.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "令狐",
        "慕容",
        "公孙",
        "尉迟",
        "夏侯",
        "长孙",
        "宇文",
        "司徒",
        "端木",
        "轩辕",
    ]
)


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph (incl. extension A and compatibility forms)."""
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def has_cjk(s: str) -> bool:
    """True when ``s`` contains a CJK character."""
    return any(is_cjk(c) for c in s)


@functools.lru_cache(maxsize=20000)
def _char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin  # imported lazily: loading its dictionary takes ~1 s

    return lazy_pinyin(ch)[0]


def fold_latin(s: str) -> str:
    """Lower-case ASCII letters and spaces only: 'Müller-Lüdenscheidt' → 'muller ludenscheidt'."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z]+", " ", s).split())


def pinyin_parts(name: str) -> tuple[str, str]:
    """(surname, given name) in pinyin for a Chinese name; ('', '') when not Chinese."""
    chars = [c for c in name if is_cjk(c)]
    if not chars:
        return "", ""
    cut = 2 if "".join(chars[:2]) in COMPOUND_SURNAMES and len(chars) > 2 else 1
    sur = "".join(_char_pinyin(c) for c in chars[:cut])
    given = "".join(_char_pinyin(c) for c in chars[cut:])
    return sur, given


def latin_name(name: str, given_latin: str | None = None) -> str:
    """The Latin spelling used for display and matching: given one, pinyin, or folded."""
    if given_latin and fold_latin(given_latin):
        return fold_latin(given_latin)
    if has_cjk(name):
        sur, given = pinyin_parts(name)
        return f"{sur} {given}".strip()
    return fold_latin(name)


def match_key(name: str, given_latin: str | None = None) -> str:
    """An order-free key for blocking duplicates: sorted Latin words, joined."""
    return "".join(sorted(latin_name(name, given_latin).split()))


def index_text(name: str, given_latin: str | None = None) -> str:
    """Everything indexed for one name: the name and its Latin forms, in both orders."""
    forms = [" ".join(name.lower().split())]
    words = latin_name(name, given_latin).split()
    if words:
        forms.append("".join(words))
        if len(words) > 1:
            forms.append("".join(words[1:] + words[:1]))
    seen: list[str] = []
    for f in forms:
        if f and f not in seen:
            seen.append(f)
    return " ".join(f"{START}{f}{END}" for f in seen)


class QueryError(ValueError):
    """A search query that cannot be run (too short, too long, nothing searchable)."""


def fts_query(raw: str) -> str:
    """Turn what an officer typed into a safe FTS5 MATCH expression.

    Every part is emitted as a double-quoted phrase with quotes doubled, so FTS5
    operators (OR, NEAR, *, column filters, parentheses) typed by a user are searched
    for as text, never executed; the index's own markers are stripped from the input.
    """
    if len(raw) > MAX_QUERY:
        raise QueryError(f"query is {len(raw)} characters long; the limit is {MAX_QUERY}")
    s = "".join(c for c in raw if unicodedata.category(c)[0] != "C")
    s = s.replace(START, " ").replace(END, " ")
    s = "".join(s.lower().split()) if has_cjk(s) else "".join(fold_latin(s).split())
    if len(s) < MIN_QUERY:
        raise QueryError(f"search needs at least {MIN_QUERY} letters or characters")

    def phrase(p: str) -> str:
        return '"' + p.replace('"', '""') + '"'

    if len(s) == 2:
        return f"{phrase(START + s)} OR {phrase(s + END)}"
    return phrase(s)


MIN_ADDRESS_QUERY = 3


def address_text(address: str) -> str:
    """The form of an address that is indexed and searched: NFKC-folded, lower case, only
    letters, digits and CJK characters. Officers type '宾王路 88号', '宾王路88号' or
    '88 Binwang Rd.' as it comes; spacing and punctuation must not decide a match."""
    s = unicodedata.normalize("NFKC", address).lower()
    return "".join(c for c in s if c.isalnum())


def address_query(raw: str) -> str:
    """A safe FTS5 MATCH expression for an address fragment (one quoted phrase)."""
    if len(raw) > MAX_QUERY:
        raise QueryError(f"query is {len(raw)} characters long; the limit is {MAX_QUERY}")
    s = address_text(raw)
    if len(s) < MIN_ADDRESS_QUERY:
        raise QueryError(
            f"address search needs at least {MIN_ADDRESS_QUERY} letters, digits or characters"
        )
    return '"' + s + '"'  # only letters and digits remain: nothing to escape


#: Weights of the duplicate score: name similarity, birth date, origin.
NAME_W, DOB_W, ORIGIN_W = 0.6, 0.3, 0.1


@dataclass(frozen=True)
class NameRecord:
    """What fuzzy duplicate matching compares about a person."""

    name: str
    latin: str
    dob: str
    origin: str


def _dob_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if len(a) != len(b):
        return 0.0
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) == 1:
        return 0.7  # one mistyped digit
    if len(diffs) == 2 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]:
        return 0.7  # two digits swapped, e.g. day and month
    try:
        gap = abs((dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days)
    except ValueError:
        return 0.0
    return 0.5 if gap <= 2 else 0.0


#: When both names are written in Chinese characters, their pinyin counts only when it is
#: (nearly) the same: 王芳/王方 (a homophone slip) match, while 王芳/王强 ("wang fang"/"wang
#: qiang", 0.8 as Latin text) are two people who share a surname, not one person.
CJK_PINYIN_MIN = 0.9


def name_similarity(a: NameRecord, b: NameRecord) -> float:
    """0..1: the best of the CJK spelling and the Latin spelling (word order ignored)."""
    latin = 0.0
    if a.latin and b.latin:
        latin = max(
            fuzz.token_sort_ratio(a.latin, b.latin) / 100,
            fuzz.ratio(a.latin.replace(" ", ""), b.latin.replace(" ", "")) / 100,
        )
    if has_cjk(a.name) and has_cjk(b.name):
        cjk = fuzz.ratio(a.name, b.name) / 100
        return max(cjk, latin if latin >= CJK_PINYIN_MIN else 0.0)
    return latin


def duplicate_score(a: NameRecord, b: NameRecord) -> tuple[float, list[str]]:
    """Weighted likelihood that two records are one person, and the reasons."""
    n = name_similarity(a, b)
    d = _dob_similarity(a.dob, b.dob)
    o = 1.0 if a.origin and a.origin == b.origin else 0.0
    reasons = []
    if n >= 0.85:
        reasons.append(f"name {n:.2f}")
    if d == 1.0:
        reasons.append("same date of birth")
    elif d > 0:
        reasons.append("near date of birth")
    if o:
        reasons.append("same origin")
    return round(NAME_W * n + DOB_W * d + ORIGIN_W * o, 3), reasons
