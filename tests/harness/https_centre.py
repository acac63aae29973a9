"""A production-style coordinator for the HTTP security tests: the centre's own PKI
(``provision ca init``, ``provision ca server-cert`` through its CLI), a real Mosquitto, and
``coordinator run`` as a subprocess serving HTTPS, with real keys (not dev mode).

Clients verify the server against the CA bundle, and may choose their source address on
the loopback network (127.0.0.2, 127.0.0.3 …) to act as different machines.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from provisioning.ca import init_ca
from provisioning.mosquitto import BrokerConfig, MosquittoProcess, PlainListener, free_port

from .mqtt import wait_for

ROOT = Path(__file__).resolve().parents[2]
#: The password of every user :func:`add_users` creates.
PASSWORD = "a-long-staff-password"
#: The metrics scrape token of :func:`https_centre`.
SCRAPE_TOKEN = "scrape-token-0123456789abcdef0123456789"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> …`` from the checkout and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def issue_server_cert(pki_dir: Path, out: Path, *hosts: str) -> Path:
    """``provision ca server-cert`` through the CLI; returns the folder it wrote."""
    args = ["provisioning.cli", "ca", "server-cert", "--ca-dir", str(pki_dir), "--out", str(out)]
    for h in hosts:
        args += ["--host", h]
    r = cli(*args, "--json")
    assert r.returncode == 0, r.stderr
    return out


@dataclass
class Centre:
    """A running ``coordinator run`` process and how to reach it."""

    proc: subprocess.Popen[bytes]
    url: str
    ca_bundle: Path
    data_dir: Path
    log: Path
    settings: Path
    port: int
    extra: dict[str, Any] = field(default_factory=dict)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only the centre's CA."""
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def client(self, source: str | None = None, **kw: Any) -> httpx.Client:
        """An HTTPS client verifying against the centre's CA, from ``source`` if given."""
        transport = httpx.HTTPTransport(verify=self.ssl_context(), local_address=source)
        return httpx.Client(base_url=self.url, transport=transport, timeout=30, **kw)

    def rss_kib(self) -> int:
        """Resident memory of the server process (KiB, from /proc)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def log_text(self) -> str:
        """Everything the process wrote so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after 20 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def base_settings(work: Path, mqtt_port: int, **extra: Any) -> dict[str, Any]:
    """Settings of a production-mode coordinator in ``work`` (fast password hashing)."""
    return {
        "data_dir": str(work / "data" / "coordinator"),
        "api_host": "127.0.0.1",
        "mqtt_port": mqtt_port,
        "argon2_memory_kib": 4096,
        "argon2_time_cost": 1,
        **extra,
    }


def secrets_env() -> dict[str, str]:
    """Random production secrets, as an operator would set them."""
    return {
        "CITYWATCH_SECRET_KEY": "s3cret-" + os.urandom(20).hex(),
        "CITYWATCH_DATA_KEY": "d4ta-" + os.urandom(20).hex(),
    }


def add_users(settings_file: Path, env: dict[str, str], users: dict[str, str]) -> None:
    """Create each name → role in the centre's database before the server starts (as
    ``coordinator create-user`` does, in this process to save a start-up per user)."""
    from coordinator.bootstrap import open_services
    from coordinator.identity.auth import needs_second_factor
    from coordinator.settings import load_settings
    from devtools.totp_codes import seeded_secret

    # a new centre: its database is created here as `coordinator init` would (umask 077),
    # before the server starts
    old = os.umask(0o077)
    try:
        services = open_services(load_settings(settings_file, {**os.environ, **env}), init=True)
    finally:
        os.umask(old)
    try:
        for name, role in users.items():
            secret = seeded_secret(name) if needs_second_factor([role]) else None
            services.auth.create_user(name, PASSWORD, [role], totp_secret=secret)
    finally:
        services.close()


def start_coordinator(
    work: Path, settings: dict[str, Any], env: dict[str, str], *args: str, name: str = "coord"
) -> Centre:
    """Write the settings file and start ``coordinator run`` on a free port."""
    port = free_port()
    cfg = work / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump({**settings, "api_port": port}))
    log = work / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "coordinator.cli", "run", "--settings", str(cfg), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=ROOT,
        )
    tls = settings.get("tls_cert") is not None or "--tls-cert" in args
    centre = Centre(
        proc,
        f"{'https' if tls else 'http'}://127.0.0.1:{port}",
        work / "tls" / "ca-bundle.pem",
        Path(settings["data_dir"]),
        log,
        cfg,
        port,
    )
    try:
        wait_for(lambda: _up(centre), 60, f"{name} answering")
    except AssertionError:
        centre.stop()
        raise AssertionError(f"{name} did not start:\n{centre.log_text()[-3000:]}") from None
    return centre


def _up(c: Centre) -> bool:
    if c.proc.poll() is not None:
        raise AssertionError(f"exited with {c.proc.returncode}:\n{c.log_text()[-3000:]}")
    try:
        with c.client() as http:
            return http.get("/api/health").status_code == 200
    except (httpx.HTTPError, ssl.SSLError):
        return False


@contextmanager
def https_centre(
    work: Path, users: dict[str, str], **extra: Any
) -> Iterator[tuple[Centre, dict[str, str]]]:
    """A PKI, a broker and an HTTPS ``coordinator run`` with ``users``; yields the centre
    and the environment (secrets) to start a second process on the same database."""
    init_ca(work / "pki", root_key_out=work / "offline" / "root.key")
    issue_server_cert(work / "pki", work / "tls", "127.0.0.1", "centre.test")
    broker = MosquittoProcess(
        BrokerConfig(work / "broker", [PlainListener(free_port())], persistence=False)
    ).start()
    centre = None
    try:
        settings = base_settings(
            work,
            broker.ports[0],
            tls_cert=str(work / "tls" / "server.crt"),
            tls_key=str(work / "tls" / "server.key"),
            **extra,
        )
        env = secrets_env()
        cfg = work / "users.yaml"
        cfg.write_text(yaml.safe_dump(settings))
        add_users(cfg, env, users)
        centre = start_coordinator(work, settings, env)
        centre.extra = {"settings": settings, "broker_port": broker.ports[0]}
        yield centre, env
    finally:
        if centre is not None:
            centre.stop()
        broker.stop()
