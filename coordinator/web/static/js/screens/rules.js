// @ts-check
// Camera rules: zones, counting lines and masks drawn with the pointer on the camera's frame;
// classes, thresholds, schedules and loitering times; saved as a revision with a reason;
// the revisions listed with a rollback to any of them (docs/camera-rules.md). The canvas
// shows the camera's current view, asked from the board (within its sharing terms, audited)
// and drawn unaltered under the shapes, at its own aspect ratio; "Refresh view" asks again.
import {
  cameraRulesGetRules, cameraRulesRequestView, cameraRulesRollback, cameraRulesSetRules,
  cameraRulesViewImage, cameraRulesViewStatus,
} from "../api_client.js";
import { fmtTime, session } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").CameraRules} CameraRules */
/** @typedef {import("../api_client.js").Rules} Rules */
/** @typedef {import("../api_client.js").Zone} Zone */
/** @typedef {import("../api_client.js").Mask} Mask */
/** @typedef {import("../api_client.js").Revision} Revision */
/** @typedef {[number, number]} Pt */
/** @typedef {{ kind: string, name: string, points: Pt[], zone: Zone | null }} Shape */

const ZONE_KINDS = ["intrusion", "loitering", "crowd", "line_crossing"];
const MASK_KINDS = ["privacy", "motion", "object"];
const CLASSES = ["person", "vehicle"];
const W = 640;
/** Canvas height: 16:9 until the camera's view gives its own aspect ratio. */
let H = 360;
/** @type {Object<string, string>} */
const COLOUR = {
  intrusion: "#d33", loitering: "#e80", crowd: "#a3a", line_crossing: "#06c",
  privacy: "#000", motion: "#888", object: "#2a2",
};

/** The open camera's editor state. */
const st = {
  dev: "",
  /** @type {Shape[]} */ shapes: [],
  sel: -1,
  drag: -1,
  /** @type {Rules} */ rules: {},
  /** The camera's current view: a blob URL of the JPEG as sent, and its size. */
  /** @type {{ src: string, w: number, h: number, req: string } | null} */ view: null,
};

/** @param {Array<[number, number]>} points @returns {Pt[]} */
const pts = (points) => points.map((p) => /** @type {Pt} */ ([p[0], p[1]]));

/** @param {Rules} rules @returns {Shape[]} */
function shapesOf(rules) {
  /** @type {Shape[]} */
  const out = (rules.zones || []).map((z) => ({ kind: z.rule, name: z.name, points: pts(z.points), zone: z }));
  const masks = rules.masks || {};
  for (const kind of MASK_KINDS) {
    const list = /** @type {Mask[]} */ (/** @type {Object<string, Mask[]>} */ (masks)[kind] || []);
    for (const m of list) out.push({ kind, name: m.name, points: pts(m.points), zone: null });
  }
  return out;
}

/** The rules to save: the loaded ones with the drawn shapes in place of zones and masks. */
function rulesToSave() {
  /** @type {Object<string, Mask[]>} */
  const masks = { privacy: [], motion: [], object: [] };
  /** @type {Zone[]} */
  const zones = [];
  for (const s of st.shapes) {
    if (ZONE_KINDS.includes(s.kind)) {
      zones.push({ ...(s.zone || {}), name: s.name, rule: /** @type {Zone["rule"]} */ (s.kind), points: s.points });
    } else {
      masks[s.kind].push({ name: s.name, points: s.points });
    }
  }
  return { ...st.rules, zones, masks };
}

/** @param {Shape} s @param {number} i */
function shapeSvg(s, i) {
  const pts = s.points.map(([x, y]) => `${Math.round(x * W)},${Math.round(y * H)}`).join(" ");
  const c = COLOUR[s.kind] || "#333";
  const width = i === st.sel ? 4 : 2;
  if (s.kind === "line_crossing") {
    return html`<polyline data-i="${i}" points="${pts}" fill="none" stroke="${c}" stroke-width="${width}"></polyline>`;
  }
  return html`<polygon data-i="${i}" points="${pts}" fill="${c}" fill-opacity="0.25" stroke="${c}" stroke-width="${width}"></polygon>`;
}

