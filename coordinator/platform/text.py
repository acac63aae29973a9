"""Free text typed by staff into a form: one line, whitespace folded, bounded."""

from __future__ import annotations

from typing import Any

from ..errors import Invalid


def one_line(field: str, value: Any, max_len: int, *, required: bool = True) -> str | None:
    """``value`` with its whitespace folded to single spaces; ``None`` when empty and not
    required; :class:`Invalid` naming ``field`` when required and empty, or too long."""
    s = " ".join(str(value or "").split())
    if not s:
        if required:
            raise Invalid(f"{field}: is required")
        return None
    if len(s) > max_len:
        raise Invalid(f"{field}: at most {max_len} characters")
    return s
