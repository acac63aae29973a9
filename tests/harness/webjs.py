"""Reading the dashboard's JavaScript from tests: files, string literals, html`` templates,
the string catalogue, the generated client's operations, and TypeScript's checker.

The scanner is a small tokenizer (strings, template literals with nested ``${}``, comments,
regular-expression literals), enough for the dashboard's own code; it is not a JS parser.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "coordinator" / "web" / "static"
JS = STATIC / "js"
CLIENT = JS / "api_client.js"
CATALOGUE = STATIC / "i18n" / "en.json"
#: Every language the dashboard speaks: its catalogue file (the same keys as English).
CATALOGUES = {"en": CATALOGUE, "zh-CN": STATIC / "i18n" / "zh-CN.json"}
TYPESCRIPT = "typescript@5.6.3"
TSC_HOME = Path(os.environ.get("CITYWATCH_TSC_HOME", ROOT / ".cache" / "tsc"))
TSC_ARGS = [
    "--noEmit",
    "--allowJs",
    "--checkJs",
    "--target",
    "es2022",
    "--module",
    "esnext",
    "--moduleResolution",
    "bundler",
    "--resolveJsonModule",
    "--lib",
    "es2022,dom,dom.iterable",
]
# A `/` after one of these starts a regular expression, not a division.
REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {""}


def js_files(*, client: bool = True) -> list[Path]:
    """Every dashboard module, sorted; without the generated client when ``client`` is False."""
    files = sorted(JS.rglob("*.js"))
    return [f for f in files if client or f != CLIENT]


def rel(path: Path) -> str:
    """A path relative to the repository, for messages."""
    return str(path.relative_to(ROOT))


@dataclass(frozen=True)
class Literal:
    """A string or template literal: its kind (``"`` ``'`` `````), tag, static text, line."""

    quote: str
    tag: str
    parts: tuple[str, ...]  # static text between ${…} (one part for plain strings)
    exprs: tuple[str, ...]  # the source of each ${…}
    line: int


def _skip_string(src: str, i: int, quote: str) -> int:
    i += 1
    while src[i] != quote:
        i += 2 if src[i] == "\\" else 1
    return i + 1


def _skip_regex(src: str, i: int) -> int:
    i += 1
    in_class = False
    while True:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            i += 1
            while i < len(src) and src[i].isalpha():
                i += 1
            return i
        i += 1


def _template(src: str, i: int, out: list[Literal], tag: str) -> int:
    """Scan the template literal starting at src[i] == '`'; return the index after it."""
    line = src.count("\n", 0, i) + 1
    i += 1
    parts: list[str] = []
    exprs: list[str] = []
    buf: list[str] = []
    while src[i] != "`":
        if src[i] == "\\":
            buf.append(src[i : i + 2])
            i += 2
        elif src.startswith("${", i):
            parts.append("".join(buf))
            buf = []
            start = i + 2
            i = _scan(src, start, out, until="}")
            exprs.append(src[start:i])
            i += 1
        else:
            buf.append(src[i])
            i += 1
    parts.append("".join(buf))
    out.append(Literal("`", tag, tuple(parts), tuple(exprs), line))
    return i + 1


def _scan(src: str, i: int, out: list[Literal], until: str | None = None) -> int:
    depth = 0
    prev = ""
    while i < len(src):
        c = src[i]
        if until and c == until and depth == 0:
            return i
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = len(src) if i < 0 else i
            continue
        if src.startswith("/*", i):
            i = src.index("*/", i) + 2
            continue
        if c in "\"'":
            end = _skip_string(src, i, c)
            line = src.count("\n", 0, i) + 1
            out.append(Literal(c, "", (src[i + 1 : end - 1],), (), line))
            i, prev = end, "x"
            continue
        if c == "`":
            m = re.search(r"([A-Za-z_$][\w$]*)\s*$", src[max(0, i - 40) : i])
            tag = m.group(1) if m and src[i - 1] not in " \n\t(,=:" else ""
            i, prev = _template(src, i, out, tag), "x"
            continue
        if c == "/" and (prev in REGEX_AFTER or re.search(r"\breturn\s*$", src[:i])):
            i, prev = _skip_regex(src, i), "x"
            continue
        if not c.isspace():
            prev = c if not (c.isalnum() or c in "_$") else "x"
        i += 1
    return i


def literals(path: Path) -> list[Literal]:
    """Every string and template literal of a module, nested ones included."""
    out: list[Literal] = []
    _scan(path.read_text(encoding="utf-8"), 0, out)
    return out


def visible_text(template: Literal) -> str:
    """The static text of an html`` template a reader would see (tags and entities removed)."""
    text = "\u0000".join(template.parts)
    text = re.sub(r"<[^>]*>", " ", text.replace("\u0000", " "))
    return re.sub(r"&[#\w]+;", " ", text)


def catalogue(lang: str = "en") -> dict[str, str]:
    """A language's string catalogue (English unless asked)."""
    return json.loads(CATALOGUES[lang].read_text(encoding="utf-8"))


def load_generator() -> ModuleType:
    """scripts/gen_api_client.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "gen_api_client", ROOT / "scripts" / "gen_api_client.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def imported_names(path: Path, module: str) -> set[str]:
    """Names a module imports from ``module`` (a file name such as ``api_client.js``)."""
    src = path.read_text(encoding="utf-8")
    names: set[str] = set()
    for m in re.finditer(r"import\s*\{([^}]*)\}\s*from\s*\"([^\"]+)\"", src):
        if m.group(2).rsplit("/", 1)[-1] == module:
            names |= {n.strip().split(" as ")[0] for n in m.group(1).split(",") if n.strip()}
    return names


def resolve(doc: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """A schema with its top-level ``$ref`` followed."""
    while schema and "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema or {}


def is_typed(doc: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """Whether an answer's schema names its fields (an object, or a list of objects)."""
    s = resolve(doc, schema)
    if s.get("type") == "array":
        return is_typed(doc, s.get("items"))
    for key in ("anyOf", "oneOf"):
        if key in s:
            variants = [resolve(doc, v) for v in s[key] if v.get("type") != "null"]
            return bool(variants) and all(is_typed(doc, v) for v in variants)
    return bool(s.get("properties"))


def ensure_tsc() -> Path:
    """TypeScript's checker, installed with npm into a git-ignored cache on first use."""
    tsc = TSC_HOME / "node_modules" / ".bin" / "tsc"
    if tsc.exists():
        return tsc
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install TypeScript's checker (apt install npm)")
    TSC_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(TSC_HOME), "--no-audit", "--no-fund", TYPESCRIPT],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return tsc


