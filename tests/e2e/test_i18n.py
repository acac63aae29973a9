"""The dashboard in Chinese and English, in Chromium against the real city: the language a
browser prefers is the default, the switch in the header changes and keeps it, every screen
of a Chinese browser shows no English catalogue string, and Chinese text is drawn with real
glyphs (a CJK font is installed), not empty boxes. The README's screenshots come from here."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from devtools.devcity import DEMO_USERS, DevCity, start_city
from tests.harness.browser import login, shot
from tests.harness.webjs import catalogue


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCity]:
    """This module's own city: its queue is not the one other modules' tests filled."""
    c = start_city(
        tmp_path_factory.mktemp("i18n-city"), cameras=300, units=8, population=400, market=300
    )
    yield c
    c.stop()


EN = catalogue("en")
ZH = catalogue("zh-CN")

# Data, not wording: what users named and typed (the rules editor's shape names, schedules
# and revision reasons), and what the dashboard marks as data (data-l10n="data", e.g. user
# names) or as the server's own words (data-l10n="server", e.g. dispatch's ranking reasons).
DATA = "[data-l10n], script, style, textarea, [hidden], #rules-shapes, tr[data-rev] td:nth-child(3)"

# The text a reader sees: visible text nodes and the attributes read out or shown on hover.
VISIBLE_TEXT = """(data) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(data)) continue;
    if (!el.checkVisibility() || !n.textContent.trim()) continue;
    out.push(n.textContent.trim());
  }
  for (const el of document.querySelectorAll("[title], [placeholder], [aria-label], img[alt]")) {
    if (el.closest(data)) continue;
    for (const a of ["title", "placeholder", "aria-label", "alt"]) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  out.push(document.title);
  return out;
}"""


def _english_patterns() -> dict[str, re.Pattern[str]]:
    """key → a pattern for the English string's words (placeholders as wildcards), for every
    string whose Chinese differs and that has words in it."""
    out = {}
    for key, en in EN.items():
        if ZH[key] == en:
            continue
        parts = [re.escape(p.strip()) for p in re.split(r"\{\w+\}", en)]
        body = r".{0,80}?".join(p for p in parts if p)
        # Words of three letters or more (not "id", "of"), standing alone (not in cam-0042).
        if len(re.findall(r"[A-Za-z]", body)) >= 3:
            out[key] = re.compile(rf"(?<![A-Za-z0-9_-]){body}(?![A-Za-z0-9_-])")
    return out


PATTERNS = _english_patterns()


def english_left(page) -> list[str]:  # noqa: ANN001
    """The English catalogue strings the page shows (key: the text it was found in)."""
    found = []
    for text in page.evaluate(VISIBLE_TEXT, DATA):
        for key, pat in PATTERNS.items():
            if pat.search(text):
                found.append(f"{key}: {text!r}")
    return found


@pytest.fixture
def zh_page(chromium, city: DevCity) -> Iterator:  # noqa: ANN001
    """A Chinese browser (navigator.languages = zh-CN) on the dashboard."""
    ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    p = ctx.new_page()
    p.set_default_timeout(15000)
    p.goto(city.url + "/ui/")
    yield p
    ctx.close()


def _as(page, city: DevCity, user: str) -> None:  # noqa: ANN001
    page.evaluate("sessionStorage.clear()")
    page.goto(city.url + "/ui/")
    page.wait_for_selector("#login:not([hidden])")
    login(page, user)


def _open(page, screen: str) -> None:  # noqa: ANN001
    page.goto(page.url.split("#")[0] + f"#/{screen}")
    page.wait_for_load_state("networkidle")


def _check(page, where: str, seen: dict[str, list[str]]) -> None:  # noqa: ANN001
    left = english_left(page)
    if left:
        seen[where] = left


def test_the_scan_finds_english_on_an_english_page(page, city: DevCity):
    """The check below can fail: an English browser's incident screen is full of it."""
    login(page, "dispatcher")
    _open(page, "incidents")
    page.wait_for_selector("#inc-body")
    assert page.evaluate("document.documentElement.lang") == "en"
    keys = {hit.split(":")[0] for hit in english_left(page)}
    assert {"incidents.title", "incidents.show_closed", "nav.units"} <= keys, keys


