"""``provision ca init`` and ``provision broker-config``: the PKI and broker files on disk.

Layout of a CA folder (``--ca-dir``)::

    root.crt          root CA certificate (public)
    issuing.crt/.key  issuing CA: the coordinator signs boards' CSRs with it
    ca-bundle.pem     issuing + root: what boards and the broker trust
    crl.pem           CRL of the issuing CA (the coordinator rewrites it on revoke)

``provision ca server-cert`` issues the coordinator's HTTPS certificate from the same
issuing CA (``server.crt`` with its chain, ``server.key``) into a folder of its own.

The root key is written to ``--root-key-out`` (default ``<ca-dir>/root.key``): move it
to offline storage; it is needed again only to issue a new issuing CA.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from protocol import Topics, check_id
from protocol.names import fold

from . import pki
from .mosquitto import BrokerConfig, TlsListener, device_acl, password_hash


class ProvisionError(Exception):
    """A provisioning step failed; the message says what to do next."""


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with 0700 permissions and return it."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def init_ca(
    ca_dir: Path,
    *,
    root_key_out: Path | None = None,
    org: str = "CityWatch",
    force: bool = False,
) -> dict[str, str]:
    """Create root + issuing CA, bundle and an empty CRL in ``ca_dir``; returns the paths."""
    if (ca_dir / "issuing.key").exists() and not force:
        raise ProvisionError(
            f"{ca_dir} already holds a CA: use it, or pass --force to replace it "
            "(every board enrolled under the old CA would need re-enrolment)"
        )
    private_dir(ca_dir)
    root = pki.create_root_ca(f"{org} Root CA")
    issuing = pki.create_issuing_ca(root, f"{org} Issuing CA")
    root_key = root_key_out or ca_dir / "root.key"
    pki.write_private_key(root_key, root.key)
    pki.write_pem(ca_dir / "root.crt", root.cert)
    pki.write_pem(ca_dir / "issuing.crt", issuing.cert)
    pki.write_private_key(ca_dir / "issuing.key", issuing.key)
    pki.write_pem(ca_dir / "ca-bundle.pem", issuing.cert, root.cert)
    pki.write_crl(ca_dir / "crl.pem", pki.build_crl(issuing, []))
    return {
        "ca_dir": str(ca_dir),
        "root_key": str(root_key),
        "root_cert": str(ca_dir / "root.crt"),
        "issuing_cert": str(ca_dir / "issuing.crt"),
        "ca_bundle": str(ca_dir / "ca-bundle.pem"),
        "crl": str(ca_dir / "crl.pem"),
    }


def load_issuing(ca_dir: Path) -> pki.CertAndKey:
    """Load the issuing CA from a CA folder, with a clear error when it is missing."""
    try:
        cert = x509.load_pem_x509_certificate((ca_dir / "issuing.crt").read_bytes())
        key = serialization.load_pem_private_key(
            (ca_dir / "issuing.key").read_bytes(), password=None
        )
    except OSError as exc:
        raise ProvisionError(
            f"no issuing CA in {ca_dir} ({exc.strerror}): run `provision ca init --ca-dir {ca_dir}`"
        ) from None
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return pki.CertAndKey(cert, key)


def _check_host(name: str) -> str:
    """A certificate host name: an IP address or a DNS name, without scheme or port."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    labels = name.rstrip(".").split(".")
    ok = all(
        0 < len(lb) <= 63
        and lb[0] != "-"
        and lb[-1] != "-"
        and all(c.isalnum() or c == "-" for c in lb)
        for lb in labels
    )
    if not ok or len(name) > 253:
        raise ProvisionError(
            f"--host {name!r} is not a DNS name or an IP address (no scheme, port or path)"
        )
    return name.rstrip(".").lower()


def server_cert(
    ca_dir: Path, out_dir: Path, hostnames: list[str], *, days: int = 397
) -> dict[str, str]:
    """Issue the coordinator's HTTPS certificate from the centre's issuing CA.

    Writes ``server.crt`` (the certificate followed by the issuing CA: the chain a client
    needs), ``server.key`` (0600) and ``ca-bundle.pem`` (issuing + root, for clients such
    as ``provision --cacert``) into ``out_dir`` (0700). Browsers trust it once the root CA
    (``root.crt``) is installed in their trust store.
    """
    if not hostnames:
        raise ProvisionError("pass at least one --host: the names and addresses clients use")
    names = [_check_host(h) for h in hostnames]
    issuing = load_issuing(ca_dir)
    out = private_dir(out_dir)
    leaf = pki.issue(issuing, names[0], server_names=names, days=days)
    pki.write_pem(out / "server.crt", leaf.cert, issuing.cert)
    pki.write_private_key(out / "server.key", leaf.key)
    (out / "ca-bundle.pem").write_bytes((ca_dir / "ca-bundle.pem").read_bytes())
    return {
        "cert": str(out / "server.crt"),
        "key": str(out / "server.key"),
        "ca_bundle": str(out / "ca-bundle.pem"),
        "names": ", ".join(names),
        "not_after": leaf.cert.not_valid_after_utc.isoformat(),
        "fingerprint": pki.fingerprint(leaf.cert),
    }