function canvas() {
  const s = st.shapes[st.sel];
  /** @param {Pt} p @param {number} j */
  const handle = ([x, y], j) => html`<circle data-v="${j}" cx="${x * W}" cy="${y * H}" r="7" fill="#fff" stroke="#000"></circle>`;
  const handles = s ? s.points.map(handle) : [];
  const v = st.view;
  const bg = v ? html`<image data-testid="rules-view" data-req="${v.req}" href="${v.src}" x="0" y="0"
    width="${W}" height="${H}" pointer-events="none"></image>` : "";
  return html`<svg id="rules-svg" data-testid="rules-canvas" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">
    ${bg}${st.shapes.map(shapeSvg)}${handles}</svg>`;
}

/** @param {string} c @param {boolean} on */
const classBox = (c, on) => html`<label><input type="checkbox" data-class="${c}" ${on ? "checked" : ""}> ${t(`rules.class.${c}`)}</label>`;

/** @param {string} key @param {string} id @param {number} min @param {number} value */
const numberField = (key, id, min, value) => html`<label>${t(key)} <input id="${id}" type="number" min="${min}" value="${value}"></label>`;

/** @param {string} current */
function directionField(current) {
  /** @param {string} d */
  const opt = (d) => html`<option value="${d}" ${current === d ? "selected" : ""}>${t(`rules.dir.${d}`)}</option>`;
  return html`<label>${t("rules.direction")} <select id="rules-dir">${["both", "in", "out"].map(opt)}</select></label>`;
}

/** @param {Shape} x @param {number} i */
const shapeItem = (x, i) => html`<li><a href="#/rules" data-select="${i}">${t(`rules.kind.${x.kind}`)}: ${x.name}</a></li>`;

/** @param {string} k */
const kindOption = (k) => html`<option value="${k}">${t(`rules.kind.${k}`)}</option>`;

/** @param {Shape} s */
function shapePanel(s) {
  const z = s.zone || /** @type {Zone} */ ({ name: s.name, rule: "intrusion", points: [] });
  const labels = z.labels || ["person"];
  const schedules = Object.keys(st.rules.schedules || {});
  const zoneFields = ZONE_KINDS.includes(s.kind) ? html`
    <div>${t("rules.classes")} ${CLASSES.map((c) => classBox(c, labels.includes(c)))}</div>
    <label>${t("rules.schedule")} <select id="rules-schedule"><option value="">${t("rules.always")}</option>
      ${schedules.map((n) => html`<option value="${n}" ${z.schedule === n ? "selected" : ""}>${n}</option>`)}</select></label>
    ${s.kind === "loitering" ? numberField("rules.dwell", "rules-dwell", 1, z.dwell_s ?? 60) : ""}
    ${s.kind === "crowd" ? numberField("rules.min_count", "rules-count", 2, z.min_count ?? 10) : ""}
    ${s.kind === "line_crossing" ? directionField(z.direction || "both") : ""}` : "";
  return html`<fieldset><legend>${t(`rules.kind.${s.kind}`)}</legend>
    <label>${t("rules.name")} <input id="rules-name" value="${s.name}"></label>
    ${zoneFields}
    <p class="muted">${t("rules.hint")}</p>
    <button type="button" id="rules-delete">${t("rules.delete")}</button></fieldset>`;
}

