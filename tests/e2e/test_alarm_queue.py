"""The alarm queue in Chromium against the session's real city: a row under the pointer
never moves while 50 updates arrive (new ones wait in the strip), handling steps through
in-page dialogs, and a storm shown as one group row that one action dismisses."""

from __future__ import annotations

import math

from coordinator.incidents.merge import haversine_m
from devtools.devcity import DEMO_PASSWORD, DevCity
from tests.harness.browser import login, shot
from tests.harness.mqtt import wait_for


def _spread(city: DevCity, n: int, min_m: float, skip: set[str]) -> list[dict]:
    """``n`` cameras at least ``min_m`` apart (each its own incident, never a group)."""
    out: list[dict] = []
    for cam in city.cameras[100:]:
        if cam["id"] in skip:
            continue
        if all(haversine_m(cam["lat"], cam["lon"], o["lat"], o["lon"]) > min_m for o in out):
            out.append(cam)
        if len(out) == n:
            return out
    raise AssertionError(f"the city has no {n} cameras {min_m} m apart")


def _incident_of(city: DevCity, cam: str) -> str:
    found: list[str] = []

    def seen() -> bool:
        rows = city.services.incidents.search(limit=2000)
        found[:] = [r["id"] for r in rows if cam in (r["devices"] or [])]
        return bool(found)

    wait_for(seen, 20, f"an incident from {cam}")
    return found[0]


def _open_queue(page, user: str = "operator") -> None:  # noqa: ANN001
    login(page, user)
    page.goto(page.url.split("#")[0] + "#/incidents")
    page.wait_for_selector("#inc-body")


def test_a_row_under_the_pointer_does_not_move_while_50_updates_arrive(page, city: DevCity):
    cams = _spread(city, 34, 400.0, set())
    base, fresh = cams[:14], cams[14:34]
    for i, cam in enumerate(base):  # fourteen open alarms of middling priority
        city.publish_event(cam["id"], kind="crowd", conf=0.6, track=9100 + i)
    ids = [_incident_of(city, c["id"]) for c in base]
    _open_queue(page)
    for iid in ids:
        page.locator(f"tr[data-id='{iid}']").wait_for(timeout=20000)
    rows = page.locator("#inc-body tr[data-key]")
    keys = [rows.nth(i).get_attribute("data-key") for i in range(rows.count())]
    # the row to hold: one of ours with at least three of ours above it
    mine = [k for k in keys if k and k[2:] in ids]
    target = mine[-1]
    above = [k[2:] for k in keys[: keys.index(target)] if k and k[2:] in ids]
    assert len(above) >= 3
    row = page.locator(f"tr[data-key='{target}']")
    row.hover()
    box = row.bounding_box()
    # 50 updates: 20 urgent new alarms, 20 that grow alarms on screen, 10 closed elsewhere
    for i, cam in enumerate(fresh):
        city.publish_event(cam["id"], kind="intrusion", conf=0.97, track=9200 + i)
    for i in range(20):
        cam = base[i % len(base)]
        city.publish_event(cam["id"], kind="crowd", conf=0.99, track=9100 + base.index(cam))
    closed = [i for i in ids if f"i:{i}" != target][:10]
    for iid in closed:
        city.services.incidents.handle(iid, "close", "dispatcher", note="handled by phone")
    # (a camera with an alarm still open from an earlier test grows it instead: not new)
    fresh_ids = {_incident_of(city, c["id"]) for c in fresh}
    expected = len(fresh_ids - {k[2:] for k in keys if k})
    assert expected >= 15
    page.wait_for_function(
        "n => parseInt(document.querySelector('[data-testid=new-count]')?.textContent || '0') >= n",
        arg=expected,
        timeout=30000,
    )
    page.wait_for_function(
        "n => document.querySelectorAll('#inc-body tr.gone').length >= n", arg=10
    )
    for iid in closed:  # a row that left stays (greyed) until the queue settles
        assert "gone" in (page.locator(f"tr[data-id='{iid}']").get_attribute("class") or "")
    after = row.bounding_box()
    assert box is not None and after is not None
    assert (after["x"], after["y"], after["height"]) == (box["x"], box["y"], box["height"])
    shot(page, "alarm-queue-held")
    # asked for: the 20 new ones join the queue, the closed ones leave
    page.click("[data-testid=show-new]")
    page.wait_for_function("() => document.querySelectorAll('#inc-body tr.gone').length === 0")
    for iid in fresh_ids:
        assert page.locator(f"tr[data-id='{iid}']").count() == 1
    assert "No new alarms" in page.inner_text("[data-testid=new-strip]")


