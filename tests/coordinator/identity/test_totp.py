"""TOTP (RFC 6238 over RFC 4226): the published test vectors, drift and reuse."""

from __future__ import annotations

import base64

import pytest

from coordinator.identity import totp

# RFC 6238 appendix B (SHA-1 key "12345678901234567890"), the last six digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("t", "code"),
    [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"),
     (2000000000, "279037"), (20000000000, "353130")],
)  # fmt: skip
def test_rfc_6238_vectors(t, code):
    assert totp.code_at(RFC_SECRET, t) == code


def test_rfc_4226_hotp_vectors():
    want = ["755224", "287082", "359152", "969429", "338314"]
    assert [totp.hotp(RFC_SECRET, c) for c in range(5)] == want


def test_one_step_of_drift_either_side_and_no_more():
    t = 1_700_000_000.0
    now = totp.step_of(t)
    for delta, ok in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = totp.hotp(RFC_SECRET, now + delta)
        assert (totp.matching_step(RFC_SECRET, code, t) is not None) is ok, delta


def test_a_used_step_is_refused():
    t = 1_700_000_000.0
    code = totp.code_at(RFC_SECRET, t)
    step = totp.matching_step(RFC_SECRET, code, t)
    assert step == totp.step_of(t)
    assert totp.matching_step(RFC_SECRET, code, t, after_step=step) is None


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_match_nothing(bad):
    assert totp.matching_step(RFC_SECRET, bad, 1_700_000_000.0) is None


def test_new_secrets_are_random_base32_of_160_bits():
    a, b = totp.new_secret(), totp.new_secret()
    assert a != b and len(base64.b32decode(a + "=" * (-len(a) % 8))) == 20


def test_otpauth_uri():
    uri = totp.otpauth_uri("ABCDEF", "officer-wu")
    assert uri.startswith("otpauth://totp/CityWatch%3Aofficer-wu?secret=ABCDEF&issuer=CityWatch")
    assert "period=30" in uri and "digits=6" in uri
