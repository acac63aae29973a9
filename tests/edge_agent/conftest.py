"""Edge-agent fixtures: the agents a test started (the helpers that write configs and start
agents are in tests/harness/agents.py; the real models are fixtures of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.agents import AgentProcess


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    """Agents started by a test; any still running at the end are stopped."""
    started: list[AgentProcess] = []
    yield started
    for a in started:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait(10)
