"""Payload schemas of every message in the contract (schema version 1; config also 2, 3).

Wire names are short (``k``, ``c``, ``trk``…) because a camera board sends thousands of
events a day over metered links; the Python attribute names stay readable. Board→centre
telemetry tolerates unknown fields (newer firmware may add some); centre→board config is
strict, so a typo in a pushed config is rejected instead of silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, field

SCHEMA_VERSION = 1
#: Highest config schema level this build understands. Level 1 is the original
#: :class:`Config`; level 2 (:class:`ConfigV2`, ``v: 2``) adds masks; level 3
#: (:class:`ConfigV3`, ``v: 3``) adds the detection model the centre serves. A board
#: declares its level on ``state.cfgv`` (absent = 1) and the centre sends it nothing above
#: that level.
CONFIG_LEVEL = 3

Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
# UUIDv7 in its 32-hex "simple" form: time-sortable, and 4 bytes shorter than the dashed form.
Uuid7 = Annotated[str, Meta(pattern=r"^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$")]
UnixMs = Annotated[int, Meta(ge=0, le=32503680000000)]  # up to year 3000
Unit01 = Annotated[float, Meta(ge=0.0, le=1.0)]
Label = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,23}$")]
ShortText = Annotated[str, Meta(max_length=200)]
Text = Annotated[str, Meta(max_length=2000)]
Lat = Annotated[float, Meta(ge=-90.0, le=90.0)]
Lon = Annotated[float, Meta(ge=-180.0, le=180.0)]
Count = Annotated[int, Meta(ge=0, le=2**53)]
Permille = Annotated[int, Meta(ge=0, le=1000)]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
# Boxes (`b`) travel as integer thousandths of the frame (x1, y1, x2, y2): exact, and ~8 bytes
# shorter than 3-decimal floats; :func:`box_to_permille` / :func:`box_from_permille` convert.
Box = tuple[Permille, Permille, Permille, Permille]

EventKind = Literal["presence", "intrusion", "loitering", "crowd", "line_crossing"]
Phase = Literal["start", "update", "end"]
#: What kind of vehicle a ``vehicle`` event saw (COCO's road classes); persons have none.
VehicleSubtype = Literal["bicycle", "car", "motorcycle", "bus", "truck"]
UnitStatus = Literal["available", "dispatched", "en_route", "on_scene", "busy", "off_duty"]
AckStatus = Literal["accepted", "declined", "en_route", "on_scene", "cleared"]


class _Msg(
    msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True, tag_field="v", tag=SCHEMA_VERSION
):
    """Base of every top-level payload: ``v`` (the schema version) is always on the wire."""

    @property
    def v(self) -> int:
        """The schema version this message was encoded with."""
        return SCHEMA_VERSION


def box_to_permille(box: tuple[float, float, float, float]) -> Box:
    """Convert a normalised (0..1) x1,y1,x2,y2 box to the wire's integer thousandths."""
    a, b, c, d = (min(1000, max(0, round(v * 1000))) for v in box)
    return (a, b, c, d)


def box_from_permille(box: Box) -> tuple[float, float, float, float]:
    """Convert a wire box back to normalised floats."""
    return (box[0] / 1000, box[1] / 1000, box[2] / 1000, box[3] / 1000)


class _V0(msgspec.Struct, tag_field="v", tag=0):
    """Sentinel in decode unions: makes msgspec require the ``v`` field on the wire."""


class Event(_Msg, frozen=True):
    """One detection event from a board: *what* happened where, never *who*."""

    id: Uuid7
    seq: Count
    ts: UnixMs
    dev: Id
    kind: EventKind = field(name="k")
    phase: Phase = field(name="ph")
    label: Label = field(name="l")
    conf: Unit01 = field(name="c")
    track: Count = field(name="t")
    box: Box = field(name="b")
    zone: Id | None = field(default=None, name="z")
    count: Annotated[int, Meta(ge=0, le=100000)] | None = field(default=None, name="n")
    direction: Literal["in", "out"] | None = field(default=None, name="dir")
    dwell_s: Annotated[float, Meta(ge=0.0, le=864000.0)] | None = field(default=None, name="dw")
    #: Optional and left off the wire when empty: older boards never send it and older
    #: centres ignore it (telemetry tolerates unknown fields), so no version bump.
    subtype: VehicleSubtype | None = field(default=None, name="sub")

    def rounded(self) -> Event:
        """Copy with confidence rounded to 3 decimals (keeps the wire form small)."""
        return msgspec.structs.replace(
            self,
            conf=round(self.conf, 3),
            dwell_s=None if self.dwell_s is None else round(self.dwell_s, 1),
        )


