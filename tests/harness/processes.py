"""Child processes of the test run (the suite's leak checks read them from /proc)."""

from __future__ import annotations

import os

#: Processes a session-wide fixture owns, even when a test restarted them (the adversarial
#: suite's production-style broker and coordinator): not a test's leak.
SESSION_OWNED: set[int] = set()


def child_pids() -> set[int]:
    """Live (non-zombie) child processes of this test process, less :data:`SESSION_OWNED`."""
    me = os.getpid()
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is state, fields[1] ppid; zombies are reaped children-to-be, skip them
        if int(fields[1]) == me and fields[0] != "Z" and int(entry) not in SESSION_OWNED:
            pids.add(int(entry))
    return pids
