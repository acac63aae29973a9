"""The dashboard under the demo's load (called by ``bench/dashboard.py``), each figure
against a baseline measured in the same run:

- live clients: ``n`` dashboard streams (SSE, opened with single-use tickets exactly as the
  dashboard does) — event published → the incident change at every stream, p50/p99; the
  browser's event → row latency with those streams open, against the same with none;
- queue rows moving under the pointer while updates arrive: the held queue (pointer over
  it) against the same queue with the pointer away (how often that row would have moved);
- the map at 3840×2160 (software rendering): pan and zoom frame time, canvas (ours) against
  one SVG element per camera;
- p90 detection → dispatch over every incident needing a unit, the waiting ones counted up
  to now, against the old figure over dispatched incidents only.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from bench.common import percentile

FRAMES_JS = """
async ([sel, n]) => {
  const el = document.querySelector(sel);
  const r = el.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const frame = () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    if (i % 2) {
      el.dispatchEvent(new WheelEvent('wheel', {deltaY: i % 4 === 1 ? -100 : 100, clientX: cx,
        clientY: cy, bubbles: true, cancelable: true}));
    } else {
      const o = {clientX: cx, clientY: cy, buttons: 1, bubbles: true};
      el.dispatchEvent(new PointerEvent('pointerdown', o));
      el.dispatchEvent(new PointerEvent('pointermove', {...o, clientX: cx + 60, clientY: cy + 30}));
      el.dispatchEvent(new PointerEvent('pointerup', {...o, buttons: 0, clientX: cx + 60, clientY: cy + 30}));
    }
    await frame();
    out.push(performance.now() - t0);
  }
  return out;
}
"""

SVG_FRAMES_JS = """
async (n) => {
  const svg = document.querySelector('body > svg');
  const frame = () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
  let x = 0, y = 0, k = 1;
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    if (i % 2) k *= (i % 4 === 1 ? 1.25 : 0.8); else { x -= 60 / k; y -= 30 / k; }
    svg.setAttribute('viewBox', `${x} ${y} ${w / k} ${h / k}`);
    await frame();
    out.push(performance.now() - t0);
  }
  return out;
}
"""

WATCH_JS = """
(key) => {
  const row = () => document.querySelector(`tr[data-key="${key}"]`);
  window.__moves = 0;
  let last = row()?.getBoundingClientRect().top;
  const tick = () => {
    const top = row()?.getBoundingClientRect().top;
    if (top !== last) { window.__moves++; last = top; }
    if (window.__watch) requestAnimationFrame(tick);
  };
  window.__watch = true;
  requestAnimationFrame(tick);
}
"""


class Streams:
    """``n`` live dashboard streams of one user; records when each sees a camera's change."""

    def __init__(self, base: str, token: str, n: int) -> None:
        self.seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self.opened = 0
        head = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=head, timeout=30) as c:
            tickets = [c.post("/api/incidents-stream/tickets").json()["ticket"] for _ in range(n)]
        for t in tickets:
            th = threading.Thread(target=self._read, args=(base, t), daemon=True)
            th.start()
            self._threads.append(th)

    def _read(self, base: str, ticket: str) -> None:
        try:
            timeout = httpx.Timeout(5, read=None)
            with (
                httpx.Client(base_url=base, timeout=timeout) as c,
                c.stream("GET", "/api/incidents-stream", params={"ticket": ticket}) as r,
            ):
                with self._lock:
                    self.opened += 1
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("data:") and '"devices"' in line:
                        self._note(line, time.perf_counter())
        except httpx.HTTPError:
            return

    def _note(self, line: str, now: float) -> None:
        try:
            data = json.loads(line[5:])
        except ValueError:
            return
        inc = data.get("incident") if isinstance(data.get("incident"), dict) else data
        devs = inc.get("devices") or []
        with self._lock:
            for d in devs:
                self.seen.setdefault(d, []).append(now)

    def wait_open(self, n: int, timeout: float = 60) -> None:
        """Until ``n`` streams are open."""
        deadline = time.monotonic() + timeout
        while self.opened < n and time.monotonic() < deadline:
            time.sleep(0.1)

    def latencies(self, cam: str, t0: float, n: int, timeout: float = 5) -> list[float]:
        """Milliseconds from ``t0`` until ``n`` streams saw ``cam`` (those that did)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                got = [t for t in self.seen.get(cam, []) if t >= t0]
            if len(got) >= n:
                break
            time.sleep(0.01)
        return [(t - t0) * 1000 for t in got]

    def close(self) -> None:
        """Stop reading (the daemon threads end with the city's server)."""
        self._stop.set()


def live_clients(city: Any, page: Any, token: str, n: int, events: int) -> dict[str, Any]:
    """Event → every stream, and event → browser row with ``n`` streams open vs none."""

    def seen_in_browser(cam: str, t0: float) -> float | None:
        try:
            page.wait_for_selector(f"#inc-body tr:has-text('{cam}')", timeout=15000)
        except Exception:  # noqa: BLE001 - a row that never showed is counted as missed
            return None
        return (time.perf_counter() - t0) * 1000

    def browser_round(offset: int) -> list[float]:
        lat = []
        for i in range(events):
            cam = city.cameras[(offset + i) % len(city.cameras)]["id"]
            t0 = time.perf_counter()
            city.publish_event(cam, kind="intrusion", conf=0.95, track=20_000 + offset + i)
            ms = seen_in_browser(cam, t0)
            if ms is not None:
                lat.append(ms)
        return lat

    page.goto(city.url + "/ui/#/incidents")
    page.wait_for_selector("#inc-body")
    page.mouse.move(1, 1)
    alone = browser_round(1000)
    streams = Streams(city.url, token, n)
    streams.wait_open(n)
    per_stream: list[float] = []
    with_clients: list[float] = []
    missed = 0
    try:
        for i in range(events):
            cam = city.cameras[(2000 + i) % len(city.cameras)]["id"]
            t0 = time.perf_counter()
            city.publish_event(cam, kind="intrusion", conf=0.95, track=30_000 + i)
            ms = seen_in_browser(cam, t0)
            if ms is not None:
                with_clients.append(ms)
            got = streams.latencies(cam, t0, streams.opened)
            missed += streams.opened - len(got)
            per_stream += got
    finally:
        streams.close()
    return {
        "clients": streams.opened,
        "stream_p50_ms": percentile(per_stream, 50),
        "stream_p99_ms": percentile(per_stream, 99),
        "stream_missed": missed,
        "browser_rows_seen": [len(alone), len(with_clients), events],
        "browser_alone_p99_ms": percentile(alone, 99),
        "browser_with_clients_p99_ms": percentile(with_clients, 99),
        "browser_alone_p50_ms": percentile(alone, 50),
        "browser_with_clients_p50_ms": percentile(with_clients, 50),
    }


def reorder_under_pointer(city: Any, page: Any, updates: int = 50) -> dict[str, int]:
    """How often a queue row moves while ``updates`` arrive: pointer on it vs away."""
    out = {}
    for held in (True, False):
        page.goto(city.url + "/ui/#/incidents")
        page.wait_for_selector("#inc-body tr[data-key]")
        page.wait_for_timeout(1500)
        rows = page.locator("#inc-body tr[data-key]")
        target = rows.nth(min(5, rows.count() - 1))
        key = target.get_attribute("data-key")
        if held:
            target.hover()
        else:
            page.mouse.move(5, 5)
        page.evaluate(WATCH_JS, key)
        base = 40_000 if held else 50_000
        for i in range(updates):
            cam = city.cameras[(3000 + i + (0 if held else updates)) % len(city.cameras)]["id"]
            city.publish_event(cam, kind="intrusion", conf=0.97, track=base + i)
        page.wait_for_timeout(4000)  # the live refresh and the queue's settling
        out["held" if held else "away"] = int(
            page.evaluate("window.__watch = false, window.__moves")
        )
    return out


def map_frames(city: Any, browser: Any, token_of: Any, svg_js: str, n: int = 20) -> dict[str, Any]:
    """First render and pan/zoom frame times at 3840×2160: canvas vs SVG."""
    ctx = browser.new_context(viewport={"width": 3840, "height": 2160})
    page = ctx.new_page()
    page.set_default_timeout(180000)
    try:
        token_of(page)
        page.goto(city.url + "/ui/#/map")
        page.wait_for_selector("#map-wrap[data-rendered]")
        first = float(page.get_attribute("#map-wrap", "data-rendered") or 0)
        ours = page.evaluate(FRAMES_JS, ["canvas#map-top", n])
        token = page.evaluate(
            "JSON.parse(sessionStorage.getItem('citywatch.session')).access_token"
        )
        svg_first = page.evaluate(svg_js, token)
        svg = page.evaluate(SVG_FRAMES_JS, n)
    finally:
        ctx.close()
    return {
        "first_render_ms": first,
        "svg_first_render_ms": svg_first,
        "frame_p50_ms": percentile(ours, 50),
        "frame_p90_ms": percentile(ours, 90),
        "svg_frame_p50_ms": percentile(svg, 50),
        "svg_frame_p90_ms": percentile(svg, 90),
    }


#: Incidents the bench's dispatcher sends a unit to (the demo's ten units cannot take all
#: forty: the others wait, as they do when every unit is busy).
SENT = 5


def dispatch_p90(city: Any) -> dict[str, Any]:
    """p90 detection → dispatch over every incident that needs a unit (the waiting ones
    counted up to now), against the old figure over dispatched incidents only."""
    from coordinator.dispatch.kpi import kpis

    # As on a shift: operators confirm the new incidents; the dispatcher sends the free
    # units to the first of them, the rest wait for a unit.
    incidents = city.services.incidents
    fresh = incidents.search(status=["new"], limit=40)
    for inc in fresh:
        incidents.confirm(inc["id"], "bench-operator")
    for inc in fresh[:SENT]:
        try:
            city.services.dispatch.dispatch(inc["id"], actor="bench-dispatcher")
        except Exception:  # noqa: BLE001 - no free unit left: the rest wait, as in the demo
            break
    time.sleep(1.0)
    svc = city.services.dispatch
    with_waiting = svc.kpis(None, None, ())
    orders = svc.db.query("select * from dispatch_orders")
    dispatched_only = kpis(orders, ())
    waiting = svc.pending(limit=100_000)

    def p90(groups: list[dict[str, Any]]) -> float | None:
        return groups[0]["detection_to_dispatch"]["p90_s"] if groups else None

    return {
        "incidents": with_waiting[0]["incidents"] if with_waiting else 0,
        "waiting": with_waiting[0].get("waiting", 0) if with_waiting else 0,
        "pending_total": waiting["total"],
        "p90_with_waiting_s": p90(with_waiting),
        "p90_dispatched_only_s": p90(dispatched_only),
    }
