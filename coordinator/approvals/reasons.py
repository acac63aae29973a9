"""Is a stated reason a reason? A pure check, for every request that needs one.

A reason is read by the approver and by the auditor later, so it must say something: a
minimum length (a Chinese character counts twice, as it carries a word's meaning), enough
different characters (ten repeated characters or a keyboard run is not a reason), and for
Latin-script text at least three words.
"""

from __future__ import annotations

import unicodedata

MIN_UNITS = 16
MAX_CHARS = 500
MIN_DISTINCT = 7
MAX_SHARE_OF_ONE_CHAR = 0.4
MIN_LATIN_WORDS = 3


def normalise(text: str | None) -> str:
    """Collapse whitespace (what is stored and shown)."""
    return " ".join((text or "").split())


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F") and ch.isalpha()


def reason_problem(text: str | None) -> str | None:
    """Why ``text`` is not an acceptable reason, or None when it is."""
    t = normalise(text)
    if len(t) > MAX_CHARS:
        return f"a reason is at most {MAX_CHARS} characters"
    chars = [c for c in t if not c.isspace()]
    units = sum(2 if _is_wide(c) else 1 for c in chars)
    if units < MIN_UNITS:
        return (
            f"state the reason in at least {MIN_UNITS} characters (8 Chinese characters): "
            "what case or call, and why this record"
        )
    if not any(c.isalpha() for c in chars):
        return "a reason needs words, not only digits or signs"
    folded = [c.casefold() for c in chars]
    if len(set(folded)) < MIN_DISTINCT:
        return "this does not read as a reason (too few different characters)"
    top = max(folded.count(c) for c in set(folded))
    if top / len(folded) > MAX_SHARE_OF_ONE_CHAR:
        return "this does not read as a reason (one character repeated)"
    if not any(_is_wide(c) for c in chars):
        words = [w for w in t.split() if any(c.isalpha() for c in w)]
        if len(words) < MIN_LATIN_WORDS:
            return f"state the reason in at least {MIN_LATIN_WORDS} words"
        if len({w.casefold() for w in words}) < MIN_LATIN_WORDS:
            return "this does not read as a reason (the same word repeated)"
    return None