class State(_Msg, frozen=True):
    """Retained board state; also the Last Will with ``status="offline"``."""

    status: Literal["online", "offline"] = field(name="st")
    ts: UnixMs | None = None
    firmware: ShortText | None = field(default=None, name="fw")
    model: ShortText | None = None
    profile: Id | None = field(default=None, name="prof")
    config_rev: Count | None = field(default=None, name="cfg")
    config_error: Text | None = field(default=None, name="err")
    #: Highest config schema level the firmware applies (:data:`CONFIG_LEVEL`). Optional
    #: telemetry (no version bump): older firmware leaves it out, which means level 1.
    config_level: Annotated[int, Meta(ge=1, le=1000)] | None = field(default=None, name="cfgv")
    #: The detector backend the firmware runs (``nanodet``, ``ssd_oid`` …), so the centre
    #: names a model of that kind; and the SHA-256 of the model file it runs, and why the
    #: last model the centre named was not taken (download failed, checksum mismatch,
    #: does not load). Optional telemetry: older firmware leaves them out.
    detector: Label | None = field(default=None, name="det")
    model_sha256: Sha256 | None = field(default=None, name="msha")
    model_error: Annotated[str, Meta(max_length=500)] | None = field(default=None, name="merr")


class Health(_Msg, frozen=True):
    """Periodic board health (QoS 0)."""

    ts: UnixMs
    fps: Annotated[float, Meta(ge=0.0, le=1000.0)]
    inference_ms: Annotated[float, Meta(ge=0.0, le=600000.0)] = field(name="inf")
    motion: Unit01 = 0.0
    spool: Count = 0
    drops: Count = 0
    outages: Count = 0
    source_ok: bool = field(default=True, name="src")
    temp_c: Annotated[float, Meta(ge=-60.0, le=150.0)] | None = field(default=None, name="temp")
    uptime_s: Count | None = field(default=None, name="up")
    cpu: Unit01 | None = None
    #: Lowest sequence number the board still holds (its next number when the spool is
    #: empty). Every number below it was either confirmed committed or dropped at the
    #: spool's bound, so the centre never waits for it. Boards that keep events until the
    #: centre's :class:`Committed` watermark send it; older firmware leaves it out.
    spool_first: Count | None = field(default=None, name="sf")


class Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A weekly time window; days are 0=Monday..6=Sunday, times ``HH:MM`` local."""

    days: Annotated[list[Annotated[int, Meta(ge=0, le=6)]], Meta(min_length=1, max_length=7)]
    start: Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    end: Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]


Point = tuple[Unit01, Unit01]


class Zone(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """A rule zone in normalised image coordinates (0..1, origin top-left)."""

    name: Id
    rule: Literal["intrusion", "loitering", "crowd", "line_crossing"]
    points: Annotated[list[Point], Meta(min_length=2, max_length=64)]
    labels: Annotated[list[Label], Meta(max_length=16)] = field(default_factory=lambda: ["person"])
    schedule: Id | None = None
    dwell_s: Annotated[float, Meta(ge=1.0, le=86400.0)] | None = None
    min_count: Annotated[int, Meta(ge=2, le=10000)] | None = None
    direction: Literal["in", "out", "both"] | None = None
    min_score: Unit01 | None = None


class Config(_Msg, frozen=True, forbid_unknown_fields=True):
    """Retained centre→board config: thresholds, zones and schedules (strict)."""

    rev: Count
    min_score: Unit01 = 0.5
    thresholds: Annotated[dict[Label, Unit01], Meta(max_length=64)] = {}
    zones: Annotated[list[Zone], Meta(max_length=32)] = []
    schedules: Annotated[
        dict[Id, Annotated[list[Window], Meta(max_length=32)]], Meta(max_length=32)
    ] = {}
    health_interval_s: Annotated[int, Meta(ge=5, le=3600)] = 30


class Mask(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """A named polygon in normalised image coordinates (0..1, origin top-left)."""

    name: Id
    points: Annotated[list[Point], Meta(min_length=3, max_length=64)]


MaskList = Annotated[list[Mask], Meta(max_length=16)]


class Masks(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """Image areas the board treats specially (as Frigate separates its three kinds).

    ``privacy``: blanked in the frame before detection and before any snapshot (burned in);
    ``motion``: ignored by the motion gate (trees, traffic lights); ``object``: a detection
    whose foot point falls inside is dropped (a poster, a parked-car row).
    """

    privacy: MaskList = []
    motion: MaskList = []
    object: MaskList = []

    def empty(self) -> bool:
        """True when no mask of any kind is set."""
        return not (self.privacy or self.motion or self.object)


class ConfigV2(Config, frozen=True, forbid_unknown_fields=True, tag=2):
    """Config schema level 2: level 1 plus :class:`Masks`.

    Sent only to boards whose ``state.cfgv`` is at least 2: a level-1 board's strict
    decoder would reject the ``v: 2`` tag and the ``masks`` field (compatibility rule 2).
    """

    masks: Masks = Masks()

    @property
    def v(self) -> int:
        """The config schema level this message was encoded with."""
        return 2


class ModelRef(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A converted, pinned detection model the centre serves to boards.

    ``url`` is the path on the centre (resolved against the address the board enrolled
    with); the board downloads it with a request signed by its own key and takes the file
    only if it is ``size`` bytes with this ``sha256``.
    """

    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    kind: Label
    sha256: Sha256
    size: Annotated[int, Meta(ge=1, le=2_000_000_000)]
    url: Annotated[str, Meta(pattern=r"^/[A-Za-z0-9/._-]{1,300}$")]


class ConfigV3(ConfigV2, frozen=True, forbid_unknown_fields=True, tag=3):
    """Config schema level 3: level 2 plus the model the board should run (``model``).

    Sent only to boards whose ``state.cfgv`` is at least 3; a level-2 board gets the same
    config as :class:`ConfigV2` without the model and keeps the model it has.
    """

    model: ModelRef | None = None

    @property
    def v(self) -> int:
        """The config schema level this message was encoded with."""
        return 3


def config_masks(cfg: Config) -> Masks:
    """The masks of a config of any level (a level-1 config has none)."""
    return cfg.masks if isinstance(cfg, ConfigV2) else Masks()


def config_model(cfg: Config) -> ModelRef | None:
    """The model a config names (configs below level 3 name none)."""
    return cfg.model if isinstance(cfg, ConfigV3) else None


def render_config(cfg: Config, level: int | None, model: ModelRef | None = None) -> Config:
    """``cfg`` as a board declaring config level ``level`` understands it (None = 1).

    Level 1 drops the masks and level 2 the model: a board on older firmware would reject
    the whole config otherwise. ``model`` (else the one ``cfg`` names) goes to level-3
    boards. The result never exceeds :data:`CONFIG_LEVEL`.
    """
    fields = {f: getattr(cfg, f) for f in Config.__struct_fields__}
    lvl = level or 1
    if lvl >= 3:
        return ConfigV3(**fields, masks=config_masks(cfg), model=model or config_model(cfg))
    if lvl >= 2:
        return ConfigV2(**fields, masks=config_masks(cfg))
    return Config(**fields)


#: What a board signs to download a model: this prefix, then device id, file name and the
#: request's unix time, one per line (a signature proves the key; the time bounds replay).
MODEL_REQUEST_CONTEXT = b"citywatch-model-download-v1\n"


def model_request_message(device_id: str, name: str, unix_s: int) -> bytes:
    """The bytes a board signs with its key to download the model ``name``."""
    return MODEL_REQUEST_CONTEXT + f"{device_id}\n{name}\n{unix_s}".encode()


class SnapshotRequest(_Msg, frozen=True):
    """Centre asks a board for one JPEG (snapshots are on demand only)."""

    req: Uuid7
    ts: UnixMs
    event: Uuid7 | None = None
    #: The camera's current view (a fresh frame, privacy masks burned in) rather than an
    #: event's kept frame; for drawing its rules. Optional (no version bump): a board on
    #: older firmware ignores it and answers with its latest kept event frame, or none.
    live: bool = False


