"""Shared benchmark plumbing: timing, percentiles, tables, results JSON, docs update.

Each benchmark prints a table, writes ``bench/results/<name>.json`` and replaces its
own section of docs/benchmarks.md between ``<!-- bench:<name> -->`` markers, so the
figures in the docs are always those of the last run (with machine and date).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    """One line describing where the numbers were taken."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d}"
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) with linear interpolation."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    """Median, nan for no values."""
    return statistics.median(values) if values else float("nan")


def rate(fn: Callable[[], Any], n: int, repeat: int = 3) -> float:
    """Best-of-``repeat`` calls per second of ``fn`` run ``n`` times."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def rate_over(fn: Callable[[Any], Any], items: Sequence[Any], n: int, repeat: int = 3) -> float:
    """Best-of-``repeat`` calls per second of ``fn(item)``, cycling through ``items``."""
    best = float("inf")
    m = len(items)
    for _ in range(repeat):
        t0 = time.perf_counter()
        for i in range(n):
            fn(items[i % m])
        best = min(best, time.perf_counter() - t0)
    return n / best


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-markdown table (also readable in a terminal)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if v != v:
                return "n/a"
            if abs(v) >= 1000:
                return f"{v:,.0f}"
            if abs(v) >= 10:
                return f"{v:.1f}"
            return f"{v:.3g}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    cells = [[fmt(c) for c in r] for r in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(lines)


def publish(name: str, title: str, markdown: str, data: dict[str, Any]) -> None:
    """Print the section, save JSON, and replace the section in docs/benchmarks.md."""
    section = f"### {title}\n\n_Measured: {machine()} (`make bench`)._\n\n{markdown.strip()}\n"
    print(section)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"name": name, "machine": machine(), **data}, indent=2, default=str) + "\n"
    )
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{section}{end}"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _m: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    DOC.write_text(text)