def run_tsc(tsc: Path, entry: Path) -> subprocess.CompletedProcess[str]:
    """Type-check ``entry`` and everything it imports (JSDoc types, JSON modules)."""
    return subprocess.run(
        [str(tsc), *TSC_ARGS, str(entry)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def operation_for(doc: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The OpenAPI operation serving ``METHOD /concrete/path`` (templates matched)."""
    for template, ops in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            return ops[method.lower()]
    return None


def _type_ok(t: str, value: Any) -> bool:
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(t, True)


def schema_problems(doc: dict[str, Any], schema: Any, value: Any, at: str = "$") -> list[str]:
    """Where ``value`` leaves ``schema``: wrong types, missing required fields, and fields the
    schema does not declare (an object schema that names its fields is held to them, even
    when it lets extra fields through at run time)."""
    if not isinstance(schema, dict) or not schema:
        return []
    if "$ref" in schema:
        return schema_problems(doc, resolve(doc, schema), value, at)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            tries = [schema_problems(doc, s, value, at) for s in schema[key]]
            return [] if any(not t for t in tries) else min(tries, key=len)
    if "allOf" in schema:
        return [p for s in schema["allOf"] for p in schema_problems(doc, s, value, at)]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} not one of {schema['enum']}"]
    t = schema.get("type")
    if isinstance(t, str) and not _type_ok(t, value):
        return [f"{at}: {type(value).__name__} where the schema says {t}"]
    out: list[str] = []
    if isinstance(value, list):
        items = schema.get("prefixItems") or [schema.get("items")] * len(value)
        for i, (s, v) in enumerate(zip(items, value, strict=False)):
            out += schema_problems(doc, s, v, f"{at}[{i}]")
    elif isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for k in schema.get("required", []):
            if k not in value:
                out.append(f"{at}.{k}: required, missing")
        for k, v in value.items():
            if k in props:
                out += schema_problems(doc, props[k], v, f"{at}.{k}")
            elif props:
                out.append(f"{at}.{k}: sent but not declared")
            elif isinstance(extra, dict):
                out += schema_problems(doc, extra, v, f"{at}.{k}")
    return out
