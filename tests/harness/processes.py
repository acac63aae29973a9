"""Child processes of the test run (the suite's leak checks read them from /proc)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def leak_check(ignore: Callable[[threading.Thread], bool] = lambda t: False) -> Iterator[None]:
    """Fail (pytest.fail) when the block leaves a new thread — other than those ``ignore``
    accepts — or a child process running, after a 5 s grace period."""
    import pytest

    threads_before = set(threading.enumerate())
    children_before = child_pids()
    yield
    deadline = time.monotonic() + 5.0
    while True:
        extra = [
            t
            for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and not ignore(t)
        ]
        children = child_pids() - children_before
        if not extra and not children:
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    pytest.fail(f"test leaked threads {[t.name for t in extra]} / processes {sorted(children)}")
