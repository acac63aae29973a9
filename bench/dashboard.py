"""Dashboard benchmark (Debian Chromium via Playwright, real coordinator and broker):

- time to first render of the city map with 24,000 cameras (ours: zones, units, incidents
  and one compact columnar camera answer drawn on canvas with per-cell aggregation), against
  the plain approach (page through the full device records, one SVG element per camera), in
  the same browser;
- event published on MQTT → incident row visible in the browser, p50/p99 over 100 events;
- page weight (HTML + CSS + JS of the dashboard, uncompressed);
- the alarm queue (``bench/alarm_queue.py``): operator actions to clear a 100-alarm storm
  grouped vs ungrouped, and the share of top-priority incidents on the demo's mix.

Run: ``python bench/dashboard.py [--cameras 24000] [--events 100] [--alarms-only]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, percentile, publish, table  # noqa: E402
from coordinator.web import STATIC  # noqa: E402
from devtools.devcity import DEMO_PASSWORD, start_city  # noqa: E402

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SVG_BASELINE = """
async (token) => {
  const t0 = performance.now();
  const h = {Authorization: 'Bearer ' + token};
  let all = [];
  for (let off = 0; ; off += 5000) {
    const r = await (await fetch('/api/devices?limit=5000&offset=' + off, {headers: h})).json();
    all = all.concat(r); if (r.length < 5000) break;
  }
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', 900); svg.setAttribute('height', 740);
  let minX = 1e9, maxX = -1e9, minY = 1e9, maxY = -1e9;
  for (const d of all) { minX = Math.min(minX, d.lon); maxX = Math.max(maxX, d.lon); minY = Math.min(minY, d.lat); maxY = Math.max(maxY, d.lat); }
  for (const d of all) {
    const c = document.createElementNS(ns, 'circle');
    c.setAttribute('cx', 10 + (d.lon - minX) / (maxX - minX) * 880);
    c.setAttribute('cy', 730 - (d.lat - minY) / (maxY - minY) * 720);
    c.setAttribute('r', 2); c.setAttribute('fill', d.health_status === 'offline' ? 'red' : 'green');
    svg.appendChild(c);
  }
  document.body.appendChild(svg);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=24000)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--alarms-only", action="store_true", help="only the alarm-queue figures")
    args = ap.parse_args()
    from bench import alarm_queue

    md, data = alarm_queue.run()
    publish("alarm_queue", "Alarm queue: storms and priority spread", md, data)
    if args.alarms_only:
        return
    from playwright.sync_api import sync_playwright

    weight = sum(p.stat().st_size for p in STATIC.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory() as tmp:
        city = start_city(Path(tmp), cameras=args.cameras, units=10)
        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 860}).new_page()
            page.set_default_timeout(120000)
            page.goto(city.url + "/ui/")
            page.fill("input[name=username]", "dispatcher")
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#nav a")
            renders, baselines = [], []
            for _ in range(3):
                page.goto(city.url + "/ui/#/incidents")
                page.wait_for_selector("#inc-body")
                page.goto(city.url + "/ui/#/map")
                page.wait_for_selector("#map-wrap[data-rendered]")
                renders.append(float(page.get_attribute("#map-wrap", "data-rendered")))
                cells = int(page.get_attribute("#map-wrap", "data-cells"))
                token = page.evaluate(
                    "JSON.parse(sessionStorage.getItem('citywatch.session')).access_token"
                )
                baselines.append(page.evaluate(SVG_BASELINE, token))
                page.evaluate("document.querySelectorAll('body > svg').forEach(e => e.remove())")
            # event → incident row visible in the browser
            page.goto(city.url + "/ui/#/incidents")
            page.wait_for_selector("#inc-body")
            lat = []
            for i in range(args.events):
                cam = city.cameras[i % len(city.cameras)]["id"]
                t0 = time.perf_counter()
                city.publish_event(cam, kind="loitering", conf=0.6, track=10_000 + i)
                page.wait_for_selector(f"#inc-body tr:has-text('{cam}')")
                lat.append((time.perf_counter() - t0) * 1000)
        finally:
            browser.close()
            pw.stop()
            city.stop()
    rows = [
        [
            "map first render, 24k cameras: ours (canvas, per-cell aggregation)",
            median(renders),
            max(renders),
        ],
        [
            "baseline: paged full device records, one SVG element per camera",
            median(baselines),
            max(baselines),
        ],
        [
            "event published → incident row visible (p50 / p99)",
            percentile(lat, 50),
            percentile(lat, 99),
        ],
    ]
    md = table(["measure", "median / p50 (ms)", "max / p99 (ms)"], rows)
    md += (
        f"\n\nCameras: {args.cameras:,} drawn as {cells:,} aggregated cells. Events: {args.events}. "
        f"Page weight (HTML+CSS+JS, uncompressed, no third-party code): {weight / 1024:.1f} KiB. "
        "The browser runs on the same 2 cores as the coordinator and broker."
    )
    publish(
        "dashboard",
        "Dashboard: map render, live latency, page weight",
        md,
        {
            "map_render_ms": renders,
            "svg_baseline_ms": baselines,
            "event_to_browser_ms": lat,
            "page_weight_bytes": weight,
            "cameras": args.cameras,
            "cells": cells,
        },
    )


if __name__ == "__main__":
    main()
