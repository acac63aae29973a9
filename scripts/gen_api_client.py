"""Generate the dashboard's API client (coordinator/web/static/js/api_client.js) from OpenAPI.

One exported function per operation: path parameters encoded with encodeURIComponent,
header parameters (``X-Purpose``) as required arguments, the request body and the answer
typed with JSDoc generated from the schemas, so ``tsc --checkJs`` holds every screen to
the API's contract. tests/web/test_api_client.py fails when the file on disk is stale.
Run: ``python scripts/gen_api_client.py`` (``--check`` only compares).
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "coordinator" / "web" / "static" / "js" / "api_client.js"
METHODS = ("get", "post", "put", "patch", "delete")
# Operations a browser opens by URL rather than fetches (EventSource cannot send headers).
URL_ONLY = {"incident_stream"}
# Operations whose answer is not JSON: the function returns the fetch Response itself.
NO_JSON_MEDIA = ("text/", "image/", "application/cap+xml", "application/atom+xml")
IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def load_openapi() -> dict[str, Any]:
    """The coordinator's OpenAPI document (as ``coordinator openapi`` prints it)."""
    from coordinator.cli import openapi_document

    return openapi_document()


def camel(words: str) -> str:
    """snake/kebab words → lowerCamelCase."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", words) if p]
    return parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def type_name(name: str) -> str:
    """A schema's name as a JSDoc type name."""
    n = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return n[:1].upper() + n[1:]


def route_name(op: dict[str, Any], path: str, method: str) -> str:
    """The Python function's name, recovered from FastAPI's default operation id."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    oid = op["operationId"]
    return oid[: -len(suffix)] if oid.endswith(suffix) else oid


def function_name(op: dict[str, Any], path: str, method: str) -> str:
    """Tag + route name (``fraud`` + ``review_queue`` → ``fraudReviewQueue``).

    The tag is left out when the route name already says it (``list_incidents``).
    """
    name = route_name(op, path, method)
    tag = (op.get("tags") or [""])[0]
    stem = tag.rstrip("s")
    if not tag or stem in name.split("_") or tag in name.split("_"):
        return camel(name)
    return camel(f"{tag}_{name}")


def ts_type(s: dict[str, Any] | bool | None, depth: int = 0) -> str:
    """A JSON schema as a TypeScript type expression (as JSDoc understands it)."""
    if s is None or s is True or s == {}:
        return "any"
    if s is False:
        return "never"
    assert isinstance(s, dict)
    if "$ref" in s:
        return type_name(s["$ref"].rsplit("/", 1)[1])
    if "const" in s:
        return json.dumps(s["const"], ensure_ascii=False)
    if "enum" in s:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in s["enum"])
    for key in ("anyOf", "oneOf"):
        if key in s:
            parts = [ts_type(x, depth) for x in s[key]]
            return "(" + " | ".join(dict.fromkeys(parts)) + ")"
    if "allOf" in s:
        return "(" + " & ".join(ts_type(x, depth) for x in s["allOf"]) + ")"
    t = s.get("type")
    if isinstance(t, list):
        return "(" + " | ".join(ts_type({**s, "type": x}, depth) for x in t) + ")"
    if t == "string":
        return "string"
    if t in ("integer", "number"):
        return "number"
    if t == "boolean":
        return "boolean"
    if t == "null":
        return "null"
    if t == "array":
        if "prefixItems" in s:
            return "[" + ", ".join(ts_type(x, depth) for x in s["prefixItems"]) + "]"
        return f"Array<{ts_type(s.get('items'), depth)}>"
    if t == "object" or "properties" in s:
        props = s.get("properties") or {}
        extra = s.get("additionalProperties", not props)
        if not props:
            return f"Object<string, {ts_type(extra if isinstance(extra, dict) else None)}>"
        required = set(s.get("required", []))
        fields = [
            f"{k if IDENT.match(k) else json.dumps(k)}{'' if k in required else '?'}: "
            f"{ts_type(v, depth + 1)}"
            for k, v in props.items()
        ]
        return "{ " + ", ".join(fields) + " }"
    return "any"


def typedef(name: str, s: dict[str, Any]) -> list[str]:
    """A components schema as a JSDoc typedef (with @property lines for object schemas)."""
    out = ["/**"]
    if s.get("description"):
        out += [f" * {line}".rstrip() for line in s["description"].strip().splitlines()]
    props = s.get("properties")
    if s.get("type") == "object" and props and all(IDENT.match(k) for k in props):
        out.append(f" * @typedef {{Object}} {type_name(name)}")
        required = set(s.get("required", []))
        for k, v in props.items():
            label = k if k in required else f"[{k}]"
            out.append(f" * @property {{{ts_type(v)}}} {label}")
    else:
        out.append(f" * @typedef {{{ts_type(s)}}} {type_name(name)}")
    out.append(" */")
    return out


def json_schema(content: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(is JSON, schema) of a request body's or a response's content map."""
    if not content:
        return False, None
    media = next(iter(content))
    if media.startswith(NO_JSON_MEDIA) or media != "application/json":
        return False, None
    return True, content[media].get("schema") or {}


