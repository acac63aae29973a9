"""Broker variants for tests: plain, password auth, and mTLS + ACL + CRL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocol import Topics
from provisioning import pki
from provisioning.mosquitto import (
    BrokerConfig,
    MosquittoProcess,
    PlainListener,
    TlsListener,
    device_acl,
    free_port,
    password_hash,
)

from .mqtt import TlsFiles


@dataclass
class PkiFixture:
    """A root + issuing CA, a broker server certificate, and a helper to mint clients."""

    dir: Path
    root: pki.CertAndKey
    issuing: pki.CertAndKey
    ca_bundle: Path
    server_cert: Path
    server_key: Path
    crl: Path
    revoked: list[int]

    def client(self, cn: str, **kwargs: object) -> TlsFiles:
        """Issue a client certificate for ``cn`` and write it; returns the client's files."""
        ck = pki.issue(self.issuing, cn, **kwargs)
        return self.write_client(cn, ck)

    def write_client(self, name: str, ck: pki.CertAndKey) -> TlsFiles:
        """Write a certificate (with the issuing CA as chain) and key for a client."""
        cert = self.dir / f"{name}.crt"
        key = self.dir / f"{name}.key"
        pki.write_pem(cert, ck.cert, self.issuing.cert)
        pki.write_private_key(key, ck.key)
        return TlsFiles(ca=self.ca_bundle, cert=cert, key=key)

    def revoke(self, cert_path: Path) -> None:
        """Add a client certificate to the CRL (the broker must be reloaded)."""
        from cryptography import x509

        cert = x509.load_pem_x509_certificates(cert_path.read_bytes())[0]
        self.revoked.append(cert.serial_number)
        pki.write_crl(self.crl, pki.build_crl(self.issuing, self.revoked))


def make_pki(directory: Path) -> PkiFixture:
    """Create a fresh PKI in ``directory`` (EC keys: takes milliseconds)."""
    directory.mkdir(parents=True, exist_ok=True)
    root = pki.create_root_ca()
    issuing = pki.create_issuing_ca(root)
    bundle = directory / "ca-bundle.pem"
    pki.write_pem(bundle, issuing.cert, root.cert)
    server = pki.issue(issuing, "broker", server_names=["localhost", "127.0.0.1"])
    server_cert = directory / "broker.crt"
    server_key = directory / "broker.key"
    pki.write_pem(server_cert, server.cert, issuing.cert)
    pki.write_private_key(server_key, server.key)
    crl = directory / "crl.pem"
    pki.write_crl(crl, pki.build_crl(issuing, []))
    return PkiFixture(directory, root, issuing, bundle, server_cert, server_key, crl, [])


def start_plain(workdir: Path, persistence: bool = False) -> MosquittoProcess:
    """Anonymous loopback broker."""
    return MosquittoProcess(
        BrokerConfig(workdir, [PlainListener(free_port())], persistence=persistence)
    ).start()


def start_password(workdir: Path, users: dict[str, str]) -> MosquittoProcess:
    """Broker that accepts only the given username/password pairs."""
    workdir.mkdir(parents=True, exist_ok=True)
    pw = workdir / "passwd"
    pw.write_text("".join(f"{u}:{password_hash(p)}\n" for u, p in users.items()))
    pw.chmod(0o600)
    return MosquittoProcess(
        BrokerConfig(workdir, [PlainListener(free_port(), password_file=pw)])
    ).start()


def start_tls(
    workdir: Path, test_pki: PkiFixture, topics: Topics, service_users: dict[str, str] | None = None
) -> MosquittoProcess:
    """mTLS broker: client certificate required, CN = username = client id, ACL, CRL."""
    workdir.mkdir(parents=True, exist_ok=True)
    acl = workdir / "acl"
    acl.write_text(device_acl(topics, service_users))
    listener = TlsListener(
        port=free_port(),
        cafile=test_pki.ca_bundle,
        certfile=test_pki.server_cert,
        keyfile=test_pki.server_key,
        crlfile=test_pki.crl,
        acl_file=acl,
    )
    return MosquittoProcess(BrokerConfig(workdir, [listener])).start()