def test_handling_steps_through_in_page_dialogs(page, city: DevCity):
    cam = city.cameras[290]
    prompts: list[str] = []
    page.on("dialog", lambda d: (prompts.append(d.message), d.dismiss()))
    city.publish_event(cam["id"], kind="loitering", conf=0.8, track=9301)
    iid = _incident_of(city, cam["id"])
    _open_queue(page)
    row = f"tr[data-id='{iid}']"
    page.locator(row).wait_for(timeout=20000)
    page.click(f"{row} button[data-act=h-claim]")
    page.wait_for_selector(f"{row} [data-testid=handling]:has-text('acknowledged')")
    assert "operator" in page.inner_text(row)
    page.click(f"{row} button[data-act=h-hold]")
    dialog = page.locator("[data-testid=alarm-dialog]")
    dialog.wait_for(state="visible")
    page.click("[data-testid=dialog-ok]")  # the reason is required: the dialog stays
    assert dialog.is_visible()
    page.fill("[data-testid=dialog-field]", "caller rings back at 22:00")
    page.click("[data-testid=dialog-ok]")
    page.wait_for_selector(f"{row} [data-testid=handling]:has-text('on hold')")
    page.click(f"{row} button[data-act=h-assign]")
    dialog.wait_for(state="visible")
    page.select_option("[data-testid=dialog-field]", "dispatcher")
    shot(page, "alarm-assign-dialog")
    page.click("[data-testid=dialog-ok]")
    page.wait_for_selector(f"{row}:has-text('dispatcher')")
    page.click(f"{row} button[data-act=h-close]")  # closing resolves: how did it end?
    resolve = page.locator("[data-testid=resolve-dialog]")
    resolve.wait_for(state="visible")
    resolve.locator("[data-testid=dialog-ok]").click()  # no disposition: the dialog stays
    assert "how the incident ended" in resolve.locator("[data-testid=dialog-error]").inner_text()
    resolve.locator("[data-testid=disposition-field]").select_option("no_trace")
    resolve.locator("[data-testid=narrative-field]").fill("patrol passed by: nobody there")
    shot(page, "alarm-resolve-dialog")
    resolve.locator("[data-testid=dialog-ok]").click()
    page.wait_for_selector(f"{row} [data-testid=handling]:has-text('closed')")
    assert prompts == []  # every question was asked in the page, never by prompt()
    inc = city.services.incidents.get(iid)
    assert inc and inc["handling"] == "closed" and inc["status"] == "resolved"
    assert inc["assignee"] == "dispatcher"
    assert (inc["disposition"], inc["narrative"]) == ("no_trace", "patrol passed by: nobody there")
    actions = [h["action"] for h in city.services.incidents.history(iid)]
    assert actions == [
        "handling_claim", "handling_hold", "handling_assign", "resolved", "handling_close",
    ]  # fmt: skip


