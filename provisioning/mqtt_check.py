"""The board's first authenticated publish: its retained ``state``, with the new certificate."""

from __future__ import annotations

import ssl
import threading
import time
from pathlib import Path

from protocol import Channel, State, Topics, encode


def publish_state(
    bundle: Path,
    device_id: str,
    host: str,
    port: int,
    topic_root: str,
    *,
    status: str = "online",
    profile: str | None = None,
    firmware: str | None = None,
    timeout: float = 15.0,
) -> str:
    """Connect with the bundle's certificate and publish ``state`` (QoS 1, retained).

    Returns a one-line description on success; raises RuntimeError saying what failed
    (TLS refused, not authorised, no PUBACK).
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    topic = Topics(topic_root).device(device_id, Channel.STATE)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_id, protocol=mqtt.MQTTv5)
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(bundle / "ca-bundle.pem"))
    ctx.load_cert_chain(str(bundle / "device.crt"), str(bundle / "device.key"))
    client.tls_set_context(ctx)
    client.will_set(topic, encode(State(status="offline")), qos=1, retain=True)
    done = threading.Event()
    result: dict[str, object] = {}

    def on_connect(c, u, flags, rc, props):  # noqa: ANN001
        result["connack"] = rc
        done.set()

    def on_publish(c, u, mid, rc, props):  # noqa: ANN001
        result["puback"] = rc

    def on_disconnect(c, u, flags, rc, props):  # noqa: ANN001
        result.setdefault("disconnect", rc)
        done.set()

    client.on_connect, client.on_publish, client.on_disconnect = (
        on_connect,
        on_publish,
        on_disconnect,
    )
    t0 = time.monotonic()
    try:
        client.connect(host, port, keepalive=30)
    except (OSError, ssl.SSLError) as exc:
        raise RuntimeError(
            f"cannot open a TLS connection to {host}:{port}: {exc}; check the broker address "
            "and that this board's clock is right (certificates are time-checked)"
        ) from None
    client.loop_start()
    try:
        if not done.wait(timeout) or "connack" not in result:
            raise RuntimeError(
                f"the broker {host}:{port} closed the connection during login "
                f"({result.get('disconnect')}): the certificate was refused"
            )
        rc = result["connack"]
        if getattr(rc, "is_failure", False):
            raise RuntimeError(f"the broker refused the login: {rc}")
        state = State(
            status=status,  # type: ignore[arg-type]
            ts=int(time.time() * 1000),
            profile=profile,
            firmware=firmware,
        )
        info = client.publish(topic, encode(state), qos=1, retain=True)
        deadline = time.monotonic() + timeout
        while "puback" not in result and time.monotonic() < deadline:
            if "disconnect" in result:
                break
            time.sleep(0.01)
        rc = result.get("puback")
        if rc is None:
            raise RuntimeError(f"no PUBACK for {topic} within {timeout:.0f}s")
        if getattr(rc, "is_failure", False):
            raise RuntimeError(f"the broker refused the publish on {topic}: {rc} (ACL)")
        info.wait_for_publish(1)
        return f"{topic} accepted by the broker in {(time.monotonic() - t0) * 1000:.0f} ms"
    finally:
        client.disconnect()
        client.loop_stop()