def test_a_chinese_browser_gets_every_screen_in_chinese(zh_page, city: DevCity):
    page = zh_page
    seen: dict[str, list[str]] = {}
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    _check(page, "login", seen)
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:has-text('身份验证失败')")
    _check(page, "login refused", seen)
    login(page, "dispatcher")
    assert page.locator("#nav a").all_inner_texts()[:2] == [ZH["nav.map"], ZH["nav.incidents"]]
    _open(page, "map")
    page.wait_for_selector("#map-wrap[data-rendered]")
    _check(page, "map", seen)
    assert int(page.get_attribute("#map-wrap", "data-roads") or 0) > 0  # the city's streets
    for screen, ready in (("fleet", "[data-testid=fleet-online]"), ("units", "tr[data-unit]")):
        _open(page, screen)
        page.wait_for_selector(ready)
        _check(page, screen, seen)
    _incidents(page, city, seen)
    # the map and the wall with the open incidents on them (the README's pictures)
    _open(page, "map")
    page.wait_for_selector("#map-wrap[data-rendered]")
    shot(page, "map")
    _open(page, "wall")
    page.wait_for_selector("[data-testid=wall-open]")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=wall-open]').textContent) > 0"
    )
    _check(page, "wall", seen)
    shot(page, "wall")
    _records(page, city, seen)
    assert not seen, "English left on a Chinese page:\n" + "\n".join(
        f"{where}: {hits}" for where, hits in seen.items()
    )


def _incidents(page, city: DevCity, seen: dict[str, list[str]]) -> None:  # noqa: ANN001
    """Confirm an incident, rank units, dispatch: the row, its recommendations, the banner."""
    _open(page, "incidents")
    # The queue is loaded and the live stream is on before the camera sees anything.
    page.wait_for_selector("#inc-body tr")
    page.wait_for_selector("#live[data-state=on]")
    cam = city.cameras[41]
    city.publish_event(cam["id"], kind="loitering", conf=0.88, track=4141)
    row = page.locator(f"#inc-body tr:has-text('{cam['id']}')").first
    row.wait_for(timeout=30000)
    assert row.locator("[data-testid=status]").inner_text() == ZH["incidents.status.new"]
    row.locator("button[data-act=confirm]").click()
    status = f"#inc-body tr:has-text('{cam['id']}') [data-testid=status]"
    page.wait_for_selector(f"{status}:has-text('{ZH['incidents.status.confirmed']}')")
    row = page.locator(f"#inc-body tr:has-text('{cam['id']}')").first
    row.locator("button[data-act=recommend]").click()
    rec = row.locator("[data-testid=rec]").first
    rec.wait_for()
    assert "预计" in rec.inner_text()
    _check(page, "incidents with recommendations", seen)
    page.evaluate("scrollTo(0, 0)")
    shot(page, "incidents")
    rec.locator("button[data-dispatch]").click()
    page.wait_for_selector("#banner:not([hidden])")
    assert "派警指令已下达" in page.inner_text("#banner"), page.inner_text("#banner")
    _check(page, "incidents after dispatch", seen)
    # resolving asks how the incident ended, in the page and in Chinese
    row = page.locator(f"#inc-body tr:has-text('{cam['id']}')").first
    row.locator("button[data-act=resolve]").click()
    dialog = page.locator("[data-testid=resolve-dialog]")
    dialog.wait_for(state="visible")
    dialog.locator("[data-testid=disposition-field]").select_option("handled_on_scene")
    dialog.locator("[data-testid=narrative-field]").fill("现场劝离两名徘徊人员，无异常")
    _check(page, "resolve dialog", seen)
    shot(page, "alarm-resolve")
    dialog.locator("[data-testid=dialog-cancel]").click()
    # a confirmed incident nobody has been sent to yet: the pending-dispatch panel shows it
    waiting = city.cameras[43]
    city.publish_event(waiting["id"], kind="intrusion", conf=0.95, track=4343)
    row = page.locator(f"#inc-body tr:has-text('{waiting['id']}')").first
    row.wait_for(timeout=30000)
    row.locator("button[data-act=confirm]").click()
    page.wait_for_selector(f"#inc-body tr:has-text('{waiting['id']}') [data-testid=status]"
                           f":has-text('{ZH['incidents.status.confirmed']}')")  # fmt: skip
    _open(page, "units")
    page.wait_for_selector("[data-testid=false-alarms] tr", timeout=30000)
    _check(page, "units with KPIs", seen)
    page.wait_for_selector(
        "[data-testid=pending] tr[data-incident], [data-testid=pending] tbody tr"
    )
    _check(page, "units with pending dispatch", seen)
    page.evaluate("scrollTo(0, 0)")
    shot(page, "units")