def test_a_storm_is_one_row_and_one_action_dismisses_it(page, city: DevCity):
    from coordinator.fleet.service import DeviceIn

    # Eight cameras on a ring of 230 m east of the city: each alarm is its own incident
    # (neighbours 176 m apart), all within the 300 m of the group rule.
    lat0 = max(c["lat"] for c in city.cameras) + 0.02
    lon0 = max(c["lon"] for c in city.cameras) + 0.02
    ring = []
    for k in range(8):
        a = 2 * math.pi * k / 8
        lat = lat0 + 230 * math.cos(a) / 111_195
        lon = lon0 + 230 * math.sin(a) / (111_195 * math.cos(math.radians(lat0)))
        ring.append(DeviceIn(id=f"storm-{k}", owner_org="Futian Market Co.",
                             owner_type="company", lat=lat, lon=lon))  # fmt: skip
    city.services.fleet.upsert_many(ring)
    city.cameras.extend(d.model_dump() for d in ring)  # the city's cameras, for the other tests
    _open_queue(page)
    for k in range(8):
        city.publish_event(f"storm-{k}", kind="loitering", conf=0.75, track=9400 + k)
    group = page.locator("tr[data-group]:has([data-testid=group-count]:has-text('8 alarms'))")
    group.wait_for(timeout=30000)
    assert page.locator("#inc-body tr:has-text('storm-')").count() == 0  # no member rows
    shot(page, "alarm-group")
    group.locator("button[data-act=g-dismiss]").click()
    page.fill("[data-testid=dialog-field]", "market wind moved the awnings")
    page.click("[data-testid=dialog-ok]")
    page.wait_for_selector("#banner:has-text('8 alarms updated, 0 skipped')")
    gid = group.get_attribute("data-group")
    members = city.services.incidents.group(gid)["members"]
    assert len(members) == 8
    assert {m["status"] for m in members} == {"dismissed"}
    assert {m["dismiss_reason"] for m in members} == {"market wind moved the awnings"}


def _pair(city: DevCity, lo_m: float, hi_m: float) -> tuple[dict, dict]:
    """Two cameras ``lo_m``–``hi_m`` apart (two incidents, never merged or grouped)."""
    cams = city.cameras[200:280]
    for a in cams:
        for b in cams:
            if lo_m < haversine_m(a["lat"], a["lon"], b["lat"], b["lon"]) < hi_m:
                return a, b
    raise AssertionError(f"no two cameras {lo_m}-{hi_m} m apart")


def test_merge_and_split_through_in_page_dialogs(page, city: DevCity):
    a, b = _pair(city, 400.0, 1500.0)
    native: list[str] = []
    page.on("dialog", lambda d: (native.append(d.message), d.dismiss()))
    city.publish_event(a["id"], kind="line_crossing", conf=0.7, track=9401)
    city.publish_event(b["id"], kind="line_crossing", conf=0.7, track=9402)
    src, dst = _incident_of(city, a["id"]), _incident_of(city, b["id"])
    assert src != dst
    _open_queue(page)
    page.locator(f"tr[data-id='{src}']").wait_for(timeout=20000)
    # merge: the target is picked from the nearby open incidents (kind, address, age)
    page.click(f"tr[data-id='{src}'] button[data-act=merge]")
    merge = page.locator("[data-testid=merge-dialog]")
    merge.wait_for(state="visible")
    listed = merge.locator("[data-testid=merge-candidate]")
    ids = [listed.nth(i).get_attribute("data-id") for i in range(listed.count())]
    assert dst in ids and src not in ids and len(ids) <= 15
    option = merge.locator(f"[data-testid=merge-candidate][data-id='{dst}']")
    assert "opened" in option.inner_text() and "line crossing" in option.inner_text()
    merge.locator("[data-testid=dialog-ok]").click()  # nothing picked: the dialog says so
    assert "Pick the incident" in merge.locator("[data-testid=dialog-error]").inner_text()
    option.locator("input").check()
    shot(page, "incident-merge-dialog")
    merge.locator("[data-testid=dialog-ok]").click()
    wait_for(lambda: city.services.incidents.get(src)["status"] == "merged", 10, "merged")
    assert city.services.incidents.get(src)["merged_into"] == dst
    assert sorted(city.services.incidents.get(dst)["devices"]) == sorted([a["id"], b["id"]])
    # split: the merged incident's cameras as checkboxes; some, never all
    row = f"tr[data-id='{dst}']"
    page.wait_for_selector(f"{row} button[data-act=split]", timeout=20000)
    page.click(f"{row} button[data-act=split]")
    split = page.locator("[data-testid=split-dialog]")
    split.wait_for(state="visible")
    boxes = split.locator("[data-testid=split-device]")
    texts = sorted(" ".join(t.split()) for t in boxes.all_inner_texts())
    assert texts == sorted([f"{a['id']} 1 events", f"{b['id']} 1 events"])
    split.locator("[data-testid=dialog-ok]").click()
    assert "at least one camera" in split.locator("[data-testid=dialog-error]").inner_text()
    for i in range(2):
        boxes.nth(i).locator("input").check()
    split.locator("[data-testid=dialog-ok]").click()
    assert "Leave at least one" in split.locator("[data-testid=dialog-error]").inner_text()
    split.locator(f"input[value='{a['id']}']").uncheck()
    split.locator("[data-testid=dialog-ok]").click()
    wait_for(lambda: city.services.incidents.get(dst)["devices"] == [a["id"]], 10, "split off b")
    log = city.services.incidents.history(dst)
    new_id = next(h["detail"]["new"] for h in log if h["action"] == "split")
    assert city.services.incidents.get(new_id)["devices"] == [b["id"]]
    # the incident's record shows the merge and the split in the reader's words
    page.click(f"{row} button[data-act=details]")
    page.wait_for_selector(f"{row} [data-testid=incident-detail]")
    steps = page.locator(f"{row} [data-testid=history-step]").all_inner_texts()
    assert any("merged another incident in" in s for s in steps)
    assert any("cameras split off" in s for s in steps)
    assert native == []  # never prompt(), alert() or confirm()


