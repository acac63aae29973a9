"""The agent's YAML config: pydantic models (extra=forbid) and errors with file:line.

The ``rules`` section is the protocol's :class:`protocol.Config` (the same schema the
centre pushes as retained config), so thresholds and zones are defined once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from protocol import Channel, Topics
from protocol.codec import from_builtins
from protocol.errors import ProtocolError
from protocol.ids import is_valid_id
from protocol.messages import Config

from .decode import DEFAULT_THRESHOLDS
from .rules import validate_rules


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(_Strict):
    """Client TLS material issued at provisioning (the key never leaves the board)."""

    ca: Path = Field(description="CA bundle that signed the broker's certificate")
    cert: Path = Field(description="this board's certificate (CN = device id)")
    key: Path = Field(description="this board's private key")


class BrokerSection(_Strict):
    """Where and how to reach the MQTT broker."""

    host: str = Field("127.0.0.1", description="broker host name or address")
    port: int = Field(8883, ge=1, le=65535, description="broker port (8883 = MQTT over TLS)")
    tls: TlsConfig | None = Field(None, description="mutual TLS; required outside dev mode")
    topic_root: str = Field("cw/v1", description="topic root shared with the centre")
    keepalive_s: int = Field(30, ge=5, le=600, description="MQTT keepalive")
    inflight: int = Field(64, ge=1, le=1000, description="events published but not yet acked")


class SourceSection(_Strict):
    """The frame source; the kind decides which other fields matter."""

    kind: Literal["picamera2", "opencv", "replay", "synthetic"] = Field(
        description="picamera2 (Pi camera), opencv (V4L2/USB index, RTSP URL, video file), "
        "replay (video file or image folder at fps, looping), synthetic (test scene)"
    )
    uri: str | None = Field(None, description="opencv: device index, rtsp:// URL or file path")
    path: Path | None = Field(None, description="replay: video file or image folder")
    fps: float = Field(10.0, gt=0, le=120, description="frames per second to process")
    width: int = Field(640, ge=64, le=4096, description="capture width (pixels)")
    height: int = Field(480, ge=64, le=4096, description="capture height (pixels)")
    loop: bool = Field(True, description="replay/synthetic: start again at the end")
    people: int = Field(2, ge=0, le=8, description="synthetic: people walking through")
    seed: int = Field(1, description="synthetic: scene seed (same seed, same scene)")
    realtime: bool = Field(True, description="pace frames at fps (off: as fast as possible)")
    recorded_at: dt.datetime | None = Field(
        None,
        description="replay: local time the footage's first frame was filmed; the rules' "
        "schedules then judge each frame at that time plus its offset (empty: now)",
    )
    reopen_min_s: float = Field(0.5, gt=0, description="first reopen delay after a failure")
    reopen_max_s: float = Field(30.0, gt=0, description="longest reopen delay (backoff cap)")

    @model_validator(mode="after")
    def _needs(self) -> SourceSection:
        if self.kind == "opencv" and not self.uri:
            raise ValueError("source.uri is required for kind 'opencv'")
        if self.kind == "replay" and self.path is None:
            raise ValueError("source.path is required for kind 'replay'")
        if self.recorded_at is not None and self.kind != "replay":
            raise ValueError("source.recorded_at is only for kind 'replay' (recorded footage)")
        return self


class MotionSection(_Strict):
    """Motion gate: only frames with motion (or tracks to re-check) reach the detector."""

    enabled: bool = Field(True, description="off = detect every frame")
    width: int = Field(160, ge=16, le=1024, description="downscaled width for differencing")
    pixel_threshold: int = Field(
        18, ge=1, le=255, description="grey-level change that counts as motion"
    )
    min_area: float = Field(
        0.002, gt=0, le=1, description="fraction of pixels that must change to count as motion"
    )
    background_alpha: float = Field(
        0.08, gt=0, le=1, description="running-average speed of the background model"
    )
    recheck_s: float = Field(
        1.0, gt=0, le=60, description="re-run the detector this often while tracks are still"
    )


DetectorKind = Literal["nanodet", "centernet", "ssd_oid", "pose", "ssd"]
ClassName = Literal["person", "bicycle", "car", "motorcycle", "bus", "truck"]
ONNX_KINDS = ("nanodet", "centernet")
LITERT_KINDS = ("ssd_oid", "pose", "ssd")


class DetectorSection(_Strict):
    """Model and runtime."""

    kind: DetectorKind = Field(
        "nanodet",
        description="nanodet = general person/vehicle detector (default, onnxruntime); "
        "ssd_oid = lighter MediaPipe SSD on LiteRT (Pi 4-class boards); centernet = second "
        "general detector (onnxruntime); pose = old close-range person model; ssd = any SSD "
        "with the detection post-process op (e.g. compiled for the Coral EdgeTPU)",
    )
    model: Path | None = Field(
        None, description="model file; empty = the fetched model of this kind in the cache"
    )
    labels: Path | None = Field(None, description="ssd: label file (one name per line)")
    threads: int = Field(2, ge=1, le=16, description="CPU threads for inference")
    edgetpu: bool = Field(
        False, description="LiteRT kinds: use the Coral EdgeTPU delegate (CPU if it is missing)"
    )
    providers: list[Literal["tensorrt", "cuda", "cpu"]] = Field(
        default_factory=lambda: ["cpu"],  # type: ignore[arg-type]
        min_length=1,
        description="nanodet/centernet: onnxruntime providers in order of preference "
        "(Jetson: tensorrt, cuda, cpu); unavailable ones fall back to the CPU",
    )
    min_score: float = Field(
        0.6,
        ge=0,
        le=1,
        description="score threshold of pose/ssd, and of a class missing from thresholds",
    )
    thresholds: dict[ClassName, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS),  # type: ignore[arg-type]
        description="nanodet/centernet/ssd_oid: score threshold per class (person, bicycle, "
        "car, motorcycle, bus, truck); other classes are never reported",
    )
    iou_threshold: float | None = Field(
        None, gt=0, le=1, description="NMS overlap threshold (empty: 0.3 pose, 0.5 others)"
    )

    def class_thresholds(self) -> dict[str, float]:
        """The per-class thresholds as a plain mapping."""
        return {str(k): float(v) for k, v in self.thresholds.items()}

    @model_validator(mode="after")
    def _fits_kind(self) -> DetectorSection:
        if self.edgetpu and self.kind not in LITERT_KINDS:
            raise ValueError(f"detector.edgetpu needs a LiteRT kind ({', '.join(LITERT_KINDS)})")
        if self.providers != ["cpu"] and self.kind not in ONNX_KINDS:
            raise ValueError(f"detector.providers applies to {', '.join(ONNX_KINDS)} only")
        if self.labels is not None and self.kind != "ssd":
            raise ValueError("detector.labels applies to kind 'ssd' only")
        return self


class TrackerSection(_Strict):
    """SORT tracker settings."""

    iou_threshold: float = Field(0.2, gt=0, le=1, description="min IoU to continue a track")
    max_age_s: float = Field(2.5, gt=0, le=60, description="end a track unseen this long")
    min_hits: int = Field(2, ge=1, le=30, description="detections before a track is reported")


class SpoolSection(_Strict):
    """The store-and-forward spool (SQLite on the board)."""

    path: Path = Field(Path("var/spool.db"), description="spool database file")
    max_events: int = Field(
        259_200, ge=10, description="bound: 72 h at 1 event/s; oldest dropped past it"
    )
    max_bytes: int = Field(256 * 1024 * 1024, ge=65_536, description="bound on the file size")


class SnapshotSection(_Strict):
    """Event snapshots kept on the board until the centre asks (never streamed)."""

    ring: int = Field(32, ge=0, le=1024, description="JPEGs kept (0 = snapshots off)")
    quality: int = Field(70, ge=10, le=95, description="JPEG quality")
    max_width: int = Field(640, ge=64, le=4096, description="downscale wider frames to this")


class CentreSection(_Strict):
    """Where the board gets the models the centre serves (written at enrolment)."""

    url: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+$",
        description="the centre's address (as enrolled); empty = never download models",
    )
    models_dir: Path = Field(
        Path("models"), description="store of downloaded, verified models (active.json)"
    )
    ca: Path | None = Field(
        None, description="CA to trust for an https centre (default: the broker's CA)"
    )
    download_timeout_s: float = Field(120.0, gt=0, le=3600, description="per model download")


class AgentConfig(_Strict):
    """One board's agent configuration (provisioning/firmware_configs/ holds one per board profile)."""

    device_id: str = Field(description="device id = certificate CN = MQTT username")
    profile: str = Field(
        "generic", description="board profile name (provisioning/firmware_configs/)"
    )
    broker: BrokerSection = Field(default_factory=BrokerSection)  # type: ignore[arg-type]
    source: SourceSection
    motion: MotionSection = Field(default_factory=MotionSection)  # type: ignore[arg-type]
    detector: DetectorSection = Field(default_factory=DetectorSection)  # type: ignore[arg-type]
    tracker: TrackerSection = Field(default_factory=TrackerSection)  # type: ignore[arg-type]
    spool: SpoolSection = Field(default_factory=SpoolSection)  # type: ignore[arg-type]
    snapshots: SnapshotSection = Field(default_factory=SnapshotSection)  # type: ignore[arg-type]
    centre: CentreSection = Field(default_factory=CentreSection)  # type: ignore[arg-type]
    report_presence: bool = Field(True, description="report people outside any zone too")
    health_interval_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        30.0, description="seconds between health messages (the centre's config overrides)"
    )
    rules: dict[str, Any] = Field(
        default_factory=lambda: {"rev": 0},
        description="initial rules (protocol Config without 'v'); the centre's retained config replaces them",
    )

    @field_validator("device_id", "profile")
    @classmethod
    def _id(cls, v: str) -> str:
        if not is_valid_id(v):
            raise ValueError(f"{v!r} is not a valid id (1-64 of A-Z a-z 0-9 . _ -)")
        return v

    @field_validator("rules")
    @classmethod
    def _rules(cls, v: dict[str, Any]) -> dict[str, Any]:
        parse_rules(v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> AgentConfig:
        if self.tracker.max_age_s <= self.motion.recheck_s:
            raise ValueError(
                "tracker.max_age_s must exceed motion.recheck_s, or still people would "
                "be ended between re-checks"
            )
        Topics(self.broker.topic_root)
        return self

    def rules_config(self) -> Config:
        """The initial rules as a protocol Config."""
        return parse_rules(self.rules)

    def model_path(self) -> Path:
        """The model file to load: the centre's verified model of the detector kind when the
        store holds one, else the configured file, else the fetched model in the cache."""
        from .model_update import active_model

        served = active_model(self.centre.models_dir, self.detector.kind)
        if served is not None:
            return served[0]
        if self.detector.model is not None:
            return self.detector.model
        from .models import model_path

        return model_path(self.detector.kind)


def parse_rules(obj: object) -> Config:
    """Validate a rules mapping as a protocol Config plus the semantic rule checks."""
    if not isinstance(obj, dict):
        raise ValueError("rules must be a mapping")
    try:
        # Rules with masks are a level-2 config; without, the level-1 form as before.
        level = 2 if "masks" in obj else 1
        cfg: Config = from_builtins(Channel.CONFIG, {"v": level, **obj})
    except ProtocolError as exc:
        raise ValueError(str(exc).removeprefix("config: ")) from None
    errors = validate_rules(cfg)
    if errors:
        raise ValueError("; ".join(errors))
    return cfg


class ConfigError(Exception):
    """A config file could not be used; ``problems`` are ``file:line: message`` strings."""

    def __init__(self, problems: list[str]) -> None:
        """Keep every problem so a technician fixes them in one go."""
        super().__init__("\n".join(problems))
        self.problems = problems


def _line_index(node: yaml.Node, path: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest node along ``path`` in a composed YAML tree."""
    line = node.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                    nxt, line = v, k.start_mark.line + 1
                    break
            if nxt is None:
                return line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_MSGSPEC_PATH = re.compile(r"at `\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)`")


def _rules_subpath(message: str) -> tuple[Any, ...]:
    m = _MSGSPEC_PATH.search(message)
    if not m:
        return ()
    parts: list[Any] = []
    for tok in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", m.group(1)):
        parts.append(tok[0] if tok[0] else int(tok[1]))
    return tuple(parts)


def load_config(path: Path | str) -> AgentConfig:
    """Read and validate a config file, raising ConfigError with file:line problems."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}: malformed YAML: {problem}"]) from None
    if not isinstance(data, dict) or root is None:
        raise ConfigError([f"{path}:1: the config must be a YAML mapping"])
    data = _expand_env(data)
    try:
        cfg = AgentConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if loc and loc[0] == "rules":
                loc = loc[:1] + _rules_subpath(msg)
            line = _line_index(root, loc)
            field = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{path}:{line}: {field}: {msg}")
        raise ConfigError(problems) from None
    return _resolve_paths(cfg, path.parent)