def _records(page, city: DevCity, seen: dict[str, list[str]]) -> None:  # noqa: ANN001
    """The other roles' screens: fraud, population, the merchant's check, rules, a refusal."""
    _as(page, city, "investigator")
    _open(page, "fraud")
    page.wait_for_selector("[data-testid=fraud-alerts] tr[data-alert]")
    _check(page, "fraud", seen)
    shot(page, "fraud")
    page.locator("[data-testid=fraud-links] tr[data-link]").first.scroll_into_view_if_needed()
    shot(page, "fraud-alias-review")
    _as(page, city, "officer")
    _open(page, "population")
    page.click("[data-tab=review]")
    page.wait_for_selector("[data-testid=pop-dups] tr[data-candidate]")
    page.locator("[data-testid=pop-dups]").scroll_into_view_if_needed()
    _check(page, "population duplicates", seen)
    shot(page, "population-duplicates")
    # Search by a Chinese name from the review queue (its record lists the name first).
    first = page.locator("[data-testid=pop-dups] tr[data-candidate] td").nth(1).inner_text()
    name = first.split()[0]
    page.evaluate("scrollTo(0, 0)")
    page.click("[data-tab=counter]")
    page.click("#pop-search button")
    page.wait_for_selector("#pop-results .error")
    _check(page, "population, no purpose", seen)
    assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name), first
    page.fill("#pop-search input[name=name]", name)
    page.fill("#pop-search input[name=purpose]", "居住核查，案件 12")
    page.click("#pop-search button")
    page.wait_for_selector(f"[data-testid=pop-results] tbody tr:has-text('{name}')")
    # A Chinese purpose crosses the Latin-1 header percent-encoded and is audited as typed.
    audit = city.services.audit.search(actor="officer")
    assert any(e["purpose"] == "居住核查，案件 12" for e in audit)
    _check(page, "population search", seen)
    shot(page, "population")
    _as(page, city, "technician")
    _open(page, "rules")
    page.fill("[data-testid=rules-dev]", city.cameras[5]["id"])
    page.click("#rules-open")
    page.wait_for_selector("[data-testid=rules-status]")
    _check(page, "rules", seen)
    _as(page, city, "merchant")
    page.fill("#chk-q", city.market["vest_phone"])
    page.click("#chk button")
    page.wait_for_selector("[data-testid=warning]")
    assert city.market["warned"] in page.inner_text("[data-testid=check-result]")
    _check(page, "merchant check", seen)
    shot(page, "merchant-check")
    _open(page, "population")
    page.wait_for_selector("[data-testid=forbidden]")
    _check(page, "forbidden", seen)