def test_a_call_taker_records_a_phone_call_through_the_dialog(page, city: DevCity):
    name = "calltaker-e2e"
    city.services.auth.create_user(name, DEMO_PASSWORD, ["call_taker"])
    # the city's call-taking room answers for every centre
    city.services.geo.centres.set_membership(name, [], city_wide=True, actor="test")
    _open_queue(page, name)
    page.click("[data-testid=new-call]")
    dialog = page.locator("[data-testid=call-dialog]")
    dialog.wait_for(state="visible")
    page.select_option("[data-testid=call-kind]", "intrusion")
    error = "[data-testid=call-dialog] [data-testid=dialog-error]"
    page.click("[data-testid=call-save]")  # no place yet: said in the dialog, which stays
    page.wait_for_selector(f"{error}:has-text('Click the map')")
    page.wait_for_selector("[data-testid=call-dialog][data-ready='1']")
    page.locator("[data-testid=call-map]").click(position={"x": 320, "y": 150})
    page.wait_for_selector("[data-testid=call-place]:has-text('Picked on the map')")
    page.fill("[data-testid=call-landmark]", "north gate of the market")
    page.fill("[data-testid=call-note]", "call back on 138 0013 8000")  # a number: refused
    page.click("[data-testid=call-save]")
    page.wait_for_selector(f"{error}:has-text('phone or ID number')")
    assert dialog.is_visible()
    assert page.input_value("[data-testid=call-landmark]") == "north gate of the market"
    page.fill("[data-testid=call-note]", "two men climbing the fence behind the stalls")
    page.click("[data-testid=call-save]")
    dialog.wait_for(state="detached")
    made = [i for i in city.services.incidents.search(limit=5000) if i.get("source") == "call"]
    assert len(made) == 1
    inc = made[0]
    assert inc["centre_id"] == city.services.geo.centre_for(inc["lat"], inc["lon"], inc["zone"])
    row = page.locator(f"tr[data-id='{inc['id']}']")
    row.wait_for(timeout=10000)
    assert row.get_attribute("data-status") == "confirmed"
    assert "reported by phone" in row.inner_text()
    assert row.locator("[data-testid=from-call]").inner_text() == "phone call"
    assert inc["address"] and inc["address"] in row.inner_text()
    page.click(f"tr[data-id='{inc['id']}'] button[data-act=details]")
    page.wait_for_selector("[data-testid=history-landmark]:has-text('north gate of the market')")
    shot(page, "incident-from-call")
    # resolved again, so the session's later modules find the city's queues as they were
    code = next(d.code for d in city.services.incidents.dispositions.values() if d.operator)
    city.services.incidents.transition(
        inc["id"], "resolved", name, "test over", disposition=code, by_operator=True
    )
