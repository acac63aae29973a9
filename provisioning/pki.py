"""X.509 building blocks: CA creation, CSR signing, CRLs (``cryptography``).

EC P-256 keys throughout: Mosquitto/OpenSSL accept them, they are generated in
milliseconds on a Pi, and certificates stay small. Pure functions over keys and
certificates; writing files is the caller's business (see :func:`write_private_key`).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey


def utcnow() -> dt.datetime:
    """Timezone-aware now (UTC)."""
    return dt.datetime.now(dt.UTC)


def new_key() -> PrivateKey:
    """Generate a new EC P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


@dataclass(frozen=True)
class CertAndKey:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: PrivateKey


def create_root_ca(cn: str = "CityWatch Root CA", days: int = 3650) -> CertAndKey:
    """Create a self-signed root CA (path length 1: it only signs issuing CAs)."""
    key = new_key()
    now = utcnow()
    name = _name(cn, "CityWatch")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertAndKey(cert, key)


def create_issuing_ca(
    root: CertAndKey, cn: str = "CityWatch Issuing CA", days: int = 1825
) -> CertAndKey:
    """Create an issuing CA signed by ``root`` (path length 0: signs only leaves)."""
    key = new_key()
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, "CityWatch"))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), root.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
            critical=False,
        )
        .sign(root.key, hashes.SHA256())
    )
    return CertAndKey(cert, key)


def make_csr(key: PrivateKey, cn: str) -> x509.CertificateSigningRequest:
    """Build a CSR for ``cn`` signed by ``key`` (the key never leaves the board)."""
    return (
        x509.CertificateSigningRequestBuilder().subject_name(_name(cn)).sign(key, hashes.SHA256())
    )


def sign_leaf(
    issuer: CertAndKey,
    public_key: ec.EllipticCurvePublicKey,
    cn: str,
    *,
    days: int = 365,
    server_names: list[str] | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """Issue a leaf certificate: client auth, plus server auth when ``server_names`` given."""
    now = utcnow()
    start = not_before or (now - dt.timedelta(minutes=5))
    end = not_after or min(now + dt.timedelta(days=days), issuer.cert.not_valid_after_utc)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if server_names:
        import ipaddress

        alt: list[x509.GeneralName] = []
        for n in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


def issue(issuer: CertAndKey, cn: str, **kwargs: object) -> CertAndKey:
    """Generate a key and issue a certificate for it (test and service identities)."""
    key = new_key()
    return CertAndKey(sign_leaf(issuer, key.public_key(), cn, **kwargs), key)  # type: ignore[arg-type]


def build_crl(
    issuer: CertAndKey, revoked_serials: list[int], *, next_update_days: int = 7
) -> x509.CertificateRevocationList:
    """Build a CRL signed by ``issuer`` listing ``revoked_serials``."""
    now = utcnow()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now - dt.timedelta(minutes=1))
        .next_update(now + dt.timedelta(days=next_update_days))
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - dt.timedelta(seconds=1))
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint of a certificate, lowercase hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def cert_pem(cert: x509.Certificate) -> bytes:
    """PEM bytes of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM of a private key (protect it with file permissions)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write a private key readable by its owner only (0600), created that way atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem(key))
    os.chmod(path, 0o600)


def write_pem(path: Path, *certs: x509.Certificate) -> None:
    """Write one or more certificates (a bundle) as PEM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(cert_pem(c) for c in certs))


def write_crl(path: Path, crl: x509.CertificateRevocationList) -> None:
    """Write a CRL as PEM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
