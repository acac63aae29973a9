"""Seeded second-factor secrets for the demo and the tests, and the codes they give.

Demo and test accounts that read personal data log in with a TOTP code. Their secrets are
derived from the username (never for production: anyone can compute them), so the demo can
print them and the tests can log in without a phone. Run ``python -m devtools.totp_codes
officer`` to print the current code of a demo account.

A code is accepted once (RFC 6238): :func:`next_code` hands out a later step for each login
of the same account in this process, waiting for the clock when the window is used up.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import threading
import time

from coordinator.identity import totp

_last_step: dict[tuple[str, str], int] = {}
_lock = threading.Lock()


def seeded_secret(username: str) -> str:
    """The demo/test account's base32 secret (deterministic from the name)."""
    digest = hashlib.sha256(f"citywatch-demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode().rstrip("=")


def next_code(username: str, where: str = "", secret: str | None = None) -> str:
    """A code for the account's next login on the coordinator ``where`` (its database or
    URL): a step this process has not used there before."""
    secret = secret or seeded_secret(username)
    key = (where, username)
    while True:
        now = totp.step_of(time.time())
        with _lock:
            # Never a past step: a code for the step before now would be refused if the
            # server's clock ticked over before it checks.
            step = max(_last_step.get(key, now - 1) + 1, now)
            if step <= now + totp.DRIFT_STEPS:
                _last_step[key] = step
                return totp.hotp(secret, step)
        # All steps the server accepts now were used: the next one opens within 30 s.
        time.sleep(max(0.05, (now + 1) * totp.STEP_S - time.time()))


def main(argv: list[str]) -> int:
    """Print the seeded secret and current code of each named demo account."""
    for name in argv or ["officer"]:
        secret = seeded_secret(name)
        print(f"{name}: code {totp.code_at(secret, time.time())}  (secret {secret})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
