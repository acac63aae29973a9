"""Fuzzing generated from the centre's own schemas, with Hypothesis: HTTP requests from the
OpenAPI document (``coordinator openapi`` / ``/openapi.json``) and MQTT payloads from the
protocol's JSON schemas (protocol/asyncapi.yaml). Values follow the schema most of the
time and break it on purpose otherwise (wrong types, out-of-range numbers, huge strings,
missing required fields, extra fields), so both the validation and the code behind it are
reached. Used by tests/security/test_fuzz.py (bounded) and bench/fuzz.py (deeper).
"""

from __future__ import annotations

import json
import re
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

#: Values that break schemas and code paths alike.
NASTY: list[Any] = [
    None, True, False, 0, -1, 2**31, 2**63, -(2**63), 1e308, -0.0, "", " ", "0", "-1",
    "null", "true", "a" * 3000, "\x00", "\u202e", "🙂", "张三", "' OR 1=1 --", "../../etc/passwd",
    "%00", "{}", "[]", "1e999", "NaN", "2026-02-30", "9999-12-31T23:59:59Z", [], {}, [None],
    {"__proto__": {}}, "<script>alert(1)</script>",
]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=12,
)


def _deref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _regex(pattern: str) -> st.SearchStrategy[str]:
    try:
        re.compile(pattern)
        return st.from_regex(pattern, fullmatch=True)
    except (re.error, TypeError):
        return st.text(max_size=20)


def from_schema(
    schema: Any, root: dict[str, Any], depth: int = 0, wild: float = 0.1
) -> st.SearchStrategy[Any]:
    """Values for ``schema`` (a JSON Schema node, ``$ref`` resolved against ``root``); one in
    ``1/wild`` draws is deliberately wrong."""
    good = _valid(schema, root, depth, wild)
    if wild <= 0:
        return good
    bad = st.sampled_from(NASTY) | json_values
    return st.one_of(good, good, good, good, good, good, good, good, bad)


def _valid(schema: Any, root: dict[str, Any], depth: int, wild: float) -> st.SearchStrategy[Any]:
    if schema is True or schema == {} or depth > 6:
        return json_values
    if schema is False:
        return st.nothing()
    schema = _deref(schema, root)
    sub = lambda s: from_schema(s, root, depth + 1, wild)  # noqa: E731
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([sub(s) for s in schema[key]])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for s in schema["allOf"]:
            merged.update(_deref(s, root))
        return _valid(merged, root, depth + 1, wild)
    t = schema.get("type")
    if isinstance(t, list):
        return st.one_of([_valid({**schema, "type": x}, root, depth, wild) for x in t])
    if t == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", []) if k in props]
        optional = [k for k in props if k not in required]
        return st.fixed_dictionaries(
            {k: sub(props[k]) for k in required},
            optional={k: sub(props[k]) for k in optional},
        )
    if t == "array":
        if "prefixItems" in schema:
            return st.tuples(*[sub(s) for s in schema["prefixItems"]]).map(list)
        items = schema.get("items", {})
        lo = schema.get("minItems", 0)
        hi = min(schema.get("maxItems", lo + 4), lo + 4)
        return st.lists(sub(items) if items is not False else json_values, min_size=lo,
                        max_size=hi)  # fmt: skip
    if t == "string":
        if "pattern" in schema:
            return _regex(schema["pattern"])
        fmt = schema.get("format")
        if fmt == "date":
            return st.dates().map(str)
        if fmt == "date-time":
            return st.datetimes().map(lambda d: d.isoformat() + "Z")
        if fmt in ("binary", "byte"):
            return st.binary(max_size=64).map(lambda b: b.hex())
        lo = schema.get("minLength", 0)
        return st.text(min_size=lo, max_size=max(lo, min(schema.get("maxLength", 40), 60)))
    if t == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if t == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False,
                         allow_infinity=False)  # fmt: skip
    if t == "boolean":
        return st.booleans()
    if t == "null":
        return st.none()
    return json_values


# -- HTTP -------------------------------------------------------------------------------------


@dataclass
class Operation:
    """One operation of the OpenAPI document."""

    method: str
    path: str
    params: list[dict[str, Any]]
    body: dict[str, Any] | None
    form: bool = False


