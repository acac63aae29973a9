"""``edge-agent selftest``: config, model, frame, inference, broker — each pass or fail.

The provisioning CLI runs this on a freshly enrolled board (``--json``, exit 0 = pass),
so its output shape is an interface: ``{"ok": bool, "checks": [{name, ok, detail}]}``.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Check:
    """One line of the self-test table."""

    name: str
    ok: bool
    detail: str


def _probe_broker(cfg: Any, timeout: float) -> Check:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    b = cfg.broker
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.device_id, protocol=mqtt.MQTTv5)
    result: dict[str, Any] = {}
    done = threading.Event()

    def on_connect(cl: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        result["rc"] = rc
        done.set()

    def on_disconnect(cl: Any, u: Any, flags: Any, rc: Any, props: Any) -> None:
        result.setdefault("rc", rc)
        result["dropped"] = True
        done.set()

    c.on_connect = on_connect
    c.on_disconnect = on_disconnect
    try:
        if b.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(b.tls.ca))
            ctx.load_cert_chain(str(b.tls.cert), str(b.tls.key))
            c.tls_set_context(ctx)
        c.connect(b.host, b.port, keepalive=b.keepalive_s)
    except (OSError, ssl.SSLError) as exc:
        return Check("broker", False, f"{b.host}:{b.port}: {exc}")
    c.loop_start()
    try:
        done.wait(timeout)
        rc = result.get("rc")
        if rc is None:
            return Check("broker", False, f"{b.host}:{b.port}: no CONNACK within {timeout}s")
        if getattr(rc, "is_failure", False) or result.get("dropped"):
            return Check(
                "broker",
                False,
                f"{b.host}:{b.port}: refused ({rc}); certificate refused or revoked?",
            )
        # TLS 1.3 reports a refused client certificate only after the handshake: confirm
        # the session survives a round trip (a SUBACK on our own config topic, which the
        # ACL allows) before calling it a pass.
        subacked = threading.Event()
        c.on_subscribe = lambda *a: subacked.set()
        c.subscribe(f"{b.topic_root}/dev/{cfg.device_id}/config", qos=1)
        if not subacked.wait(timeout) or result.get("dropped"):
            return Check(
                "broker", False, f"{b.host}:{b.port}: session dropped; certificate refused?"
            )
        how = "MQTT 5 over mutual TLS" if b.tls else "MQTT 5, no TLS"
        return Check("broker", True, f"{b.host}:{b.port} accepted {cfg.device_id} ({how})")
    finally:
        c.disconnect()
        c.loop_stop()


def selftest(config: Path, timeout: float = 10.0) -> list[Check]:
    """Run every check that can run; later checks are skipped (failed) when a prerequisite fails."""
    from .config import ConfigError, load_config
    from .detectors import ModelError, detector_from_config
    from .sources import SourceError, build_source

    checks: list[Check] = []
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        return [Check("config", False, "; ".join(exc.problems))]
    checks.append(Check("config", True, f"{config} ({cfg.profile})"))
    det = None
    try:
        det = detector_from_config(cfg)
        checks.append(Check("model", True, det.model_version))
    except ModelError as exc:
        checks.append(Check("model", False, str(exc)))
    frame = None
    src = build_source(cfg.source)
    try:
        src.open()
        frame = src.read()
        if frame is None:
            raise SourceError("source gave no frame")
        h, w = frame.rgb.shape[:2]
        checks.append(Check("frame", True, f"{cfg.source.kind}: {w}x{h}"))
    except SourceError as exc:
        checks.append(Check("frame", False, str(exc)))
    finally:
        with contextlib.suppress(Exception):  # a broken peer/device may fail to close
            src.close()
    if det is not None and frame is not None:
        try:
            dets = det.detect(frame.rgb)
            checks.append(
                Check(
                    "inference", True, f"{det.last_inference_ms:.1f} ms, {len(dets)} detection(s)"
                )
            )
        except (ValueError, RuntimeError) as exc:
            checks.append(Check("inference", False, str(exc)))
    else:
        checks.append(Check("inference", False, "skipped: needs a model and a frame"))
    try:
        from .spool import Spool

        sp = Spool(cfg.spool.path, cfg.spool.max_events, cfg.spool.max_bytes)
        depth = sp.depth()
        sp.close()
        checks.append(Check("spool", True, f"{cfg.spool.path} ({depth} pending)"))
    except Exception as exc:  # noqa: BLE001 - any spool failure is a failed check
        checks.append(Check("spool", False, f"{cfg.spool.path}: {exc}"))
    checks.append(_probe_broker(cfg, timeout))
    return checks


def print_table(checks: list[Check]) -> None:
    """Human-readable pass/fail table."""
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{c.name:<{width}}  {'PASS' if c.ok else 'FAIL'}  {c.detail}")
    print("self-test " + ("PASSED" if all(c.ok for c in checks) else "FAILED"))
