"""Generate protocol/asyncapi.yaml and docs/protocol.md from the protocol package.

Schemas come from the msgspec types themselves and examples from protocol/examples.py,
so the published contract cannot drift from the code; tests/protocol/test_asyncapi.py
fails when the files on disk are stale. Run: ``python scripts/gen_protocol_docs.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol import DEFAULT_ROOT, MAX_BYTES, PAYLOAD_TYPES, Channel, ConfigV2, ConfigV3  # noqa: E402
from protocol.codec import WIRE_TYPES  # noqa: E402
from protocol.examples import EXAMPLES  # noqa: E402

# (channel, address template, sender, receiver, QoS, retained, what it is)
TABLE: list[tuple[Channel, str, str, str, int, bool, str]] = [
    (
        Channel.EVENT,
        "dev/{dev}/event",
        "board",
        "centre",
        1,
        False,
        "One detection event: what happened where, never who.",
    ),
    (
        Channel.STATE,
        "dev/{dev}/state",
        "board",
        "centre",
        1,
        True,
        "Online/offline (also the Last Will), firmware/model versions, config status.",
    ),
    (
        Channel.HEALTH,
        "dev/{dev}/health",
        "board",
        "centre",
        0,
        False,
        "Every 30 s: fps, inference ms, motion, spool depth, drops, outages, temperature.",
    ),
    (
        Channel.CONFIG,
        "dev/{dev}/config",
        "centre",
        "board",
        1,
        True,
        "Thresholds, zones, schedules (level 1, `v: 1`); level 2 (`v: 2`) adds privacy, motion"
        " and object masks, sent only to boards whose `state.cfgv` is 2 or more; level 3"
        " (`v: 3`) adds the detection model the centre serves, only to boards at level 3."
        " Validated on the board; a bad one is rejected.",
    ),
    (
        Channel.SNAPSHOT_REQ,
        "dev/{dev}/snapshot/req",
        "centre",
        "board",
        1,
        False,
        "Ask for the JPEG of an event frame (on demand only, never video).",
    ),
    (
        Channel.SNAPSHOT,
        "dev/{dev}/snapshot",
        "board",
        "centre",
        1,
        False,
        "The requested JPEG (base64) or the reason it is not available.",
    ),
    (
        Channel.COMMITTED,
        "dev/{dev}/committed",
        "centre",
        "board",
        1,
        True,
        "The highest contiguous event sequence committed at the centre: the board deletes"
        " spooled events only up to it (end-to-end acknowledgement, not the broker's PUBACK).",
    ),
    (
        Channel.POSITION,
        "unit/{unit}/position",
        "unit",
        "centre",
        0,
        False,
        "A patrol unit's position, speed and status.",
    ),
    (
        Channel.DISPATCH,
        "unit/{unit}/dispatch",
        "centre",
        "unit",
        1,
        False,
        "A dispatch order for an incident.",
    ),
    (
        Channel.ACK,
        "unit/{unit}/ack",
        "unit",
        "centre",
        1,
        False,
        "Acknowledgement of an order and the unit's status changes.",
    ),
    (
        Channel.WARNINGS,
        "warnings",
        "centre",
        "displays",
        1,
        True,
        "The currently published fraud warnings (CAP 1.2 JSON) for market display boards.",
    ),
]


def _name(ch: Channel) -> str:
    return "".join(p.capitalize() for p in ch.value.replace("/", "_").split("_"))


def build() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as plain data."""
    types = [WIRE_TYPES[row[0]] for row in TABLE]
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for (ch, addr, sender, receiver, qos, retain, desc), schema in zip(TABLE, schemas, strict=True):
        name = _name(ch)
        params = {
            p: {"description": f"{p} id: 1-64 of A-Z a-z 0-9 . _ -"}
            for p in ("dev", "unit")
            if "{" + p + "}" in addr
        }
        channels[name] = {
            "address": f"{DEFAULT_ROOT}/{addr}",
            "description": desc,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            **({"parameters": params} if params else {}),
            "bindings": {"mqtt": {"bindingVersion": "0.2.0"}},
        }
        messages[name] = {
            "name": name,
            "contentType": "application/json",
            "summary": desc,
            "payload": schema,
            "examples": [{"payload": ex} for ex in EXAMPLES[ch]],
            "bindings": {"mqtt": {"bindingVersion": "0.2.0"}},
            "x-max-bytes": MAX_BYTES[ch],
        }
        operations[f"{sender}Sends{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"{sender} → {receiver}",
            "bindings": {"mqtt": {"qos": qos, "retain": retain, "bindingVersion": "0.2.0"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CityWatch MQTT contract",
            "version": "1.0.0",
            "description": (
                "Topics and payloads between camera boards, patrol units, market displays and "
                "the command centre. Generated by scripts/gen_protocol_docs.py from the "
                "protocol package; every payload carries `v` (schema version, now 1)."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "boards": {
                "host": "broker:8883",
                "protocol": "mqtts",
                "protocolVersion": "5",
                "description": "mTLS: certificate CN = username = client id = device id",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": components},
    }


def render_yaml() -> str:
    """The YAML text of asyncapi.yaml."""
    head = "# Generated by scripts/gen_protocol_docs.py. Do not edit by hand.\n"
    return head + yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=100)


def render_markdown() -> str:
    """docs/protocol.md, the human-readable contract."""
    lines = [
        "# The CityWatch MQTT contract (v1)",
        "",
        "<!-- Generated by scripts/gen_protocol_docs.py from protocol/. Do not edit. -->",
        "",
        f"Root topic `{DEFAULT_ROOT}` (configurable). `{{dev}}` is the device id = certificate "
        "CN = MQTT username; `{unit}` a patrol unit id. Ids are 1-64 characters of "
        "`A-Z a-z 0-9 . _ -` starting with a letter or digit, so `+`, `#` and `/` can never "
        "appear in one. Every payload is compact JSON with `v` (schema version) first. "
        "Decoding refuses payloads over the size bound before parsing them.",
        "",
        "| topic | direction | QoS | retained | max bytes | payload |",
        "|---|---|---|---|---|---|",
    ]
    for ch, addr, sender, receiver, qos, retain, desc in TABLE:
        lines.append(
            f"| `{DEFAULT_ROOT}/{addr}` | {sender} → {receiver} | {qos} | "
            f"{'yes' if retain else 'no'} | {MAX_BYTES[ch]:,} | {desc} |"
        )
    lines += [
        "",
        "Event ids are UUIDv7 written as 32 hex digits (time-ordered); every event also "
        "carries a per-device sequence number `seq`, so the centre stores events "
        "idempotently by id and detects gaps by sequence. Boxes are integer thousandths "
        "of the frame (`x1,y1,x2,y2`, origin top-left).",
        "",
        "Board→centre telemetry ignores unknown fields (newer firmware may add some); "
        "centre→board config rejects them, so a typo in a pushed config is reported on "
        "`state.err` instead of silently ignored.",
        "",
        "## Compatibility: boards in the field keep working",
        "",
        "Boards are updated slowly, so every change to this contract follows one rule:",
        "",
        "1. **Adding** an optional field to board→centre telemetry, or a new topic, keeps "
        "`v` as it is: older centres ignore the field, older boards never subscribe to the "
        "topic. The centre accepts every payload version it has ever accepted.",
        "2. **Anything a board must understand** (a new config field, a new rule kind, a "
        "changed meaning) bumps the schema version `v`. The board reports the firmware it "
        "runs on `state`; the centre sends each board only what that firmware understands "
        "(the highest schema version it declared), never a config it would reject.",
        "3. **Removing or renaming** a field is never done in place: a new field is added, "
        "the old one is kept until no board reports a firmware that needs it.",
        "",
        "End-to-end acknowledgement follows rule 1. The centre publishes each board's "
        "highest contiguous committed sequence on `dev/{dev}/committed` (retained). A board "
        "that has received it once keeps every event in its spool until that watermark "
        "covers it and re-sends what the watermark has not covered after a reconnect or a "
        "timeout; boards on older firmware never subscribe and keep deleting on PUBACK. The "
        "centre stores events idempotently by id, so a re-sent event is never doubled. "
        "`health.sf` (the lowest sequence still spooled) tells the centre which numbers "
        "were dropped at the spool's bound, so the watermark does not wait for them.",
        "",
        "Masks follow rule 2. The config gained a second schema level: `v: 2` is level 1 "
        "plus `masks` (privacy, motion, object). A board states the highest config level it "
        "applies in `state.cfgv` (an optional field, rule 1; absent means 1, today's "
        "firmware). The centre renders each board's retained config at that level: a level-1 "
        "board gets `v: 1` without masks (and the fleet view says its firmware cannot apply "
        "the camera's masks); when a board reports a higher level, the centre publishes the "
        "config again at that level. Every other payload stays at `v: 1`.",
        "",
        "The served model follows the same rule: `v: 3` is level 2 plus `model` (name, "
        "detector kind, SHA-256, size and the path the board downloads it from, signed with "
        "its own key). Only a board whose `state.cfgv` is 3 or more gets it; a level-2 board "
        "gets `v: 2` without it and keeps the model it has. A board reports the detector it "
        "runs (`state.det`), the SHA-256 of its model (`state.msha`) and why it did not take "
        "a named model (`state.merr`): optional fields (rule 1), so the centre names a model "
        "of the right kind and the fleet view shows a board still on another model.",
        "",
        "## Examples",
        "",
    ]
    for ch, addr, *_ in TABLE:
        lines.append(f"### `{addr}`")
        lines.append("")
        for ex in EXAMPLES[ch]:
            lines += ["```json", json.dumps(ex, ensure_ascii=False), "```", ""]
    lines += [
        "## Field names",
        "",
        "Short wire names keep a median event under 200 bytes. The schemas with every "
        "constraint are in `protocol/asyncapi.yaml`.",
        "",
    ]
    for ch, *_ in TABLE:
        t = PAYLOAD_TYPES[ch]
        info = msgspec.inspect.type_info(t)
        fields = ", ".join(
            f"`{f.encode_name}`" + ("" if f.encode_name == f.name else f" ({f.name})")
            for f in info.fields  # type: ignore[attr-defined]
        )
        lines.append(f"- **{t.__name__}**: `v`, {fields}")
        if ch is Channel.CONFIG:
            lines.append(f"- **{ConfigV2.__name__}** (`v: 2`): every Config field, `masks`")
            lines.append(
                f"- **{ConfigV3.__name__}** (`v: 3`): every ConfigV2 field, `model` "
                "(name, kind, sha256, size, url)"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    """Write both files; with --check, exit 1 if either is stale."""
    targets = {
        ROOT / "protocol" / "asyncapi.yaml": render_yaml(),
        ROOT / "docs" / "protocol.md": render_markdown(),
    }
    if "--check" in sys.argv:
        stale = [str(p) for p, text in targets.items() if not p.exists() or p.read_text() != text]
        if stale:
            print("stale, run scripts/gen_protocol_docs.py:", *stale)
            return 1
        return 0
    for path, text in targets.items():
        path.write_text(text)
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