/** @param {CameraRules} data */
function page(data) {
  const edit = session.can("rules:write");
  const s = data.status;
  const th = st.rules.thresholds || {};
  const state = s.drift ? t("rules.drift") : t("rules.in_sync");
  const kinds = [...ZONE_KINDS, ...MASK_KINDS];
  /** @param {Revision} r */
  const revRow = (r) => {
    const back = edit && r.rev !== data.current?.rev
      ? html`<button type="button" data-rollback="${r.rev}">${t("rules.rollback")}</button>` : "";
    return html`<tr data-rev="${r.rev}"><td>${r.rev}</td><td>${r.author}</td><td>${r.reason}</td>
      <td>${fmtTime(r.created_at)}</td><td>${back}</td></tr>`;
  };
  /** @param {string} c */
  const threshold = (c) => html`<label>${t(`rules.class.${c}`)} <input type="number" step="0.05" min="0" max="1"
    data-threshold="${c}" value="${th[c] ?? st.rules.min_score ?? 0.5}"></label>`;
  return html`
    <p data-testid="rules-status">${t("rules.status", { desired: s.desired_rev ?? "–", applied: s.applied_rev ?? "–" })} · ${state}
      ${s.error ? html` · <span class="error">${t("rules.rejected", { error: s.error })}</span>` : ""}
      ${s.masks_unsupported ? html` · <span class="error">${t("rules.masks_unsupported")}</span>` : ""}</p>
    <p>${edit ? html`<button type="button" id="rules-view-refresh">${t("rules.view_refresh")}</button> ` : ""}
      <span id="rules-view-msg" data-testid="rules-view-msg" class="muted">${edit ? "" : t("rules.view_editors")}</span></p>
    <div class="rules-editor">
      <div id="rules-canvas-box">${canvas()}</div>
      <div>
        <ul id="rules-shapes">${st.shapes.map(shapeItem)}</ul>
        ${edit ? html`<label>${t("rules.new")} <select id="rules-kind">${kinds.map(kindOption)}</select></label>
          <button type="button" id="rules-add">${t("rules.add")}</button>` : ""}
        <div id="rules-shape">${st.sel >= 0 && edit ? shapePanel(st.shapes[st.sel]) : ""}</div>
      </div>
    </div>
    <h2>${t("rules.thresholds")}</h2>
    ${CLASSES.map(threshold)}
    <h2>${t("rules.schedules")}</h2>
    <textarea id="rules-schedules" rows="3" cols="70">${JSON.stringify(st.rules.schedules || {})}</textarea>
    ${edit ? html`<p><label>${t("rules.reason")} <input id="rules-reason" size="50"></label>
      <label><input type="checkbox" id="rules-confirm"> ${t("rules.confirm")}</label>
      <button type="button" id="rules-save">${t("rules.save")}</button></p>` : ""}
    <p id="rules-msg" data-testid="rules-msg"></p>
    <h2>${t("rules.revisions")}</h2>
    <table><thead><tr>${["rev", "author", "reason", "when", "action"].map((c) => html`<th>${t(`rules.col.${c}`)}</th>`)}</tr></thead>
      <tbody>${data.revisions.map(revRow)}</tbody></table>`;
}

/** @param {HTMLElement} view @param {string} key @param {Object<string, string | number>} [params] @param {boolean} [bad] */
function say(view, key, params, bad = false) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#rules-msg"));
  render(box, bad ? html`<span class="error">${t(key, params)}</span>` : html`${t(key, params)}`);
}

/** @param {HTMLElement} view */
async function open(view) {
  const dev = /** @type {HTMLInputElement} */ (view.querySelector("#rules-dev")).value.trim();
  if (!dev) return;
  const body = /** @type {HTMLElement} */ (view.querySelector("#rules-body"));
  try {
    const data = await cameraRulesGetRules(dev);
    st.dev = dev;
    st.rules = data.current ? data.current.rules : {};
    st.shapes = shapesOf(st.rules);
    st.sel = -1;
    st.view = null;
    H = 360;
    render(body, page(data));
    wire(view, data);
    if (session.can("rules:write")) loadView(view, dev);
  } catch (e) {
    render(body, html`<p class="error">${t("rules.failed", { error: String(/** @type {Error} */ (e).message) })}</p>`);
  }
}

/** Ask the board for its current view, wait for the answer, show it under the shapes.
 * @param {HTMLElement} view @param {string} dev */
