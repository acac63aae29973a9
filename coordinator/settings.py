"""Coordinator settings: one pydantic model, loaded from the environment or a file.

Secrets come from the environment (``CITYWATCH_SECRET_KEY``) or a file named by
``CITYWATCH_SECRET_KEY_FILE``; outside dev mode a placeholder secret refuses to start.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "dev", "test", "placeholder"}
)
DEV_SECRET = "dev-only-secret-not-for-production"


class SettingsError(ValueError):
    """Settings are missing, malformed or unsafe; the message says which and why."""


class DispatchSettings(BaseModel):
    """Timing and ranking knobs of the dispatch service (``dispatch:`` in the settings file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ack_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="No ack within this re-offers the next unit"
    )
    stale_after_s: float = Field(
        default=120.0, gt=0, description="A position older than this is stale"
    )
    stale_penalty_s: float = Field(
        default=60.0, ge=0, description="Flat ETA penalty of a stale position"
    )
    tie_s: float = Field(default=15.0, ge=0, description="Own-zone units win ties within this (s)")
    coverage_margin_s: float = Field(
        default=30.0,
        ge=0,
        description="Coverage guard: accept this much slower to keep a zone covered",
    )
    search_horizon_s: float = Field(
        default=1800.0, gt=0, description="Road search stops here; farther units get an estimate"
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Recommendations returned by default")
    required_modes: dict[str, list[Literal["foot", "ebike", "car"]]] = Field(
        default_factory=dict,
        description="Incident kind -> the travel modes that may answer it (absent: any mode)",
    )


DownKey = Literal["street", "zone", "owner_org", "owner_type"]


class AlarmSettings(BaseModel):
    """How alarms are grouped and ranked (``alarms:`` in the settings file).

    An alarm storm (many alarms of one kind close together) becomes one queue row; a wave
    of cameras going down together (one street, zone or owner) becomes one fleet alert.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_min: int = Field(
        default=5, ge=2, le=1000, description="Alarms of one kind that form a group"
    )
    group_radius_m: float = Field(
        default=300.0, gt=0, le=5000, description="Group members lie within this of its first"
    )
    group_window_s: float = Field(
        default=600.0, gt=0, le=86400, description="Group members arrive within this of each other"
    )
    down_group_min: int = Field(
        default=5, ge=2, le=100000, description="Cameras down that form one grouped fleet alert"
    )
    down_group_window_s: float = Field(
        default=300.0, gt=0, le=86400, description="Cameras going down within this are grouped"
    )
    down_group_keys: list[DownKey] = Field(
        default_factory=lambda: list[DownKey](["street", "zone", "owner_org"]),
        min_length=1,
        description="What cameras down together share, tried in order (a missing one is skipped)",
    )
    top_priority_score: float = Field(
        default=85.0, gt=0, le=200, description="Score from which an incident is priority 1"
    )
    night_start_hour: int = Field(
        default=22, ge=0, le=23, description="Local hour from which intrusions count as night"
    )
    night_end_hour: int = Field(
        default=6, ge=0, le=23, description="Local hour at which the night ends"
    )
    utc_offset_h: float = Field(
        default=8.0, ge=-12, le=14, description="The city's offset from UTC (Yiwu: +8)"
    )


class Settings(BaseModel):
    """Everything the coordinator needs to run; see docs/operators.md for each field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(
        Path("var/coordinator"), description="Folder for the SQLite file and state"
    )
    db_file: str = Field("citywatch.db", description="SQLite file name inside data_dir")
    database_url: str | None = Field(
        None,
        description="The server database as a libpq URI (postgresql://user@host:5432/citywatch; "
        "keep a password out of the settings file: CITYWATCH_DATABASE_URL_FILE, PGPASSWORD or "
        "~/.pgpass); unset: the embedded SQLite file data_dir/db_file",
    )
    models_dir: Path | None = Field(
        None,
        description="Model store served to boards (`coordinator models build` fills it); "
        "default data_dir/models",
    )
    dev_mode: bool = Field(
        False, description="Allow placeholder secrets and verbose errors (never in production)"
    )
    secret_key: str = Field(
        "", description="Key for session tokens and keyed hashes (>= 32 chars outside dev)"
    )
    data_key: str = Field(
        "", description="Key encrypting ID-document numbers at rest (>= 32 chars outside dev)"
    )
    api_host: str = Field("127.0.0.1", description="Address the HTTP API listens on")
    api_port: int = Field(
        8080, ge=0, le=65535, description="Port of the HTTP API (0 = any free port)"
    )
    token_ttl_s: int = Field(
        8 * 3600, ge=60, le=7 * 86400, description="Lifetime of a login token (one shift)"
    )
    argon2_memory_kib: int = Field(
        65536, ge=1024, le=1048576, description="argon2id memory per password hash (KiB)"
    )
    argon2_time_cost: int = Field(
        3, ge=1, le=20, description="argon2id iterations per password hash"
    )
    mqtt_host: str = Field("127.0.0.1", description="Broker host")
    mqtt_port: int = Field(1883, ge=1, le=65535, description="Broker port")
    mqtt_username: str | None = Field(
        None, description="Broker username (password from CITYWATCH_MQTT_PASSWORD)"
    )
    mqtt_password: str | None = Field(None, description="Broker password")
    mqtt_ca: Path | None = Field(None, description="CA bundle for TLS to the broker")
    mqtt_cert: Path | None = Field(None, description="Client certificate for mTLS to the broker")
    mqtt_key: Path | None = Field(None, description="Client key for mTLS to the broker")
    mqtt_client_id: str = Field("coordinator", description="MQTT client id (persistent session)")
    mqtt_shared_group: str | None = Field(
        None, description="MQTT 5 shared-subscription group for multi-worker ingest"
    )
    topic_root: str = Field("cw/v1", description="Root of the MQTT topic tree")
    raw_event_retention_days: float = Field(
        30.0, gt=0, description="Purge raw events that never became incidents after this"
    )
    snapshot_retention_hours: float = Field(
        72.0, gt=0, description="Incident snapshots expire after this"
    )
    snapshot_timeout_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="A snapshot request unanswered for this long is sent again (same request id)",
    )
    snapshot_attempts: int = Field(
        4, ge=1, le=20, description="Sends of one snapshot request before it is marked timed out"
    )
    evidence_max_frames: int = Field(
        24,
        ge=1,
        le=500,
        description="Most frames one request for an incident's frames asks the cameras for",
    )
    population_retention_days: float = Field(
        730.0,
        gt=0,
        description="Population records closed (moved out, departed, withdrawn) for longer "
        "than this are anonymised by the retention job",
    )
    population_retention_check_hours: float = Field(
        24.0, gt=0, description="How often the population retention job runs"
    )

    # --- ingest, fleet and incidents (coordinator core) ---------------------------------
    mqtt_session_expiry_s: int = Field(
        86400,
        ge=0,
        le=7 * 86400,
        description="How long the broker keeps the centre's session and queue while it is down",
    )
    mqtt_receive_maximum: int = Field(
        4000, ge=10, le=65535, description="Unacknowledged QoS 1 messages the broker may send"
    )
    ingest_batch_max: int = Field(
        2000, ge=1, le=20000, description="Most messages committed in one ingest transaction"
    )
    accept_unknown_devices: bool = Field(
        False, description="Store events of devices not in the registry (else dead-letter)"
    )
    max_clock_skew_s: float = Field(
        300.0, gt=0, description="Event timestamps further than this from arrival are flagged"
    )
    dead_letter_keep: int = Field(
        100000, ge=100, description="Most dead-letter rows kept (oldest trimmed)"
    )
    health_stale_s: float = Field(
        120.0, gt=0, description="A device with no health for this long is 'stale' (camera down)"
    )
    cert_warn_days: float = Field(
        30.0, gt=0, description="Warn about device certificates expiring within this many days"
    )
    incident_rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-kind overrides of merge/priority rules, e.g. {intrusion: {window_s: 600}}",
    )
    zone_priority: dict[str, int] = Field(
        default_factory=dict,
        description="Priority boost per zone (1 raises priority by one step; sensitive sites)",
    )
    false_alarm_min_dismissals: int = Field(
        5, ge=1, description="Dismissals before a camera/rule is considered for a threshold change"
    )
    metrics_token: str | None = Field(
        None,
        description="A scrape token: /metrics also accepts 'Authorization: Bearer <metrics_token>'",
    )
    metrics_open: bool = Field(
        False,
        description="Serve /metrics to anyone (else a user who may read events, or the token)",
    )
    dispatch: DispatchSettings = Field(
        default_factory=DispatchSettings,
        description="Dispatch timing and ranking: ack timeout, staleness, ties, coverage, top-k",
    )
    false_alarm_rate: float = Field(
        0.5, gt=0, le=1, description="False-alarm share above which a threshold raise is proposed"
    )
    alarms: AlarmSettings = Field(
        default_factory=AlarmSettings,
        description="Alarm grouping (storms, cameras down together) and the priority model",
    )

    # --- HTTP: TLS, public URL, body limits, proxies, login throttling -------------------
    tls_cert: Path | None = Field(
        None,
        description="PEM certificate chain the API serves HTTPS with "
        "(`provision ca server-cert` writes one)",
    )
    tls_key: Path | None = Field(None, description="Private key of tls_cert (mode 0600)")
    allow_plain_http: bool = Field(
        False,
        description="Serve plain HTTP (no tls_cert): on a loopback api_host only (behind a "
        "reverse proxy on the same host) or in dev mode",
    )
    public_url: str | None = Field(
        None,
        description="The address clients reach the API at (https://centre.example); absolute "
        "links (the Atom feed) use it, never the request's Host header",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose X-Forwarded-For is "
        "believed (comma-separated in the environment)",
    )
    max_body_bytes: int = Field(
        1 << 20, ge=1024, le=1 << 30, description="Largest request body of most routes (bytes)"
    )
    max_upload_bytes: int = Field(
        50 << 20,
        ge=1024,
        le=1 << 31,
        description="Largest body of the upload routes (population CSV import, GeoJSON layers)",
    )
    login_address_free: int = Field(
        20, ge=1, le=10000, description="Failed logins from one address before it is slowed"
    )
    login_user_free: int = Field(
        5, ge=1, le=100, description="Failed logins of one name from one address before backoff"
    )
    login_backoff_max_s: float = Field(
        900.0, gt=0, le=86400, description="Longest wait the login backoff imposes"
    )
    login_window_s: float = Field(
        900.0, gt=0, le=86400, description="Failures older than this are forgotten"
    )
    stream_ticket_ttl_s: float = Field(
        60.0, ge=5, le=600, description="Lifetime of a single-use live-stream ticket"
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_from_text(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, v: list[str]) -> list[str]:
        for net in v:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {net!r} is not an address or network") from None
        return v

    @field_validator("public_url")
    @classmethod
    def _public_url_is_absolute(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("public_url must look like https://centre.example[:port][/prefix]")
        return v.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgresql(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        return check_database_url(v.strip())

    @model_validator(mode="after")
    def _tls_or_plain(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        return self

    # --- audit, integrity, imports ------------------------------------------------------
    audit_key_file: Path | None = Field(
        None,
        description="Ed25519 key signing the audit log's checkpoints (default "
        "data_dir/keys/audit-signing.key, created 0600 on first start); keep it off the "
        "database's disk where you can, and give the auditor a copy of its .pub",
    )
    audit_checkpoint_s: float = Field(
        300.0, gt=0, description="How often the audit chain's head is signed (when it moved)"
    )
    integrity_check_hours: float = Field(
        24.0, gt=0, description="How often SQLite's quick_check runs on a reader connection"
    )
    integrity_check_hour: int | None = Field(
        3,
        ge=0,
        le=23,
        description="Local hour (off-peak) in which the periodic integrity check may run "
        "(None = whenever it is due)",
    )
    backup_dir: Path | None = Field(
        None, description="Folder of online backups (default data_dir/backups)"
    )
    backup_every_hours: float | None = Field(
        None, gt=0, description="Take an online backup this often (None = only on command)"
    )
    backup_keep: int = Field(7, ge=1, le=1000, description="Online backups kept (oldest removed)")
    import_chunk_rows: int = Field(
        100,
        ge=10,
        le=5000,
        description="Rows per import transaction: the writer is yielded to ingest between chunks",
    )
    import_duty_cycle: float = Field(
        0.5,
        gt=0.05,
        le=1.0,
        description="Share of the time an import may work: after each chunk it pauses so "
        "that chunk's time is this share (0.5 = half speed, more room for ingest)",
    )
    import_duplicate_limit: int = Field(
        20,
        ge=1,
        le=500,
        description="Most same-ID duplicate candidates recorded per imported row",
    )
    import_upload_max_bytes: int = Field(
        2 << 30, ge=1 << 20, description="Largest file a chunked upload may assemble"
    )

    @model_validator(mode="after")
    def _secrets_are_real(self) -> Settings:
        if self.dev_mode:
            return self
        for name in ("secret_key", "data_key"):
            value = getattr(self, name)
            if (
                value.strip().lower() in PLACEHOLDER_SECRETS
                or value == DEV_SECRET
                or len(value) < 32
            ):
                raise ValueError(
                    f"{name} is missing or a placeholder: set CITYWATCH_{name.upper()} "
                    f"(or CITYWATCH_{name.upper()}_FILE) to a random value of 32+ characters, "
                    "or run with dev_mode for local development only"
                )
        return self

    @property
    def serves_tls(self) -> bool:
        """True when the API is served over HTTPS (a certificate and key are configured)."""
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def base_url(self) -> str:
        """Absolute address of the API for links: ``public_url``, else the listener's own."""
        if self.public_url:
            return self.public_url
        scheme = "https" if self.serves_tls else "http"
        host = self.api_host if ":" not in self.api_host else f"[{self.api_host}]"
        return f"{scheme}://{host}:{self.api_port}"

    def listener_problem(self) -> str | None:
        """Why ``coordinator run`` must not start its HTTP listener as configured, or None.

        Passwords, tokens and full-ID exports travel over the API, so plain HTTP is served
        only when asked for, and then only on a loopback address (a reverse proxy on the
        same host terminates TLS) or in dev mode.
        """
        if self.serves_tls:
            for name in ("tls_cert", "tls_key"):
                path = getattr(self, name)
                if not Path(path).is_file():
                    return f"{name} {path} does not exist or is not a file"
            return None
        if not self.allow_plain_http:
            return (
                "no tls_cert/tls_key: the API would be plain HTTP. Issue a certificate with "
                "`provision ca server-cert --ca-dir PKI --out DIR --host NAME`, then set "
                "tls_cert and tls_key (or --tls-cert/--tls-key); for a reverse proxy on this "
                "host or local development set allow_plain_http (--allow-plain-http)"
            )
        if self.dev_mode or _is_loopback(self.api_host):
            return None
        return (
            f"allow_plain_http serves plain HTTP only on a loopback api_host (not "
            f"{self.api_host}) outside dev mode: terminate TLS here (tls_cert/tls_key) or bind "
            "127.0.0.1 behind a reverse proxy on the same host"
        )

    @property
    def model_store_dir(self) -> Path:
        """Folder of the converted, pinned models the centre serves to boards."""
        return self.models_dir or self.data_dir / "models"

    def database_problem(self) -> str | None:
        """Why the coordinator cannot open the database as configured, or None.

        The data layer serves the embedded SQLite file only, for now: a PostgreSQL
        ``database_url`` is accepted and validated (its schema can be applied with
        ``coordinator.platform.pg_schema``) but refused at start rather than silently
        ignored for the SQLite file."""
        if self.database_url is None:
            return None
        return (
            "database_url names a PostgreSQL server, which the coordinator cannot run on yet "
            "(see docs/scaling.md, 'PostgreSQL: where it stands'); unset it to use the "
            f"embedded SQLite file {self.db_path}"
        )

    @property
    def db_path(self) -> Path:
        """Full path of the SQLite database file."""
        return self.data_dir / self.db_file

    @property
    def audit_key_path(self) -> Path:
        """The audit signing key's file."""
        return self.audit_key_file or self.data_dir / "keys" / "audit-signing.key"

    @property
    def backup_path(self) -> Path:
        """The folder of online backups."""
        return self.backup_dir or self.data_dir / "backups"

    @classmethod
    def for_dev(cls, data_dir: Path, **overrides: Any) -> Settings:
        """Settings for tests and the demo: dev mode with fixed development keys."""
        base: dict[str, Any] = dict(
            data_dir=data_dir, dev_mode=True, secret_key=DEV_SECRET, data_key=DEV_SECRET + "-data"
        )
        base.update(overrides)
        return cls(**base)


def check_database_url(url: str) -> str:
    """``url`` when it is a PostgreSQL URI naming a database; a clear ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(
            "database_url must be a PostgreSQL URI such as postgresql://user@host:5432/citywatch "
            f"(got scheme {parts.scheme or 'none'!r}); leave it unset for the embedded SQLite file"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValueError("database_url: the port is not a number from 1 to 65535") from None
    if not parts.path.strip("/"):
        raise ValueError("database_url must name a database: postgresql://host:5432/citywatch")
    if not parts.netloc and "host=" not in parts.query:
        raise ValueError(
            "database_url must name a host (postgresql://host/db) or a socket folder "
            "(postgresql:///db?host=/run/postgresql)"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Load settings from an optional YAML file, overridden by ``CITYWATCH_*`` variables."""
    env = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read settings file: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise SettingsError(f"{where}: malformed YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise SettingsError(f"{path}: settings must be a mapping of field: value")
        data.update(loaded)
    for field in Settings.model_fields:
        key = f"CITYWATCH_{field.upper()}"
        if key in env:
            data[field] = env[key]
        elif f"{key}_FILE" in env:
            try:
                data[field] = Path(env[f"{key}_FILE"]).read_text().strip()
            except OSError as exc:
                raise SettingsError(
                    f"{key}_FILE: cannot read {env[key + '_FILE']}: {exc.strerror}"
                ) from None
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