def operations(doc: dict[str, Any], skip: tuple[str, ...] = ()) -> list[Operation]:
    """Every operation of ``doc`` but those whose path starts with one of ``skip``."""
    out = []
    for path, ops in doc["paths"].items():
        if path.startswith(skip):
            continue
        for method, op in ops.items():
            content = (op.get("requestBody") or {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            form = None if body else next(iter(content.values()), {}).get("schema")
            out.append(Operation(method.upper(), path, op.get("parameters", []), body or form,
                                 form=bool(form)))  # fmt: skip
    return out


def _text(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v) if isinstance(v, dict | list) else str(v)


@st.composite
def requests(draw: Any, op: Operation, doc: dict[str, Any], known: list[str]) -> dict[str, Any]:
    """A request for ``op``: path and query from their schemas (or known ids), a body."""
    path = op.path
    query: dict[str, str] = {}
    for p in op.params:
        schema = p.get("schema", {})
        if p["in"] == "path":
            v = draw(st.sampled_from(known) | from_schema(schema, doc) if known else
                     from_schema(schema, doc))  # fmt: skip
            path = path.replace("{" + p["name"] + "}", quote(_text(v)[:200], safe="") or "x")
        elif p["in"] == "query" and (p.get("required") or draw(st.booleans())):
            query[p["name"]] = _text(draw(from_schema(schema, doc)))[:500]
    body = None
    if op.body is not None and draw(st.integers(0, 9)) > 0:
        body = draw(from_schema(op.body, doc))
    return {"method": op.method, "path": path, "query": query, "body": body, "form": op.form}


@dataclass
class FuzzStats:
    """What a fuzzing run sent and got back."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, req: dict[str, Any], status: int, text: str) -> None:
        """Count one answer; keep the request of every 5xx."""
        self.sent += 1
        self.statuses[status] += 1
        if status >= 500:
            self.errors.append(f"{req['method']} {req['path']} {req['query']} "
                               f"{json.dumps(req['body'], default=str)[:300]} -> {status} "
                               f"{text[:300]}")  # fmt: skip


def send(http: httpx.Client, req: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    """Send a generated request (JSON, or a form for form routes)."""
    kw: dict[str, Any] = {"params": req["query"], "headers": headers}
    if req["body"] is not None:
        if req["form"] and isinstance(req["body"], dict):
            kw["data"] = {k: _text(v) for k, v in req["body"].items()}
        else:
            kw["content"] = json.dumps(req["body"], default=str).encode()
            kw["headers"] = {**headers, "Content-Type": "application/json"}
    try:
        try:
            return http.request(req["method"], req["path"], **kw)
        except httpx.RemoteProtocolError:
            # a kept-alive connection the server had just closed: send once more on a new
            # one; a second drop is the server's doing and is counted
            return http.request(req["method"], req["path"], **kw)
    except httpx.InvalidURL as exc:  # the client itself refuses to send it (control chars)
        return httpx.Response(499, text=f"not sent: {exc}")
    except (httpx.RemoteProtocolError, ssl.SSLError) as exc:  # a dropped connection
        return httpx.Response(599, text=f"connection dropped: {exc}")


def timed(fn: Any) -> tuple[Any, float]:
    """``fn()`` and its duration in seconds."""
    t0 = time.monotonic()
    return fn(), time.monotonic() - t0


# -- MQTT -------------------------------------------------------------------------------------


def protocol_schemas() -> dict[str, Any]:
    """The protocol's components (protocol/asyncapi.yaml), the ``$ref`` root."""
    from pathlib import Path

    import yaml

    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / "protocol" / "asyncapi.yaml")
                         .read_text())  # fmt: skip
    return dict(doc)


def mqtt_payloads(schema_name: str, doc: dict[str, Any], dev: str) -> st.SearchStrategy[bytes]:
    """Payloads for a board's channel: from the schema (often with the board's own id),
    mutated, or arbitrary bytes."""
    schema = doc["components"]["schemas"][schema_name]
    values = from_schema(schema, doc, wild=0.2).map(
        lambda v: {**v, "dev": dev} if isinstance(v, dict) and "dev" in v else v
    )
    as_json = values.map(lambda v: json.dumps(v, default=str).encode())
    return st.one_of(as_json, as_json, as_json, st.binary(max_size=300))


# -- runners (the bounded test and the deeper benchmark) --------------------------------------