class SnapshotResponse(_Msg, frozen=True):
    """A board's answer: base64 JPEG of the event frame, or an error."""

    req: Uuid7
    ts: UnixMs
    event: Uuid7 | None = None
    ok: bool = True
    mime: Literal["image/jpeg"] = "image/jpeg"
    width: Annotated[int, Meta(ge=1, le=8192)] | None = field(default=None, name="w")
    height: Annotated[int, Meta(ge=1, le=8192)] | None = field(default=None, name="h")
    data: Annotated[str, Meta(max_length=1_400_000)] | None = None
    error: ShortText | None = field(default=None, name="err")


class Committed(_Msg, frozen=True):
    """Centre→board: every event of this board up to ``seq`` is committed at the centre.

    The highest *contiguous* committed sequence number (numbers the board declared
    dropped count as done). The board deletes spooled events only up to it: a broker's
    PUBACK is not enough, because a broker can acknowledge and then crash.
    """

    seq: Count
    ts: UnixMs


class UnitPosition(_Msg, frozen=True):
    """A patrol unit's position report (QoS 0)."""

    ts: UnixMs
    lat: Lat
    lon: Lon
    speed: Annotated[float, Meta(ge=0.0, le=100.0)] = field(default=0.0, name="spd")
    heading: Annotated[float, Meta(ge=0.0, lt=360.0)] | None = field(default=None, name="hdg")
    status: UnitStatus = field(default="available", name="st")
    accuracy_m: Annotated[float, Meta(ge=0.0, le=10000.0)] | None = field(default=None, name="acc")


class Dispatch(_Msg, frozen=True):
    """Centre→unit dispatch order."""

    id: Uuid7
    ts: UnixMs
    incident: Annotated[str, Meta(min_length=1, max_length=64)] = field(name="inc")
    kind: EventKind = field(name="k")
    priority: Annotated[int, Meta(ge=1, le=5)] = field(name="pri")
    lat: Lat
    lon: Lon
    eta_s: Annotated[float, Meta(ge=0.0, le=86400.0)] | None = field(default=None, name="eta")
    note: Text | None = None


class Ack(_Msg, frozen=True):
    """Unit→centre acknowledgement of an order, and its status changes."""

    order: Uuid7
    ts: UnixMs
    status: AckStatus = field(name="st")
    note: Text | None = None


class CapParameter(msgspec.Struct, frozen=True):
    """A CAP 1.2 ``parameter`` (valueName/value pair)."""

    valueName: ShortText  # noqa: N815 (CAP 1.2 element names)
    value: Text


class CapInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A CAP 1.2 ``info`` block."""

    language: ShortText = "zh-CN"
    category: list[
        Literal[
            "Geo",
            "Met",
            "Safety",
            "Security",
            "Rescue",
            "Fire",
            "Health",
            "Env",
            "Transport",
            "Infra",
            "CBRNE",
            "Other",
        ]
    ]
    event: ShortText
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
    senderName: ShortText | None = None  # noqa: N815
    headline: ShortText | None = None
    description: Text | None = None
    instruction: Text | None = None
    effective: ShortText | None = None
    expires: ShortText | None = None
    parameter: Annotated[list[CapParameter], Meta(max_length=64)] = []


class CapAlert(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A CAP 1.2 alert in its JSON form (element names as in the standard)."""

    identifier: ShortText
    sender: ShortText
    sent: ShortText
    status: Literal["Actual", "Exercise", "System", "Test", "Draft"]
    msgType: Literal["Alert", "Update", "Cancel", "Ack", "Error"]  # noqa: N815
    scope: Literal["Public", "Restricted", "Private"]
    references: Text | None = None
    info: Annotated[list[CapInfo], Meta(min_length=1, max_length=8)]


class WarningBoard(_Msg, frozen=True):
    """Retained list of currently published fraud warnings for market displays."""

    ts: UnixMs
    alerts: Annotated[list[CapAlert], Meta(max_length=2000)]


Message = (
    Event
    | State
    | Health
    | Config
    | SnapshotRequest
    | SnapshotResponse
    | Committed
    | UnitPosition
    | Dispatch
    | Ack
    | WarningBoard
)
