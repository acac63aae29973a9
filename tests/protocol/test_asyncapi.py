"""asyncapi.yaml and docs/protocol.md agree with the protocol package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from protocol import PAYLOAD_TYPES, Channel, ProtocolError, Topics, decode, encode

ROOT = Path(__file__).resolve().parents[2]
DOC = yaml.safe_load((ROOT / "protocol" / "asyncapi.yaml").read_text())
MESSAGES = DOC["components"]["messages"]
CHANNEL_BY_ADDRESS = {c["address"]: name for name, c in DOC["channels"].items()}


def _channel_of(message_name: str) -> Channel:
    for ch in Channel:
        if "".join(p.capitalize() for p in ch.value.replace("/", "_").split("_")) == message_name:
            return ch
    raise AssertionError(f"asyncapi message {message_name} matches no protocol channel")


def test_document_is_asyncapi_3_and_covers_every_channel():
    assert DOC["asyncapi"].startswith("3.")
    assert {_channel_of(n) for n in MESSAGES} == set(PAYLOAD_TYPES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_example_decodes_and_re_encodes_identically(name: str):
    ch = _channel_of(name)
    examples = MESSAGES[name]["examples"]
    assert examples, f"{name} has no example"
    import msgspec

    for ex in examples:
        raw = msgspec.json.encode(ex["payload"])
        msg = decode(ch, raw)
        again = msgspec.json.decode(encode(msg))
        assert decode(ch, encode(msg)) == msg
        # Re-encoding keeps every scalar field the example spells out (nested containers
        # may gain their defaults, which the typed equality above already covers).
        for key, value in ex["payload"].items():
            if not isinstance(value, list | dict):
                assert again.get(key, value) == value, key


@pytest.mark.parametrize("address,name", sorted(CHANNEL_BY_ADDRESS.items()))
def test_every_address_is_what_topics_builds(address: str, name: str):
    t = Topics()
    ch = _channel_of(name)
    concrete = address.replace("{dev}", "cam-1").replace("{unit}", "car-1")
    assert t.parse(concrete).channel == ch


def test_example_with_a_broken_field_is_refused():
    ex = dict(MESSAGES["Event"]["examples"][0]["payload"])
    ex["k"] = "face_match"  # not an event kind, and never will be
    import msgspec

    with pytest.raises(ProtocolError, match="k"):
        decode(Channel.EVENT, msgspec.json.encode(ex))


def test_generated_files_are_current():
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protocol_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stdout + res.stderr
