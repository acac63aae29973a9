"""The issuing CA as the centre holds it: check a board's CSR, sign it, publish the CRL.

Pure functions over ``cryptography`` objects (no database, no HTTP). This deliberately
repeats a few lines of ``provisioning/pki.py``: DESIGN.md lets the coordinator import only
``protocol``, and the centre must not depend on the technicians' tooling to run. The
root CA never comes here: only the issuing CA's key does (see docs/technicians.md).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from protocol import is_valid_id

MAX_CSR_BYTES = 8192


class CsrError(ValueError):
    """A CSR was refused; the message says why and what to do."""


def utcnow() -> dt.datetime:
    """Timezone-aware now (UTC)."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class IssuingCa:
    """The issuing CA certificate, its key, and the chain boards must trust."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    bundle_pem: bytes  # issuing + root, what boards and the broker trust

    @classmethod
    def load(cls, ca_dir: Path) -> IssuingCa:
        """Load ``issuing.crt``, ``issuing.key`` and ``ca-bundle.pem`` from ``ca_dir``."""
        try:
            cert = x509.load_pem_x509_certificate((ca_dir / "issuing.crt").read_bytes())
            key = serialization.load_pem_private_key(
                (ca_dir / "issuing.key").read_bytes(), password=None
            )
            bundle = (ca_dir / "ca-bundle.pem").read_bytes()
        except OSError as exc:
            raise FileNotFoundError(
                f"issuing CA not found in {ca_dir}: {exc.strerror} ({exc.filename}); "
                "create it with `provision ca init`"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{ca_dir}/issuing.key is not an EC key")
        return cls(cert, key, bundle)


def parse_csr(pem: str, device_id: str) -> x509.CertificateSigningRequest:
    """Parse and check a board's CSR: valid signature, EC P-256 key, CN = ``device_id``."""
    if len(pem) > MAX_CSR_BYTES:
        raise CsrError(f"CSR larger than {MAX_CSR_BYTES} bytes")
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except (ValueError, TypeError):
        raise CsrError("CSR is not a PEM certificate request") from None
    try:
        ok = csr.is_signature_valid
    except (ValueError, InvalidSignature):
        ok = False
    if not ok:
        raise CsrError("CSR signature does not verify: the request was altered")
    cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = cns[0].value if len(cns) == 1 else None
    if not isinstance(cn, str) or not is_valid_id(cn):
        raise CsrError(
            f"CSR common name {cn!r} is not a valid device id (1-64 of A-Z a-z 0-9 . _ -)"
        )
    if cn != device_id:
        raise CsrError(
            f"CSR common name {cn!r} differs from the assigned device id {device_id!r}: "
            f"generate the CSR for {device_id!r} (provision enroll does this itself)"
        )
    pub = csr.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
        raise CsrError("CSR key must be EC P-256 (provision enroll generates one)")
    return csr


def sign_device(
    ca: IssuingCa, public_key: ec.EllipticCurvePublicKey, device_id: str, days: int
) -> x509.Certificate:
    """Issue a board's client certificate (CN = device id, client auth only)."""
    now = utcnow()
    end = min(now + dt.timedelta(days=days), ca.cert.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)]))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate a board's clock skew
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )


def build_crl(ca: IssuingCa, revoked: list[tuple[int, float]], next_update_days: int = 30) -> bytes:
    """PEM CRL listing ``(serial, revoked_at_unix)`` pairs, signed by the issuing CA."""
    now = utcnow()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - dt.timedelta(minutes=1))
        .next_update(now + dt.timedelta(days=next_update_days))
    )
    for serial, at in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(dt.datetime.fromtimestamp(at, dt.UTC) - dt.timedelta(seconds=1))
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` via a temp file and rename, so the broker never reads half a CRL."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def cert_pem(cert: x509.Certificate) -> str:
    """PEM text of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, lowercase hex (as the fleet registry stores it)."""
    return cert.fingerprint(hashes.SHA256()).hex()


def load_cert(pem: str) -> x509.Certificate:
    """Parse one PEM certificate (the first of a chain) or raise ValueError."""
    certs = x509.load_pem_x509_certificates(pem.encode())
    if not certs:
        raise ValueError("no certificate in PEM")
    return certs[0]


def verify_proof(cert: x509.Certificate, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` over ``message`` was made with ``cert``'s private key."""
    pub = cert.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey):
        return False
    try:
        pub.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def issued_by(cert: x509.Certificate, ca: IssuingCa) -> bool:
    """True when ``cert`` carries a valid signature of the issuing CA."""
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def ephemeral_identity(
    ca: IssuingCa, cn: str, seconds: int = 120
) -> tuple[bytes, bytes, x509.Certificate]:
    """A short-lived key + certificate for ``cn``, kept in memory only (broker control).

    Returns (cert chain PEM, key PEM, cert). Used to prove the CRL is live and to take
    over a revoked board's MQTT session (see enrolment_broker.py).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    # A 2-minute lifetime: a leaked copy is useless almost at once.
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(seconds=seconds))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca.cert.public_bytes(
        serialization.Encoding.PEM
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, key_pem, cert