#: Roles the API fuzzer acts as (None: anonymous); production-style city's staff.
ROLES = ["admin-wang", "op-chen", "officer-xu", "auditor-he", "tech-li", None]
#: Ids the generated paths use beside schema-drawn ones, so routes reach real rows.
KNOWN = ["1", "2", "cam-fuzz", "cam-legit", "Z12", "officer-xu", "op-chen", "0", "9999999"]
#: Routes whose answer never ends by design (the live incident stream, held open).
ENDLESS = {"/api/incidents-stream"}
#: The fuzzer's own addresses: its refused logins (generated ones, and its own once it has
#: disabled or re-passworded an account) throttle these, not the other tests' logins.
FUZZ_SOURCE = "127.0.0.9"
LOGIN_SOURCE = "127.0.0.8"
#: The protocol schema of each board channel the MQTT fuzzer writes to.
SCHEMA_OF = {"event": "Event", "state": "State", "health": "Health", "snapshot": "SnapshotResponse"}


def fuzz_settings(n: int) -> Any:
    """Hypothesis settings for a run against a live server (no deadline, no database)."""
    import os

    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("CITYWATCH_FUZZ_RANDOM") is None,
    )


def fuzz_api(prod: Any, n: int, stop_at_500: bool = True) -> tuple[FuzzStats, int]:
    """``n`` generated requests against the production-style city ``prod``; with
    ``stop_at_500`` the first 500 fails (Hypothesis shrinks it to a small example).
    Returns the statistics and the number of operations."""
    from hypothesis import given

    from .api import login
    from .https_centre import PASSWORD

    with prod.centre.client() as http:
        doc = http.get("/openapi.json").json()
    ops = [o for o in operations(doc, skip=("/api/auth/logout",)) if o.path not in ENDLESS]
    stats, tokens = FuzzStats(), {}

    def headers(role: str | None, fresh: bool = False) -> dict[str, str]:
        if role is None:
            return {}
        if fresh or role not in tokens:
            try:
                with prod.centre.client(source=LOGIN_SOURCE) as h:
                    tokens[role] = login(h, role, PASSWORD)
            except AssertionError:  # the fuzzer disabled or re-passworded this account
                tokens[role] = ""
        return {"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}

    t0 = time.monotonic()
    with prod.centre.client(source=FUZZ_SOURCE) as http:

        @fuzz_settings(n)
        @given(st.data())
        def one(data: Any) -> None:
            op = data.draw(st.sampled_from(ops))
            role = data.draw(st.sampled_from(ROLES))
            req = data.draw(requests(op, doc, KNOWN))
            # the drawn caller first; refused (403), the request goes to the other staff
            # in turn, so most generated requests reach the code behind the permission check
            for who in [role] + [x for x in ROLES if x not in (role, None)] * (role is not None):
                r = send(http, req, headers(who))
                if r.status_code == 401 and who is not None:
                    r = send(http, req, headers(who, fresh=True))
                stats.record(req, r.status_code, r.text)
                if stop_at_500:
                    assert r.status_code < 500, stats.errors[-1]
                if r.status_code != 403:
                    break

        one()
    stats.seconds = time.monotonic() - t0
    return stats, len(ops)


def fuzz_mqtt(prod: Any, board: Any, dev: str, n: int) -> tuple[int, set[str]]:
    """``n`` generated payloads on ``dev``'s own topics, a good event after every five;
    returns the messages sent and the good events' ids."""
    from hypothesis import given

    from protocol import Channel, Event, encode, uuid7

    doc = protocol_schemas()
    strategies = {Channel(ch): mqtt_payloads(name, doc, dev) for ch, name in SCHEMA_OF.items()}
    good: set[str] = set()
    sent = [0]
    seq = iter(range(1, 10**9))

    @fuzz_settings(n)
    @given(st.data())
    def one(data: Any) -> None:
        ch = data.draw(st.sampled_from(list(strategies)))
        payload = data.draw(strategies[ch])
        board.client.publish(prod.topics.device(dev, ch), payload, qos=1)
        sent[0] += 1
        if sent[0] % 5 == 0:
            ev = Event(id=uuid7(), seq=next(seq), ts=int(time.time() * 1000), dev=dev,
                       kind="intrusion", phase="start", label="person", conf=0.9, track=1,
                       box=(10, 10, 100, 300))  # fmt: skip
            good.add(ev.id)
            board.client.publish(prod.topics.device(dev, Channel.EVENT), encode(ev), qos=1)

    one()
    return sent[0], good