def answer(op: dict[str, Any]) -> tuple[str, bool]:
    """(JSDoc type of the answer, whether it is parsed as JSON)."""
    ok = [c for c in op.get("responses", {}) if c.startswith("2")]
    if not ok:
        return "Response", False
    is_json, schema = json_schema(op["responses"][ok[0]].get("content") or {})
    if not is_json or schema == {}:
        return "Response", False
    return ts_type(schema), True


def operation(path: str, method: str, op: dict[str, Any]) -> list[str]:
    """The JSDoc and the function for one operation."""
    fn = function_name(op, path, method)
    params = op.get("parameters", [])
    path_ps = [p for p in params if p["in"] == "path"]
    head_ps = [p for p in params if p["in"] == "header"]
    query_ps = [p for p in params if p["in"] == "query"]
    summary = (op.get("description") or op.get("summary") or "").strip().splitlines()
    doc = ["/**", *[f" * {line}".rstrip() for line in summary], f" * {method.upper()} {path}"]
    args: list[str] = []
    for p in path_ps:
        var = camel(p["name"])
        doc.append(f" * @param {{{ts_type(p.get('schema'))}}} {var}")
        args.append(var)
    headers: list[str] = []
    for p in head_ps:
        var = camel(p["name"].removeprefix("x-"))
        desc = f" - {p['description']}" if p.get("description") else ""
        doc.append(f" * @param {{string}} {var}{desc}")
        args.append(var)
        headers.append(f"{json.dumps(header_name(p['name']))}: {var}")
    if fn_is_url(op, path, method):
        doc.append(" * @param {Object<string, string | number>} [query]")
        doc += [" * @returns {string} the URL to open", " */"]
        return [
            *doc,
            f"export function {fn}Url(query) {{",
            f"  return url({js_path(path, path_ps)}, query);",
            "}",
        ]
    body = op.get("requestBody")
    opts: list[str] = []
    if body:
        is_json, schema = json_schema(body.get("content", {}))
        btype = ts_type(schema) if is_json else "string"
        label = "body" if body.get("required") else "[body]"
        doc.append(f" * @param {{{btype}}} {label}")
        args.append("body")
        opts.append("body" if is_json else "body, rawBody: true")
    if query_ps:
        fields = ", ".join(
            f"{q['name'] if IDENT.match(q['name']) else json.dumps(q['name'])}?: "
            f"{ts_type(q.get('schema'))}"
            for q in query_ps
        )
        doc.append(f" * @param {{{{ {fields} }}}} [query]")
        args.append("query")
        opts.append("query")
    if headers:
        opts.append("headers: { " + ", ".join(headers) + " }")
    rtype, is_json = answer(op)
    if not is_json:
        opts.append("raw: true")
    doc += [f" * @returns {{Promise<{rtype}>}}", " */"]
    opt = (", { " + ", ".join(opts) + " }") if opts else ""
    return [
        *doc,
        f"export function {fn}({', '.join(args)}) {{",
        f"  return request({json.dumps(method.upper())}, {js_path(path, path_ps)}{opt});",
        "}",
    ]


def header_name(name: str) -> str:
    """HTTP header spelling (``x-purpose`` → ``X-Purpose``)."""
    return "-".join(p[:1].upper() + p[1:] for p in name.split("-"))


def fn_is_url(op: dict[str, Any], path: str, method: str) -> bool:
    """Whether the operation is opened by URL (a live stream)."""
    return route_name(op, path, method) in URL_ONLY


def js_path(path: str, path_ps: list[dict[str, Any]]) -> str:
    """The path as a JS template literal, every parameter encoded."""
    out = path
    for p in path_ps:
        out = out.replace("{" + p["name"] + "}", "${encodeURIComponent(" + camel(p["name"]) + ")}")
    if "${" not in out:
        return json.dumps(out)
    return "`" + out + "`"


def operations(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(function name, path, method, operation) of every API operation, in document order."""
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    seen: dict[str, str] = {}
    for path, ops in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in METHODS:
            if method not in ops:
                continue
            fn = function_name(ops[method], path, method)
            if fn_is_url(ops[method], path, method):
                fn += "Url"
            if fn in seen:
                raise SystemExit(f"{fn} names both {seen[fn]} and {method.upper()} {path}")
            if keyword.iskeyword(fn):
                raise SystemExit(f"{fn} is not a usable function name")
            seen[fn] = f"{method.upper()} {path}"
            out.append((fn, path, method, ops[method]))
    return out


def render(doc: dict[str, Any]) -> str:
    """The whole client module."""
    lines = [
        "// Generated by scripts/gen_api_client.py from the coordinator's OpenAPI document.",
        "// Do not edit: change the routes (or the generator) and run the script again.",
        "// Screens reach the API only through these functions (a test fails on any other path).",
        "// @ts-check",
        'import { request, url } from "./http.js";',
        "",
    ]
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        lines += typedef(name, schema)
        lines.append("")
    for _fn, path, method, op in operations(doc):
        lines += operation(path, method, op)
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    """Write the client, or with ``--check`` report whether the file on disk is current."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = ap.parse_args()
    text = render(load_openapi())
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run python scripts/gen_api_client.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