def test_every_screen_of_every_role_opens_in_chinese(zh_page, city: DevCity):
    """Breadth: each demo user opens every screen its navigation offers (a screen added
    later is covered without a change here) and finds no English catalogue string."""
    page = zh_page
    seen: dict[str, list[str]] = {}
    opened = 0
    for user in DEMO_USERS:
        _as(page, city, user)
        for screen in page.locator("#nav a").evaluate_all("as => as.map(a => a.dataset.screen)"):
            _open(page, screen)
            page.wait_for_selector("#view > *")
            _check(page, f"{user} #/{screen}", seen)
            opened += 1
    assert opened >= 12
    assert not seen, "English left on a Chinese page:\n" + "\n".join(
        f"{where}: {hits}" for where, hits in seen.items()
    )


@pytest.mark.parametrize(
    "languages,expected",
    [("zh-CN", "zh-CN"), ("zh-TW", "zh-CN"), ("en-GB", "en"), ("fr-FR", "en")],
)
def test_the_browsers_language_picks_the_default(chromium, city: DevCity, languages, expected):  # noqa: ANN001
    ctx = chromium.new_context(locale=languages)
    try:
        p = ctx.new_page()
        p.goto(city.url + "/ui/")
        p.wait_for_selector("#login:not([hidden])")
        assert p.evaluate("document.documentElement.lang") == expected
        title = {"zh-CN": ZH, "en": EN}[expected]["login.title"]
        assert p.inner_text("#login h1") == title
        assert p.input_value("#lang") == expected
    finally:
        ctx.close()


def test_the_switch_changes_the_language_and_keeps_it(page, city: DevCity):
    login(page, "dispatcher")
    _open(page, "incidents")
    assert page.locator("#nav a").first.inner_text() == EN["nav.map"]
    page.select_option("#lang", "zh-CN")
    page.wait_for_selector(f"#view h1:has-text('{ZH['incidents.title']}')")
    assert page.locator("#nav a").first.inner_text() == ZH["nav.map"]
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.get_attribute("#lang", "aria-label") == ZH["shell.language"]
    # Kept across a reload and in a new tab of the same browser (localStorage), though the
    # browser itself prefers English.
    page.reload()
    page.wait_for_selector(f"#view h1:has-text('{ZH['incidents.title']}')")
    other = page.context.new_page()
    other.goto(city.url + "/ui/")
    other.wait_for_selector("#login:not([hidden])")
    assert other.inner_text("#login h1") == ZH["login.title"]
    other.close()
    page.select_option("#lang", "en")
    page.wait_for_selector(f"#view h1:has-text('{EN['incidents.title']}')")
    assert page.evaluate("localStorage.getItem('citywatch.locale')") == "en"


# Each character drawn alone on a canvas in the dashboard's own font stack: with a CJK font
# the glyphs differ from each other and from U+E000 (no font has it: the .notdef box);
# without one, every character is the same empty box.
GLYPHS = """(chars) => {
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (ch) => {
    const c = document.createElement("canvas");
    c.width = c.height = 40;
    const ctx = c.getContext("2d");
    ctx.font = `32px ${font}`;
    ctx.fillStyle = "#000";
    ctx.fillText(ch, 2, 34);
    const d = ctx.getImageData(0, 0, 40, 40).data;
    let ink = 0, sig = "";
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 127) ink++; sig += d[i] > 127 ? "1" : "0"; }
    return { ink, sig, width: ctx.measureText(ch).width };
  };
  return { font, tofu: draw("\\ue000"), glyphs: chars.map(draw) };
}"""


def test_chinese_text_is_drawn_with_glyphs_not_boxes(zh_page):
    """Fails on a machine without a CJK font (make system-deps installs fonts-wqy-microhei)."""
    page = zh_page
    page.wait_for_selector("#login:not([hidden])")
    r = page.evaluate(GLYPHS, list("接警派处"))
    assert "WenQuanYi Micro Hei" in r["font"], r["font"]
    sigs = [g["sig"] for g in r["glyphs"]]
    assert all(g["ink"] > 20 for g in r["glyphs"]), [g["ink"] for g in r["glyphs"]]
    assert len(set(sigs)) == len(sigs), "distinct characters drawn alike: boxes, not glyphs"
    assert r["tofu"]["sig"] not in sigs, "Chinese characters drawn as the missing-glyph box"
