"""The dashboard against the OpenAPI document.

How a screen is held to the API: it may reach the API only through api_client.js (the
generated client; test_api_client.py refuses raw paths), whose functions take the path
parameters, the required headers (X-Purpose) and a body typed from the request schema, and
return answers typed from the response schema. `tsc --checkJs` then checks every call:
the operation exists, the headers are passed, the body's fields are the schema's, and the
fields a screen reads from an answer are the answer's. That last check is only as good as
the answer's schema: an operation whose answer is an untyped object lets any field through,
so the operations the dashboard calls with such answers are listed below and the list may
only shrink.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.harness.webjs import JS, imported_names, is_typed, js_files, load_generator

GEN = load_generator()
DOC: dict[str, Any] = GEN.load_openapi()
OPS = {fn: (path, method, op) for fn, path, method, op in GEN.operations(DOC)}
CALLED = sorted(set().union(*(imported_names(p, "api_client.js") for p in js_files())))

# Operations the dashboard calls whose answers declare no fields yet (no response model).
# Empty: every answer the dashboard reads is typed; a new untyped one must be listed here.
UNTYPED_ALLOWED: set[str] = set()


def _answer(op: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(is JSON, schema) of an operation's success answer."""
    ok = [c for c in op.get("responses", {}) if c.startswith("2")]
    content = op["responses"][ok[0]].get("content") or {} if ok else {}
    return GEN.json_schema(content)


def _untyped(fn: str) -> bool:
    _, _, op = OPS[fn]
    is_json, schema = _answer(op)
    return is_json and schema != {} and not is_typed(DOC, schema)


def test_the_dashboard_calls_the_api_it_needs():
    assert {"fraudReviewQueue", "fraudDecideLink", "populationReviewQueue", "authLogin"} <= set(
        CALLED
    )


@pytest.mark.parametrize("fn", CALLED)
def test_every_call_names_an_operation_of_the_api(fn: str):
    assert fn in OPS, f"the dashboard imports {fn}, which the API does not offer"


@pytest.mark.parametrize("fn", CALLED)
def test_every_answer_the_dashboard_reads_declares_its_fields(fn: str):
    if fn in UNTYPED_ALLOWED:
        pytest.skip("allow-listed: the route has no response model yet")
    path, method, _ = OPS[fn]
    assert not _untyped(fn), f"{method.upper()} {path} ({fn}) needs a response model"


def test_the_allow_list_only_shrinks():
    stale = [fn for fn in sorted(UNTYPED_ALLOWED) if fn not in CALLED or not _untyped(fn)]
    assert not stale, f"remove from UNTYPED_ALLOWED (no longer called, or now typed): {stale}"


@pytest.mark.parametrize("path", sorted((JS / "screens").glob("*.js")), ids=lambda p: p.name)
def test_screens_keep_the_answers_types(path: Path):
    """A row renderer typed ``any`` would let a misread field through the type check."""
    loose = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"@(param|type|returns)\s*\{[^}]*\bany\b", line)
        and "the mounted map's canvases" not in line
    ]
    assert not loose, loose


def test_required_headers_are_parameters_of_the_client():
    """Every operation that reads personal data takes the purpose as an argument."""
    for fn, (path, _method, op) in OPS.items():
        if any(p["in"] == "header" and p["name"] == "x-purpose" for p in op.get("parameters", [])):
            assert "purpose" in GEN.operation(path, _method, op)[-3], fn


CHECKER_DOC = {
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "additionalProperties": True,
                "required": ["id"],
                "properties": {
                    "id": {"type": "integer"},
                    "names": {"type": "array", "items": {"type": "string"}},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
            }
        }
    }
}
ITEMS = {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}


@pytest.mark.parametrize(
    "value,problem",
    [
        ([{"id": 1, "names": ["a"], "note": None}], None),
        ([{"id": 1, "reason": "x"}], "$[0].reason: sent but not declared"),
        ([{"names": []}], "$[0].id: required, missing"),
        ([{"id": "1"}], "$[0].id: str where the schema says integer"),
        ([{"id": 1, "note": 3}], "$[0].note: int where the schema says"),
        ({"id": 1}, "$: dict where the schema says array"),
    ],
)
def test_the_answer_checker_finds_each_kind_of_drift(value: Any, problem: str | None):
    from tests.harness.webjs import schema_problems

    found = schema_problems(CHECKER_DOC, ITEMS, value)
    assert found == [] if problem is None else any(p.startswith(problem) for p in found), found


@pytest.mark.parametrize("fn", sorted(OPS))
def test_every_operation_declares_the_fields_of_its_answer(fn: str):
    """Not only what the dashboard reads: every JSON answer of the API has a response model."""
    path, method, _ = OPS[fn]
    assert not _untyped(fn), f"{method.upper()} {path} ({fn}) answers an untyped object"


def test_the_document_says_the_purpose_header_is_required():
    headers = [
        p
        for _path, _method, op in OPS.values()
        for p in op.get("parameters", [])
        if p["in"] == "header" and p["name"] == "x-purpose"
    ]
    assert len(headers) > 30 and all(p["required"] for p in headers)
