"""``provision enroll``: a blank board becomes trusted and reporting, step by step.

Every step prints one line (``ok``, ``FAILED`` or ``skipped`` with the reason) and every
failure says what to do next. Nothing is written to the board's bundle folder until the
coordinator has signed the certificate, so a refused enrolment leaves no half-made state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from protocol import check_id

from . import pki
from .api import ApiError, Coordinator
from .ca import ProvisionError, private_dir

KNOWN_PROFILES = (
    "raspberry-pi-4",
    "raspberry-pi-5",
    "raspberry-pi-coral",
    "jetson-orin-nano",
    "rtsp-gateway",
)


def default_firmware_dir() -> Path:
    """The board profiles shipped inside the ``provisioning`` package (wheel or checkout)."""
    return Path(__file__).resolve().parent / "firmware_configs"


@dataclass
class Steps:
    """Collects and prints the outcome of each step."""

    total: int
    quiet: bool = False
    items: list[dict[str, Any]] = field(default_factory=list)

    def report(self, name: str, status: str, detail: str, next_step: str = "") -> None:
        """Record one step and print its line (to stderr when output is JSON)."""
        self.items.append({"step": name, "status": status, "detail": detail, "next": next_step})
        if self.quiet:
            return
        n = len(self.items)
        mark = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}[status]
        print(f"[{n}/{self.total}] {name:<22} {mark:<8} {detail}", flush=True)
        if next_step:
            print(f"      -> next: {next_step}", flush=True)

    @property
    def failed(self) -> bool:
        """True when any step failed."""
        return any(i["status"] == "failed" for i in self.items)


@dataclass
class EnrollOptions:
    """Everything ``provision enroll`` needs."""

    coordinator: str
    token: str
    profile: str
    lat: float
    lon: float
    heading: float
    zone: str
    owner: str
    owner_type: str = "government"
    bundle_dir: Path = Path("/etc/citywatch")
    firmware_dir: Path | None = None
    confirm_timeout: float = 30.0
    selftest: bool = True
    broker_host: str | None = None  # override the broker address the coordinator gave
    source_kind: str | None = None  # override the profile's frame source kind
    source_uri: str | None = None  # this site's camera (RTSP URL, /dev/video0, file)
    verify: str | bool = True


def parse_location(text: str) -> tuple[float, float]:
    """``"LAT,LON"`` → floats, checked; ValueError says what is wrong."""
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise ValueError(
            f"location {text!r} must be LAT,LON in degrees, e.g. 29.3066,120.0764"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"location {text!r} is off the globe: lat -90..90, lon -180..180")
    return lat, lon


def firmware_profile(opts: EnrollOptions) -> tuple[Path, dict[str, Any]]:
    """The profile's firmware config (validated as YAML), or ProvisionError."""
    fdir = opts.firmware_dir or default_firmware_dir()
    path = fdir / f"{opts.profile}.yaml"
    if not path.is_file():
        have = sorted(p.stem for p in fdir.glob("*.yaml")) if fdir.is_dir() else []
        raise ProvisionError(
            f"no firmware config for profile {opts.profile!r} in {fdir}: profiles here are "
            f"{', '.join(have) or 'none'} (pass --firmware-dir if they live elsewhere)"
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ProvisionError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProvisionError(f"{path} must be a mapping")
    return path, data


def agent_config(
    profile: dict[str, Any], device_id: str, broker: dict[str, Any], bundle: Path
) -> dict[str, Any]:
    """The edge agent's config: the profile plus this board's identity and broker.

    Follows edge_agent/config.py's AgentConfig (``device_id``, ``profile``, ``broker``
    with ``tls``). TLS paths are relative: the agent resolves them against the config
    file's folder, so a bundle written on a staging bench still works once moved.
    Kept in one function so a change of the agent's schema is one edit here.
    """
    cfg = dict(profile)
    section = dict(cfg.get("broker") or {})
    section.update(
        host=broker["host"],
        port=broker["port"],
        topic_root=broker["topic_root"],
        tls={"ca": "ca-bundle.pem", "cert": "device.crt", "key": "device.key"},
    )
    cfg["device_id"] = device_id
    cfg["broker"] = section
    return cfg


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def write_bundle(
    bundle: Path,
    key: pki.PrivateKey,
    answer: dict[str, Any],
    site: dict[str, Any],
    agent: dict[str, Any] | None,
) -> list[str]:
    """Write key, certificate, CA bundle, agent config and the enrolment record (0600/0700)."""
    private_dir(bundle)
    pki.write_private_key(bundle / "device.key", key)
    write_private(bundle / "device.crt", answer["certificate"].encode())
    write_private(bundle / "ca-bundle.pem", answer["ca_bundle"].encode())
    record = {k: answer[k] for k in ("device_id", "serial", "fingerprint", "not_after", "broker")}
    write_private(
        bundle / "enrolment.json", json.dumps({**record, "site": site}, indent=2).encode()
    )
    files = ["device.key", "device.crt", "ca-bundle.pem", "enrolment.json"]
    if agent is not None:
        write_private(bundle / "agent.yaml", yaml.safe_dump(agent, sort_keys=False).encode())
        files.append("agent.yaml")
    return files


def served_model(models: list[dict[str, Any]], profile: dict[str, Any]) -> dict[str, Any] | None:
    """The model the centre serves for the profile's detector kind (nanodet by default)."""
    kind = (profile.get("detector") or {}).get("kind", "nanodet")
    return next((m for m in models if m.get("kind") == kind), None)


def _edge_agent() -> str | None:
    """The ``edge-agent`` console script (also beside this interpreter in a venv off PATH)."""
    beside = Path(sys.executable).parent / "edge-agent"
    return shutil.which("edge-agent") or (str(beside) if beside.exists() else None)


def install_model(
    bundle: Path, model: dict[str, Any] | None, profile: dict[str, Any], timeout: float = 900.0
) -> tuple[str, str]:
    """Put the centre's model for this board into the bundle (``edge-agent models install``:
    signed download, size and SHA-256 checked; no npm, node or converter on the board)."""
    if model is None:
        kind = (profile.get("detector") or {}).get("kind", "nanodet")
        return "skipped", (
            f"the centre serves no {kind} model yet (`coordinator models build`); the board "
            "runs its configured model until the centre's config names one"
        )
    write_private(bundle / "model.json", json.dumps(model, indent=2).encode())
    exe = _edge_agent()
    if exe is None:
        return "skipped", "edge-agent not installed on this board (install citywatch[edge])"
    res = subprocess.run(
        [exe, "models", "install", "--config", str(bundle / "agent.yaml")],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if res.returncode != 0:
        tail = (res.stderr.strip() or res.stdout.strip()).splitlines()[-1:] or [""]
        return "failed", f"model {model['name']}: {tail[0][:300]}"
    return "ok", f"{model['name']} ({model['size']} B, sha256 {model['sha256'][:12]}… ok)"


def run_selftest(config: Path, timeout: float = 120.0) -> tuple[str, str]:
    """Run ``edge-agent selftest``; returns (status, detail). Never reports a pass it did not see."""
    exe = _edge_agent()
    if exe is None:
        return "skipped", "edge-agent not installed on this board (install citywatch[edge])"
    probe = subprocess.run([exe, "selftest", "--help"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return "skipped", "this edge-agent has no `selftest` command yet (update the agent)"
    res = subprocess.run(
        [exe, "selftest", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    summary = (
        _selftest_summary(res.stdout)
        or ((res.stdout.strip() or res.stderr.strip()).splitlines()[-1:] or [""])[0][:300]
    )
    if res.returncode == 0:
        return "ok", f"edge-agent selftest passed: {summary}"
    return "failed", f"edge-agent selftest exit {res.returncode}: {summary}"


def _selftest_summary(stdout: str) -> str | None:
    """One line from the agent's ``{"ok": .., "checks": [{name, ok, detail}..]}`` JSON."""
    try:
        checks = json.loads(stdout)["checks"]
        parts = []
        for c in checks:
            name = c.get("name", "?")
            parts.append(f"{name} ok" if c.get("ok") else f"{name} FAILED ({c.get('detail', '')})")
        return ", ".join(parts)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def enroll(
    opts: EnrollOptions, *, quiet: bool = False, client: Coordinator | None = None
) -> dict[str, Any]:
    """Run every enrolment step; returns the result (``ok`` plus each step's outcome)."""
    steps = Steps(9, quiet=quiet)
    out: dict[str, Any] = {"ok": False, "steps": steps.items}
    api = client or Coordinator(opts.coordinator, verify=opts.verify)
    try:
        try:
            fw_path, profile = firmware_profile(opts)
            check_id(opts.zone, "zone")
        except (ProvisionError, ValueError) as exc:
            steps.report(
                "check inputs",
                "failed",
                str(exc),
                "fix the option and run again; the token is unused",
            )
            return out
        try:
            begin = api.request("POST", "/api/enrolment/begin", {"token": opts.token})
        except ApiError as exc:
            steps.report("check token", "failed", str(exc), _token_next(exc))
            return out
        device_id = begin["device_id"]
        out["device_id"] = device_id
        left = begin["expires_at"] - time.time()
        steps.report(
            "check token", "ok", f"assigned device id {device_id} (token valid {left:.0f}s more)"
        )
        t0 = time.perf_counter()
        key = pki.new_key()
        csr = pki.make_csr(key, device_id)
        keygen_ms = (time.perf_counter() - t0) * 1000
        out["keygen_ms"] = round(keygen_ms, 2)
        steps.report(
            "generate key",
            "ok",
            f"EC P-256 key made on this board in {keygen_ms:.1f} ms; it never leaves it",
        )
        site = {
            "owner_org": opts.owner,
            "owner_type": opts.owner_type,
            "lat": opts.lat,
            "lon": opts.lon,
            "heading": opts.heading,
            "zone": opts.zone,
            "profile": opts.profile,
        }
        from cryptography.hazmat.primitives import serialization

        csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode()
        try:
            answer = api.request(
                "POST", "/api/enrolment/enrol", {"token": opts.token, "csr": csr_pem, **site}
            )
        except ApiError as exc:
            steps.report("sign certificate", "failed", str(exc), _token_next(exc))
            return out
        steps.report(
            "sign certificate",
            "ok",
            f"serial {answer['serial'][:16]}…, valid until {answer['not_after']}",
        )
        out.update(
            fingerprint=answer["fingerprint"],
            not_after=answer["not_after"],
            serial=answer["serial"],
        )
        if answer.get("registered", True):
            steps.report(
                "register",
                "ok",
                f"{device_id}: {opts.profile} at {opts.lat},{opts.lon} heading {opts.heading:g}, zone {opts.zone}, owner {opts.owner}",
            )
        else:
            steps.report(
                "register",
                "failed",
                answer.get("registration_error") or "fleet registry refused",
                f"ask the command centre to register {device_id} (provision status {device_id})",
            )
        broker = dict(answer["broker"])
        if opts.broker_host:
            broker["host"] = opts.broker_host
        agent = agent_config(profile, device_id, broker, opts.bundle_dir)
        agent.setdefault("profile", opts.profile)
        agent["centre"] = {**(agent.get("centre") or {}), "url": opts.coordinator.rstrip("/")}
        model = served_model(answer.get("models") or [], profile)
        if opts.source_kind or opts.source_uri:
            source = dict(agent.get("source") or {})
            if opts.source_kind:
                source["kind"] = opts.source_kind
            if opts.source_uri:
                source["uri"] = opts.source_uri
            agent["source"] = source
        try:
            files = write_bundle(opts.bundle_dir, key, answer, site, agent)
        except OSError as exc:
            steps.report(
                "write bundle",
                "failed",
                f"{exc.strerror}: {exc.filename}",
                "run as the agent's user with write access to --bundle-dir, then enrol again with a new token",
            )
            return out
        out["bundle"] = str(opts.bundle_dir)
        steps.report(
            "write bundle",
            "ok",
            f"{opts.bundle_dir} (0700): {', '.join(files)} (0600); firmware from {fw_path.name}",
        )
        status, detail = install_model(opts.bundle_dir, model, profile)
        steps.report(
            "install model",
            status,
            detail,
            "check the board's clock and the route to the centre, then run `edge-agent models "
            f"install --config {opts.bundle_dir / 'agent.yaml'}`"
            if status == "failed"
            else "",
        )
        if opts.selftest:
            status, detail = run_selftest(opts.bundle_dir / "agent.yaml")
        else:
            status, detail = "skipped", "skipped on request (--no-selftest)"
        steps.report(
            "self-test",
            status,
            detail,
            "check the camera cable and the model, then run `edge-agent selftest --config "
            + str(opts.bundle_dir / "agent.yaml")
            + "`"
            if status == "failed"
            else "",
        )
        from .mqtt_check import publish_state

        try:
            detail = publish_state(
                opts.bundle_dir,
                device_id,
                broker["host"],
                int(broker["port"]),
                broker["topic_root"],
                profile=opts.profile,
                firmware="provision",
            )
        except RuntimeError as exc:
            steps.report(
                "first publish",
                "failed",
                str(exc),
                "check the broker address/port and the board's clock, then `provision status "
                + device_id
                + "`",
            )
            return out
        steps.report("first publish", "ok", detail)
        seen = _wait_confirm(api, answer["confirm_token"], opts.confirm_timeout)
        if seen:
            steps.report("centre confirms", "ok", f"the coordinator received {device_id}'s state")
        else:
            steps.report(
                "centre confirms",
                "failed",
                f"the coordinator has not seen {device_id}'s state within {opts.confirm_timeout:.0f}s",
                "call the command centre: its MQTT ingest may be down; the board is enrolled, re-check with `provision status`",
            )
        out["ok"] = not steps.failed
        return out
    finally:
        if client is None:
            api.close()


def _wait_confirm(api: Coordinator, confirm_token: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            ans = api.request("POST", "/api/enrolment/confirm", {"confirm_token": confirm_token})
            if ans.get("first_seen"):
                return True
        except ApiError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)  # polling interval of a remote condition


def _token_next(exc: ApiError) -> str:
    if exc.status == 401:
        return "ask the technician app for a new token (`provision token`) and run enroll again"
    if exc.status == 422:
        return "fix the value named above and run again (the token is still unused)"
    if exc.status == 0:
        return "check the --coordinator address and the network, then run again"
    return "read the reason above; contact the command centre if it persists"


def print_json(result: dict[str, Any]) -> None:
    """Print a result as one JSON document."""
    json.dump(result, sys.stdout, indent=2, default=str)
    print()