def _expand_env(obj: Any) -> Any:
    """``${VAR}`` in string values comes from the environment (secrets stay out of files)."""
    if isinstance(obj, dict):
        return {k: _expand_env(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_expand_env(v) for v in obj]
    if isinstance(obj, str) and "${" in obj:
        return os.path.expandvars(obj)
    return obj


def _resolve_paths(cfg: AgentConfig, base: Path) -> AgentConfig:
    """Relative paths in a config file are relative to that file's folder."""

    def fix(p: Path | None) -> Path | None:
        return None if p is None or p.is_absolute() else base / p

    updates: dict[str, Any] = {}
    if cfg.broker.tls is not None:
        tls = cfg.broker.tls
        updates["broker"] = cfg.broker.model_copy(
            update={
                "tls": tls.model_copy(
                    update={
                        k: fix(getattr(tls, k)) or getattr(tls, k) for k in ("ca", "cert", "key")
                    }
                )
            }
        )
    updates["spool"] = cfg.spool.model_copy(update={"path": fix(cfg.spool.path) or cfg.spool.path})
    det = {k: fix(getattr(cfg.detector, k)) for k in ("model", "labels")}
    updates["detector"] = cfg.detector.model_copy(
        update={k: v or getattr(cfg.detector, k) for k, v in det.items()}
    )
    updates["centre"] = cfg.centre.model_copy(
        update={
            "models_dir": fix(cfg.centre.models_dir) or cfg.centre.models_dir,
            "ca": fix(cfg.centre.ca) or cfg.centre.ca,
        }
    )
    if cfg.source.path is not None:
        path = fix(cfg.source.path) or cfg.source.path  # an absolute path stays as it is
        updates["source"] = cfg.source.model_copy(update={"path": path})
    return cfg.model_copy(update=updates)


def config_to_yaml(obj: dict[str, Any]) -> str:
    """Dump a config mapping as YAML (tests and the demo write configs with this)."""
    return yaml.safe_dump(msgspec.to_builtins(obj), sort_keys=False)
