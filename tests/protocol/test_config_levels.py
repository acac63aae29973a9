"""Config schema levels: a board on today's firmware (level 1) accepts what the centre
renders for it; level 2 carries masks; ``state.cfgv`` is optional telemetry."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import (
    CONFIG_LEVEL,
    Channel,
    Config,
    ConfigV2,
    ConfigV3,
    Mask,
    Masks,
    ModelRef,
    ProtocolError,
    State,
    Zone,
    config_model,
    decode,
    encode,
    render_config,
)
from tests.harness import firmware_v1_messages as v1

#: Exactly the decoder a level-1 board runs on its config topic.
V1_BOARD = msgspec.json.Decoder(v1.Config | v1._V0)

SQUARE = [(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)]
FULL = ConfigV2(
    rev=12,
    thresholds={"person": 0.5, "vehicle": 0.35},
    zones=[Zone(name="gate", rule="intrusion", points=SQUARE, schedule="night")],
    schedules={"night": []},
    masks=Masks(
        privacy=[Mask(name="window", points=SQUARE)],
        motion=[Mask(name="tree", points=SQUARE)],
        object=[Mask(name="poster", points=SQUARE)],
    ),
)


@pytest.mark.parametrize("level", [None, 1])
def test_a_level_1_board_accepts_what_the_centre_renders_for_it(level):
    wire = encode(render_config(FULL, level))
    got = V1_BOARD.decode(wire)
    assert isinstance(got, v1.Config)
    assert got.rev == 12 and got.thresholds == {"person": 0.5, "vehicle": 0.35}
    assert [z.name for z in got.zones] == ["gate"]
    assert b"masks" not in wire and msgspec.json.decode(wire)["v"] == 1


def test_a_level_1_board_would_reject_a_level_2_config():
    with pytest.raises(msgspec.ValidationError):
        V1_BOARD.decode(encode(render_config(FULL, 2)))


def test_level_2_keeps_the_masks_and_round_trips():
    wire = encode(render_config(FULL, 2))
    got = decode(Channel.CONFIG, wire)
    assert isinstance(got, ConfigV2) and got == FULL and got.v == 2
    # A future level is rendered at the highest this build speaks (level 3: no model named).
    future = decode(Channel.CONFIG, encode(render_config(FULL, 7)))
    assert future.v == CONFIG_LEVEL == 3 and future.masks == FULL.masks and future.model is None


def test_level_3_adds_the_model_and_level_2_never_sees_it():
    ref = ModelRef(name="m.onnx", kind="nanodet", sha256="a" * 64, size=10, url="/m/m.onnx")
    v3 = decode(Channel.CONFIG, encode(render_config(FULL, 3, ref)))
    assert isinstance(v3, ConfigV3) and v3.model == ref and config_model(v3) == ref
    # Rendered for a level-2 board: its own v: 2 decoder accepts it; no model on the wire.
    v2_board = msgspec.json.Decoder(Config | ConfigV2)
    wire = encode(render_config(v3, 2))
    assert v2_board.decode(wire) == FULL and b"model" not in wire
    assert config_model(FULL) is None


def test_level_1_config_still_decodes_as_before():
    got = decode(Channel.CONFIG, b'{"v":1,"rev":3}')
    assert type(got) is Config and got.rev == 3


@pytest.mark.parametrize(
    "masks",
    [
        {"privacy": [{"name": "a", "points": [[0, 0], [1, 0]]}]},  # not a polygon
        {"privacy": [{"name": "a", "points": [[0, 0], [1, 0], [1, 2]]}]},  # off the frame
        {"blur": []},  # unknown kind
    ],
)
def test_bad_masks_are_rejected(masks):
    with pytest.raises(ProtocolError):
        decode(Channel.CONFIG, msgspec.json.encode({"v": 2, "rev": 1, "masks": masks}))


def test_state_config_level_is_optional_telemetry():
    assert decode(Channel.STATE, b'{"v":1,"st":"online"}').config_level is None
    st = State(status="online", config_rev=4, config_level=2)
    wire = encode(st)
    assert msgspec.json.decode(wire)["cfgv"] == 2 and decode(Channel.STATE, wire) == st
    # A centre on the level-1 schema ignores the new field (telemetry is tolerant).
    old = msgspec.json.decode(wire, type=v1.State | v1._V0)
    assert old.config_rev == 4


_unit = st.floats(0, 1, allow_nan=False)
_names = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
_polys = st.lists(st.tuples(_unit, _unit), min_size=3, max_size=8)
_masks = st.lists(
    st.builds(Mask, name=_names, points=_polys), max_size=3, unique_by=lambda m: m.name
)
_configs = st.builds(
    ConfigV2,
    rev=st.integers(0, 10**6),
    thresholds=st.dictionaries(st.sampled_from(["person", "vehicle"]), _unit),
    zones=st.lists(
        st.builds(Zone, name=_names, rule=st.just("intrusion"), points=_polys),
        max_size=3,
        unique_by=lambda z: z.name,
    ),
    masks=st.builds(Masks, privacy=_masks, motion=_masks, object=_masks),
)


@given(_configs, st.none() | st.integers(1, 5))
def test_every_rendered_config_round_trips_and_level_1_accepts_its_own(cfg, level):
    wire = encode(render_config(cfg, level))
    got = decode(Channel.CONFIG, wire)
    if (level or 1) >= 3:
        assert got.v == 3 and render_config(got, 2) == cfg
    elif (level or 1) == 2:
        assert got == cfg
    else:
        old = V1_BOARD.decode(wire)
        assert type(got) is Config and msgspec.to_builtins(old) == msgspec.to_builtins(got)
        assert msgspec.structs.replace(cfg, masks=Masks()) == render_config(got, 2)