async function loadView(view, dev) {
  const msg = /** @type {HTMLElement | null} */ (view.querySelector("#rules-view-msg"));
  const note = (/** @type {string} */ key, /** @type {Object<string, string>} */ params = {}) => {
    if (msg) render(msg, html`${t(key, params)}`);
  };
  const purpose = t("rules.view_purpose");
  try {
    note("rules.view_asking");
    const asked = await cameraRulesRequestView(dev, purpose);
    let s = await cameraRulesViewStatus(dev, asked.req);
    for (let i = 0; i < 60 && s.status === "pending"; i++) {
      await new Promise((r) => setTimeout(r, 250)); // the board answers over MQTT
      s = await cameraRulesViewStatus(dev, asked.req);
    }
    if (st.dev !== dev) return; // another camera was opened meanwhile
    if (s.status !== "ok") {
      note("rules.view_failed", { error: s.status === "pending" ? t("rules.view_silent") : s.error || s.status });
      return;
    }
    const src = URL.createObjectURL(await (await cameraRulesViewImage(dev, asked.req, purpose)).blob());
    if (st.view) URL.revokeObjectURL(st.view.src);
    const w = s.width || W;
    const h = s.height || Math.round((W * 9) / 16);
    st.view = { src, w, h, req: asked.req };
    H = Math.round((W * h) / w);
    note("rules.view_shown", { when: fmtTime(s.answered_at || Date.now() / 1000) });
    redraw(view);
  } catch (e) {
    const err = /** @type {import("../http.js").ApiError} */ (e);
    if (err.code === "sharing_agreement" && msg) {
      // Refused by the owner's sharing agreement: said in the reader's language, the
      // server's sentence (camera, terms) beside it.
      render(msg, html`${t("rules.view_failed", { error: t("rules.view_refused_agreement") })}
        <span data-l10n="server">${err.message}</span>`);
      return;
    }
    note("rules.view_failed", { error: String(err.message) });
  }
}

/** Redraw the canvas and the shape panel (pointer edits; the rest of the page stays). @param {HTMLElement} view */
function redraw(view) {
  render(/** @type {HTMLElement} */ (view.querySelector("#rules-canvas-box")), canvas());
  const panel = /** @type {HTMLElement | null} */ (view.querySelector("#rules-shape"));
  if (panel && session.can("rules:write")) render(panel, st.sel >= 0 ? shapePanel(st.shapes[st.sel]) : html``);
  render(/** @type {HTMLElement} */ (view.querySelector("#rules-shapes")), html`${st.shapes.map(shapeItem)}`);
}

/** A pointer position as normalised image coordinates of ``el``.
 * @param {PointerEvent} ev @param {Element} el @returns {Pt} */
function pointAt(ev, el) {
  const box = el.getBoundingClientRect();
  const x = Math.min(1, Math.max(0, (ev.clientX - box.left) / box.width));
  const y = Math.min(1, Math.max(0, (ev.clientY - box.top) / box.height));
  return [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000];
}

/** Apply the shape panel's fields to the selected shape. @param {HTMLElement} view */
function readPanel(view) {
  const s = st.shapes[st.sel];
  if (!s) return;
  /** @param {string} sel */
  const val = (sel) => /** @type {HTMLInputElement | null} */ (view.querySelector(sel))?.value;
  s.name = val("#rules-name") || s.name;
  if (!ZONE_KINDS.includes(s.kind)) return;
  const z = /** @type {Zone} */ ({ ...(s.zone || {}), name: s.name, rule: s.kind, points: s.points });
  z.labels = CLASSES.filter((c) => /** @type {HTMLInputElement | null} */ (view.querySelector(`input[data-class="${c}"]`))?.checked);
  z.schedule = val("#rules-schedule") || null;
  if (s.kind === "loitering") z.dwell_s = Number(val("#rules-dwell") || 60);
  if (s.kind === "crowd") z.min_count = Number(val("#rules-count") || 10);
  if (s.kind === "line_crossing") z.direction = /** @type {Zone["direction"]} */ (val("#rules-dir") || "both");
  s.zone = z;
}

