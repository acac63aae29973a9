"""The adversarial suite's recorder (a pytest plugin, loaded by tests/conftest.py).

Every attack of :mod:`tests.harness.attack_registry` names the tests that try it. A test
says which attack it is trying with the ``attack`` fixture and records what it saw::

    def test_x(attack):
        a = attack("names.client-id-takeover")
        ...
        a.observed("refused with 0x87; the centre stayed connected")

An attack's *controls* (the same attack with its defence removed, see ``Attack.before``)
record through the sibling fixture ``before_fix``::

    def test_x_without_the_defence(before_fix):
        c = before_fix("names.client-id-takeover")
        ...
        c.observed("the coordinator was kicked off 3 times")

When ``CITYWATCH_ATTACK_RESULTS`` names a file, each run merges into it, per attack and per
test: the outcome (passed / failed / skipped), what was observed and how long it took
(the tests' under ``attacks``, the controls' under ``before``).
``scripts/gen_security_doc.py`` turns that file into docs/security.md. A registered test
that does not call the fixture still gets its outcome recorded.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .attack_registry import ATTACKS, BY_ID, Attack, tests_of

RESULTS_ENV = "CITYWATCH_ATTACK_RESULTS"


@dataclass
class Trial:
    """One test trying one attack: what it observed."""

    attack_id: str
    nodeid: str
    notes: list[str] = field(default_factory=list)
    #: "tests" for a test of the attack, "before" for a control (the defence removed)
    kind: str = "tests"

    def observed(self, text: str) -> None:
        """Record what happened (figures, status codes, what the centre kept)."""
        self.notes.append(text)


_TRIALS: dict[str, list[Trial]] = {}
_OUTCOMES: dict[str, tuple[str, float, str]] = {}


def _base(nodeid: str) -> str:
    """A node id without its parameters (``path::test``)."""
    return nodeid.split("[", 1)[0]


def _starter(request: pytest.FixtureRequest, kind: str) -> Callable[[str], Trial]:
    def start(attack_id: str) -> Trial:
        if attack_id not in BY_ID:
            raise AssertionError(f"attack {attack_id!r} is not in tests/harness/attack_registry")
        base = _base(request.node.nodeid)
        listed = tests_of(attack_id) if kind == "tests" else BY_ID[attack_id].before
        if base not in listed:
            what = "test" if kind == "tests" else "control (before)"
            raise AssertionError(f"{base} is not listed as a {what} of {attack_id!r}")
        trial = Trial(attack_id, request.node.nodeid, kind=kind)
        _TRIALS.setdefault(request.node.nodeid, []).append(trial)
        return trial

    return start


@pytest.fixture
def attack(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Trial]]:
    """``attack(id)`` → a :class:`Trial` to record observations on; the id must be in the
    registry and must list this test (so the registry cannot drift from the suite)."""
    yield _starter(request, "tests")


@pytest.fixture
def before_fix(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Trial]]:
    """``before_fix(id)`` → a :class:`Trial` for a control: the attack run with its defence
    removed, which must get through; the attack must list this test in ``before``."""
    yield _starter(request, "before")


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> None:
    """Keep each test's outcome: a failure in setup, call or teardown fails it."""
    if call.when == "call" or call.excinfo is not None:
        if call.excinfo is None:
            outcome, why = "passed", ""
        elif call.excinfo.errisinstance(pytest.skip.Exception):
            outcome, why = "skipped", str(call.excinfo.value)[:300]
        else:
            outcome, why = "failed", call.excinfo.exconly()[:500]
        prev = _OUTCOMES.get(item.nodeid)
        if prev is None or prev[0] == "passed":
            _OUTCOMES[item.nodeid] = (outcome, call.duration, why)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Merge this run's results into the file ``CITYWATCH_ATTACK_RESULTS`` names."""
    target = os.environ.get(RESULTS_ENV)
    if not target or not _OUTCOMES:
        return
    path = Path(target)
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    _merge(data.setdefault("attacks", {}), "tests", lambda a: a.tests)
    _merge(data.setdefault("before", {}), "before", lambda a: a.before)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def _merge(
    results: dict[str, Any], kind: str, listed_of: Callable[[Attack], tuple[str, ...]]
) -> None:
    """Write this run's outcomes of each attack's tests (or controls) into ``results``."""
    for a in ATTACKS:
        listed = set(listed_of(a))
        for nodeid, (outcome, seconds, why) in _OUTCOMES.items():
            if _base(nodeid) not in listed:
                continue
            notes = [n for t in _TRIALS.get(nodeid, [])
                     if t.attack_id == a.id and t.kind == kind for n in t.notes]  # fmt: skip
            results.setdefault(a.id, {})[nodeid] = {
                "outcome": outcome,
                "observed": notes,
                "seconds": round(seconds, 2),
                "why": why,
                "when": time.strftime("%Y-%m-%d", time.gmtime()),
            }
