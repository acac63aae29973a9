"""Browser tests: a real city (Mosquitto, coordinator API + ingest, unit simulator) and
Debian's Chromium driven by Playwright. Never a downloaded browser.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator

import pytest

from devtools.devcity import DevCity, start_city
from tests.harness.processes import child_pids

CHROMIUM = os.environ.get("CITYWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCity]:
    """One running city for the browser tests."""
    c = start_city(
        tmp_path_factory.mktemp("city"), cameras=300, units=8, population=400, market=300
    )
    yield c
    c.stop()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Debian's Chromium under Playwright (make test installs it when missing)."""
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        pytest.fail(f"{CHROMIUM} not found: run `make test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture(autouse=True)
def no_leaks(city: DevCity, chromium) -> Iterator[None]:  # noqa: ANN001
    """The suite's leak check, measured after the session's city and browser are up.

    Worker threads of the session's API server (AnyIO and asyncio executors) and the
    dispatch service's ack timer (started with the first order) belong to the city.
    """
    threads_before = set(threading.enumerate())
    children_before = child_pids()
    yield
    deadline = time.monotonic() + 5.0
    while True:
        extra_threads = [
            t
            for t in threading.enumerate()
            if t not in threads_before
            and t.is_alive()
            and not t.name.startswith(
                ("AnyIO worker", "ThreadPoolExecutor", "asyncio_", "dispatch-")
            )
        ]
        extra_children = child_pids() - children_before
        if not extra_threads and not extra_children:
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"test leaked threads {[t.name for t in extra_threads]} / processes {sorted(extra_children)}"
            )
        time.sleep(0.05)


@pytest.fixture
def page(chromium, city: DevCity):  # noqa: ANN001, ANN201
    """A fresh browser context (no shared session storage) on the dashboard."""
    ctx = chromium.new_context(viewport={"width": 1400, "height": 860})
    p = ctx.new_page()
    p.set_default_timeout(15000)
    p.goto(city.url + "/ui/")
    yield p
    ctx.close()