/** @param {HTMLElement} view @param {CameraRules} data */
function wire(view, data) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#rules-canvas-box"));
  const edit = session.can("rules:write");
  view.querySelector("#rules-view-refresh")?.addEventListener("click", () => { loadView(view, st.dev); });
  box.addEventListener("pointerdown", (e) => {
    const ev = /** @type {PointerEvent} */ (e);
    const svg = /** @type {SVGSVGElement | null} */ (view.querySelector("#rules-svg"));
    if (!edit || !svg || st.sel < 0) return;
    const v = /** @type {Element} */ (ev.target).getAttribute("data-v");
    if (v !== null) { st.drag = Number(v); return; }
    readPanel(view);
    st.shapes[st.sel].points.push(pointAt(ev, svg));
    redraw(view);
  });
  box.addEventListener("pointermove", (e) => {
    const ev = /** @type {PointerEvent} */ (e);
    const svg = view.querySelector("#rules-svg");
    if (st.drag < 0 || st.sel < 0 || !svg) return;
    st.shapes[st.sel].points[st.drag] = pointAt(ev, svg);
    redraw(view);
  });
  box.addEventListener("pointerup", () => { st.drag = -1; });
  view.querySelector("#rules-body")?.addEventListener("click", (e) => {
    const target = /** @type {HTMLElement} */ (e.target);
    const pick = target.getAttribute("data-select");
    if (pick !== null) { e.preventDefault(); readPanel(view); st.sel = Number(pick); redraw(view); return; }
    const back = target.getAttribute("data-rollback");
    if (back !== null) rollback(view, Number(back));
    if (target.id === "rules-add") add(view);
    if (target.id === "rules-delete" && st.sel >= 0) { st.shapes.splice(st.sel, 1); st.sel = -1; redraw(view); }
    if (target.id === "rules-save") save(view, data);
  });
}

/** @param {HTMLElement} view */
function add(view) {
  readPanel(view);
  const kind = /** @type {HTMLSelectElement} */ (view.querySelector("#rules-kind")).value;
  const n = st.shapes.filter((s) => s.kind === kind).length + 1;
  st.shapes.push({ kind, name: `${kind.replace("_", "-")}-${n}`, points: [], zone: null });
  st.sel = st.shapes.length - 1;
  redraw(view);
}

/** @param {HTMLElement} view @param {CameraRules} _data */
async function save(view, _data) {
  readPanel(view);
  const rules = rulesToSave();
  /** @type {Object<string, number>} */
  const thresholds = { ...(rules.thresholds || {}) };
  view.querySelectorAll("input[data-threshold]").forEach((el) => {
    const input = /** @type {HTMLInputElement} */ (el);
    thresholds[input.getAttribute("data-threshold") || ""] = Number(input.value);
  });
  rules.thresholds = thresholds;
  try {
    rules.schedules = JSON.parse(/** @type {HTMLTextAreaElement} */ (view.querySelector("#rules-schedules")).value || "{}");
  } catch {
    say(view, "rules.bad_schedules", {}, true);
    return;
  }
  const reason = /** @type {HTMLInputElement} */ (view.querySelector("#rules-reason")).value.trim();
  const confirm = /** @type {HTMLInputElement} */ (view.querySelector("#rules-confirm")).checked;
  try {
    const rev = await cameraRulesSetRules(st.dev, { rules, reason, confirm_no_incident_rules: confirm });
    await open(view);
    say(view, "rules.saved", { rev: rev.rev });
  } catch (e) {
    say(view, "rules.failed", { error: String(/** @type {Error} */ (e).message) }, true);
  }
}

/** @param {HTMLElement} view @param {number} rev */
async function rollback(view, rev) {
  const typed = /** @type {HTMLInputElement | null} */ (view.querySelector("#rules-reason"))?.value.trim();
  const reason = typed || t("rules.rollback_reason", { rev });
  try {
    const made = await cameraRulesRollback(st.dev, { to_rev: rev, reason, confirm_no_incident_rules: false });
    await open(view);
    say(view, "rules.rolled_back", { rev: made.rev, to: rev });
  } catch (e) {
    say(view, "rules.failed", { error: String(/** @type {Error} */ (e).message) }, true);
  }
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("rules.title")}</h1>
    <p><label>${t("rules.device")} <input id="rules-dev" data-testid="rules-dev"></label>
      <button type="button" id="rules-open">${t("rules.open")}</button></p>
    <div id="rules-body"></div>`);
  view.querySelector("#rules-open")?.addEventListener("click", () => { open(view); });
}

registerScreen({ id: "rules", navKey: "nav.rules", perm: "rules:read", mount });