@dataclass
class BrokerPlan:
    """What ``provision broker-config`` writes."""

    ca_dir: Path
    out_dir: Path
    hostnames: list[str]
    device_port: int = 8883
    service_port: int = 8884
    bind: str = "0.0.0.0"
    accounts: dict[str, str] = field(default_factory=lambda: {"coordinator": "centre"})
    topic_root: str = "cw/v1"
    coordinator_dir: Path | None = None  # where to write enrolment.yaml


def broker_config(plan: BrokerPlan) -> tuple[dict[str, object], BrokerConfig]:
    """Write mosquitto.conf, ACLs, password file, server certificate.

    Returns a summary and the :class:`BrokerConfig` (tests and the demo start it).

    Two listeners: the boards' mTLS door (certificate required, CN = username = client
    id, CRL, pattern ACL) and the services' TLS door (coordinator and patrol units log
    in with passwords, per-account ACL). Passwords are random, written once to
    ``accounts.secret`` (0600) for the operator to hand out.
    """
    topics = Topics(plan.topic_root)
    folded: dict[str, str] = {}
    for user, role in plan.accounts.items():
        check_id(user, "account name")
        if role not in ("centre", "unit"):
            raise ProvisionError(f"account {user}: role must be centre or unit, not {role!r}")
        # Client ids are one namespace on the broker: two accounts that differ only in case
        # or separators would be one person's typo away from taking over each other.
        twin = folded.setdefault(fold(user), user)
        if twin != user:
            raise ProvisionError(f"accounts {twin!r} and {user!r} differ only in case/separators")
    issuing = load_issuing(plan.ca_dir)
    out = private_dir(plan.out_dir)
    server = pki.issue(issuing, plan.hostnames[0], server_names=plan.hostnames)
    pki.write_pem(out / "broker.crt", server.cert, issuing.cert)
    pki.write_private_key(out / "broker.key", server.key)
    bundle = out / "ca-bundle.pem"
    bundle.write_bytes((plan.ca_dir / "ca-bundle.pem").read_bytes())
    crl = plan.ca_dir / "crl.pem"
    (out / "acl-devices").write_text(device_acl(topics))
    (out / "acl-services").write_text(device_acl(topics, plan.accounts, patterns=False))
    passwords = {u: secrets.token_urlsafe(18) for u in plan.accounts}
    pw = out / "passwd"
    pw.write_text("".join(f"{u}:{password_hash(p)}\n" for u, p in passwords.items()))
    os.chmod(pw, 0o600)
    secret = out / "accounts.secret"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f"{u} {p}\n" for u, p in passwords.items()))
    cfg = BrokerConfig(
        out,
        [
            TlsListener(
                plan.device_port,
                bundle,
                out / "broker.crt",
                out / "broker.key",
                crlfile=crl,
                acl_file=out / "acl-devices",
                host=plan.bind,
            ),
            TlsListener(
                plan.service_port,
                bundle,
                out / "broker.crt",
                out / "broker.key",
                require_certificate=False,
                use_identity_as_username=False,
                acl_file=out / "acl-services",
                password_file=pw,
                host=plan.bind,
            ),
        ],
        persistence=True,
    )
    conf = out / "mosquitto.conf"
    conf.write_text(cfg.render())
    summary: dict[str, object] = {
        "mosquitto_conf": str(conf),
        "device_listener": f"{plan.bind}:{plan.device_port} (mTLS, CRL {crl})",
        "service_listener": f"{plan.bind}:{plan.service_port} (TLS + password)",
        "accounts_secret": str(secret),
    }
    if plan.coordinator_dir is not None:
        enrol = write_enrolment_config(plan, out)
        summary["enrolment_yaml"] = str(enrol)
    return summary, cfg


def write_enrolment_config(plan: BrokerPlan, broker_dir: Path) -> Path:
    """Write ``enrolment.yaml`` for the coordinator (its ``data_dir``)."""
    assert plan.coordinator_dir is not None
    target = private_dir(plan.coordinator_dir) / "enrolment.yaml"
    data = {
        "ca_dir": str(plan.ca_dir.resolve()),
        "crl_file": str((plan.ca_dir / "crl.pem").resolve()),
        "broker_host": plan.hostnames[0],
        "broker_port": plan.device_port,
        "broker_pid_file": str((broker_dir / "mosquitto.pid").resolve()),
        "topic_root": plan.topic_root,
        # No board may be enrolled under a broker account's name (one client-id namespace).
        "service_accounts": sorted(plan.accounts),
    }
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target
