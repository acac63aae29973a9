// @ts-check
// The incident queue: the alarm queue of the server (filtered; storms folded into group
// rows) kept in a stable order (queue.js: rows never move under the pointer, new ones wait
// in a strip); handling steps (incidents_alarms.js); confirm, dismiss, merge, split, the
// incident's frames (boxes drawn here), evidence export, recommended units with ETAs,
// one-click dispatch.
import {
  alarmQueue, dispatchCreateOrder, dispatchRecommend, exportEvidence, getIncident, incidentsConfirm,
  incidentsDismiss, incidentsHandover, incidentsMerge, incidentsSplit, incidentsTransition, snapshotImage,
  snapshotsIncidentFrames, snapshotsRequestFrames,
} from "../api_client.js";
import { banner } from "../banner.js";
import { askHandover } from "../handover.js";
import { expectArray, session } from "../http.js";
import { Html, html, render, replace } from "../html.js";
import { fmtDistance, fmtPercent, fmtSeconds, fmtTime, label, t } from "../i18n.js";
import { onLive } from "../live.js";
import { StableQueue } from "../queue.js";
import { registerScreen } from "../registry.js";
import { takeCall } from "../call_dialog.js";
import { askMerge, askPurpose, askResolution, askSplit, dispositionLabel, dispositions } from "../incident_dialogs.js";
import {
  ask, dialogShell, filterBar, groupRow, handle, handleGroup, handlingButtons, handlingCell, readFilters,
  reasons, strip,
} from "../alarms.js";

/** @typedef {import("../api_client.js").Candidate} Candidate */
/** @typedef {import("../api_client.js").Frame} Frame */
/** @typedef {import("../api_client.js").Incident} Incident */
/** @typedef {import("../api_client.js").QueueRow} QueueRow */
/** @typedef {import("../api_client.js").IncidentDetail} IncidentDetail */

/** Disposition code → its label in the reader's language (filled when the screen mounts). */
const DISPOSITIONS = new Map();

/** @type {string[]} */
const OPEN = ["new", "confirmed", "dispatched", "en_route", "on_scene"];
/** @type {Array<"new" | "confirmed" | "dispatched" | "en_route" | "on_scene" | "resolved" | "dismissed">} */
const ALL = ["new", "confirmed", "dispatched", "en_route", "on_scene", "resolved", "dismissed"];

/**
 * @typedef {Object} State
 * @property {HTMLElement} view
 * @property {HTMLElement} tbody
 * @property {HTMLElement} count
 * @property {HTMLElement} strip
 * @property {StableQueue<QueueRow>} queue
 * @property {Map<string, Html>} extra
 * @property {boolean} showAll
 * @property {(() => void) | null} off
 * @property {ReturnType<typeof setTimeout> | null} timer
 * @property {ReturnType<typeof setInterval> | null} settler
 */
/** @type {State | null} */
let st = null;
/** @returns {State} */
const state = () => /** @type {State} */ (st);

/** @param {string} act @param {string} key */
const button = (act, key) => html`<button data-act="${act}">${t(key)}</button>`;

/** The buttons the operator's role may use on this incident. @param {Incident} i */
function actions(i) {
  const can = session.can("incidents:act");
  const acts = [];
  if (can && i.status === "new") acts.push(button("confirm", "incidents.confirm"), button("dismiss", "incidents.dismiss"));
  if (can && ["confirmed", "new"].includes(i.status)) acts.push(button("merge", "incidents.merge"));
  if (can && (i.event_count || 0) > 1) acts.push(button("split", "incidents.split"));
  if (session.can("snapshots:request")) {
    acts.push(button("snapshot", "incidents.snapshot"), button("evidence", "incidents.export_evidence"));
  }
  if (session.can("dispatch:act") && ["new", "confirmed"].includes(i.status)) acts.push(button("recommend", "incidents.units"));
  if (can && ["dispatched", "en_route", "on_scene"].includes(i.status)) acts.push(button("resolve", "incidents.resolve"));
  if (can && OPEN.includes(i.status)) acts.push(button("handover", "incidents.handover"));
  return [...handlingButtons(i), ...acts, button("details", "incidents.details")];
}

/** @param {Incident} i one incident @param {boolean} [gone] left the queue while held */
function row(i, gone = false) {
  return html`<tr data-id="${i.id}" data-key="i:${i.id}" data-status="${i.status}" class="${gone ? "gone" : ""}">
    <td><span class="pill pri-${i.priority}">${t("incidents.priority", { p: i.priority })}</span></td>
    <td class="idcell">${i.id}</td><td>${label("incidents.kind.", i.kind)}<br>${reasons(i)}</td>
    <td data-testid="centre">${i.centre_id || ""}</td>
    <td>${i.zone || ""}${i.address ? html`<div class="muted" data-testid="address">${i.address}</div>` : ""}</td>
    <td class="cams">${i.source === "call" ? html`<span data-testid="from-call">${t("calls.from_call")}</span>`
      : i.devices.join(t("common.list_sep"))}</td>
    <td>${i.confidence != null ? fmtPercent(i.confidence) : ""}</td>
    <td class="st-${i.status}"><span data-testid="status">${label("incidents.status.", i.status)}</span>${disposition(i)}
      <br>${handlingCell(i)}</td>
    <td>${fmtTime(i.updated_at || i.created_at)}</td>
    <td class="actions">${gone ? "" : actions(i)}<div class="recs">${state().extra.get(i.id) || ""}</div></td></tr>`;
}

/** How a resolved incident ended. @param {Incident} i */
const disposition = (i) => (i.disposition ? html` · <span data-testid="disposition" data-l10n="server"
  >${DISPOSITIONS.get(i.disposition) || i.disposition}</span>` : "");

/** @param {QueueRow} r @param {boolean} gone */
const queueRow = (r, gone) => (r.type === "group" ? groupRow(r, gone) : row(/** @type {Incident} */ (r.incident), gone));

/** @param {string} id */
const rowOf = (id) => state().tbody.querySelector(`tr[data-id="${CSS.escape(id)}"]`);

// What an action put under a row (recommended units, a snapshot) survives the row being
// redrawn by a live update, so a Dispatch button never vanishes under the operator's click.
/** @param {string} id @param {Html | null} content */
function setExtra(id, content) {
  if (content) state().extra.set(id, content); else state().extra.delete(id);
  const box = rowOf(id)?.querySelector(".recs");
  if (box) render(box, content || html``);
}

// The whole table is drawn only when the queue settles; otherwise each row on screen is
// redrawn where it stands (same height: one line per cell), so nothing under the pointer moves.
/** @param {boolean} settled */
function draw(settled) {
  const s = state();
  const rows = s.queue.rows();
  if (settled) {
    render(s.tbody, rows.length ? html`${rows.map((r) => queueRow(r.row, r.gone))}`
      : html`<tr><td colspan="10" class="muted">${t("incidents.none_open")}</td></tr>`);
  } else {
    for (const r of rows) {
      const tr = s.tbody.querySelector(`tr[data-key="${CSS.escape(r.key)}"]`);
      if (tr) replace(tr, queueRow(r.row, r.gone));
    }
  }
  render(s.strip, strip(s.queue.waiting()));
  s.count.textContent = String(rows.filter((r) => !r.gone).length);
}

/** Redraw after an action (the answer of the action is shown at once, in place). @param {Incident} inc */
function upsert(inc) {
  const tr = rowOf(inc.id);
  if (tr) { replace(tr, row(inc)); rowOf(inc.id)?.classList.add("flash"); }
  refreshSoon();
}

async function load() {
  const s = state();
  const q = await alarmQueue({ ...readFilters(s.view), status: s.showAll ? ALL : undefined, limit: 500 });
  if (st !== s) return;  // the screen was left meanwhile
  draw(s.queue.update(expectArray(q.rows, "queue"), Date.now()));
}

// Live changes are many in a storm: one read of the queue per half second carries them all.
function refreshSoon() {
  const s = state();
  if (s.timer) return;
  s.timer = setTimeout(() => { s.timer = null; if (st === s) load().catch(() => {}); }, 500);
}

// Why a unit is proposed, in the reader's language from the candidate's fields; the ranking's
// own notes that change the order (zone tie-break, coverage guard) follow in its words, and
// all of its reasons are in the ⓘ tooltip.
const RESTATED = /^(ETA |position |stale position|home zone|outside every patrol zone)/;

/** @param {Candidate} u @param {string | null} zone the incident's */
function why(u, zone) {
  const home = zone == null ? t("incidents.rec.no_zone")
    : u.home_zone === zone ? t("incidents.rec.own_zone") : t("incidents.rec.other_zone", { home: u.home_zone || "–", zone });
  const age = u.position_age_s == null ? t("units.no_position") : t("incidents.rec.position", { age: fmtSeconds(u.position_age_s) });
  const parts = [label("units.mode.", u.mode), u.distance_m != null ? fmtDistance(u.distance_m) : "", age,
    u.stale ? t("units.stale") : "", home].filter(Boolean);
  const notes = u.reasons.filter((r) => !RESTATED.test(r) && !r.includes(" by road"));
  return html`${parts.join(" · ")}${notes.map((r) => html` · <span data-l10n="server">${r}</span>`)}`;
}

/** @param {string | null} zone @returns {(u: Candidate, n: number) => Html} */
const recommendation = (zone) => (u, n) => html`<div data-testid="rec">${n + 1}.
  <b>${u.call_sign}</b> ${t(u.method === "road" ? "incidents.eta" : "incidents.eta_estimated", { eta: fmtSeconds(u.eta_s) })}
  · ${why(u, zone)} <span class="muted" data-l10n="server" title="${u.reasons.join(" · ")}">ⓘ</span>
  <button class="primary" data-dispatch="${u.unit}">${t("incidents.dispatch")}</button></div>`;

/** @param {string} id */
async function recommend(id) {
  setExtra(id, html`<span class="muted">${t("incidents.ranking")}</span>`);
  const r = await dispatchRecommend({ incident_id: id, k: 3 });
  const list = expectArray(r.candidates, "recommendations");
  const none = t(r.skipped?.length ? "incidents.no_unit_skipped" : "incidents.no_unit", { n: r.skipped?.length || 0 });
  setExtra(id, list.length ? html`${list.map(recommendation(r.zone))}` : html`<span class="muted">${none}</span>`);
}

/** @param {string} id @param {string} what */
async function act(id, what) {
  if (what.startsWith("h-")) {
    const out = await handle(state().view, id, what.slice(2));
    if (out) upsert(out);
  } else if (what === "confirm") upsert(await incidentsConfirm(id, {}));
  else if (what === "dismiss") {
    const reason = await ask(state().view, { title: t("incidents.dismiss"), label: t("incidents.ask_dismiss"), required: true });
    if (reason) upsert(await incidentsDismiss(id, { reason }));
  } else if (what === "merge") {
    const into = await askMerge(await getIncident(id));
    // The chosen incident absorbs this one (reversible: "unmerge" in the API).
    if (into) {
      await incidentsMerge(into, { sources: [id] });
      banner(t("dialogs.merge.done"), "info");
      await load();
    }
  } else if (what === "split") {
    const devices = await askSplit(id);
    if (devices) {
      await incidentsSplit(id, { device_ids: devices });
      banner(t("dialogs.split.done", { n: devices.length }), "info");
      await load();
    }
  } else if (what === "resolve") {
    const answer = await askResolution(t("dialogs.resolve.title"));
    if (answer) upsert(await incidentsTransition(id, { status: "resolved", ...answer }));
  } else if (what === "details") await details(id);
  else if (what === "snapshot") await frames(id);
  else if (what === "evidence") await exportIncident(id);
  else if (what === "recommend") await recommend(id);
  else if (what === "handover") await handover(id);
}

// The incident's record under its row: how it ended (disposition, narrative) and its log.
/** @param {IncidentDetail["history"][number]} h */
function step(h) {
  const d = /** @type {Record<string, unknown>} */ (h.detail || {});
  const code = typeof d.disposition === "string" ? d.disposition : "";
  const note = [d.narrative, d.note, d.reason, d.text].find((v) => typeof v === "string" && v) || "";
  const landmark = typeof d.landmark === "string" ? d.landmark : "";  // a call's place, as the caller named it
  return html`<li data-testid="history-step"><span class="muted">${fmtTime(Number(h.ts))}</span>
    ${label("incidents.log.", String(h.action))} · <span data-l10n="data">${String(h.actor)}</span>
    ${code ? html` · <b data-testid="history-disposition" data-l10n="server">${DISPOSITIONS.get(code) || code}</b>` : ""}
    ${landmark ? html` · <span data-l10n="data" data-testid="history-landmark">${landmark}</span>` : ""}
    ${note ? html` · <span data-l10n="data">${String(note)}</span>` : ""}</li>`;
}

/** @param {string} id */
async function details(id) {
  const inc = await getIncident(id);
  const ended = inc.disposition ? html`<p data-testid="detail-disposition"><b>${t("incidents.disposition")}</b>
    <span data-l10n="server">${DISPOSITIONS.get(inc.disposition) || inc.disposition}</span>
    ${inc.narrative ? html` · <span data-l10n="data" data-testid="detail-narrative">${inc.narrative}</span>` : ""}</p>` : "";
  setExtra(id, html`<div class="detail" data-testid="incident-detail">${ended}
    <ol class="history">${inc.history.map(step)}</ol></div>`);
}

/** @param {string} id */
async function handover(id) {
  const answer = await askHandover(id, (await getIncident(id)).centre_id);
  if (!answer) return;
  upsert(await incidentsHandover(id, answer));
  banner(t("incidents.handed_over", { centre: answer.centre }), "info");
}

// Frames on demand (never video): ask the incident's cameras for its events' frames, wait
// for the answers, show each JPEG as the board sent it with the events' boxes drawn over it
// (an SVG in thousandths of the image, the unit the boxes come in).
/** @param {string} id */
async function frames(id) {
  const purpose = await askPurpose("frames");
  if (purpose === null) return;
  setExtra(id, html`<span class="muted">${t("incidents.asking_camera")}</span>`);
  /** @type {Html[]} */
  let refused = [];
  try {
    const asked = await snapshotsRequestFrames(id, { purpose });
    refused = asked.refused.map((r) => r.agreement
      ? html`<div class="error" data-testid="refused">${t("incidents.refused_agreement_camera", { device: r.device_id })}</div>`
      : html`<div class="error" data-testid="refused">${r.device_id}: <span data-l10n="server">${r.reason}</span></div>`);
  } catch (e) {
    setExtra(id, refusedBy(/** @type {import("../http.js").ApiError} */ (e)));
    return;
  }
  /** @type {Frame[]} */
  let list = [];
  for (let i = 0; i < 80; i++) {
    list = expectArray(await snapshotsIncidentFrames(id), "frames");
    if (!list.some((f) => f.status === "pending")) break;
    await new Promise((ok) => setTimeout(ok, 250));
  }
  const shown = await Promise.all(list.map((f) => frame(f, purpose)));
  setExtra(id, html`<div class="frames" data-testid="frames">${refused}${shown}</div>`);
}

// A refusal by the camera owners' agreements is said in the reader's language, with the
// server's sentence (which cameras, which terms) beside it.
/** @param {import("../http.js").ApiError} e */
function refusedBy(e) {
  if (e.code !== "sharing_agreement") return html`<span class="error" data-testid="refused">${e.message}</span>`;
  return html`<div class="error" data-testid="refused" data-code="sharing_agreement"><b>${t("incidents.refused_agreement")}</b>
    <span class="muted" data-l10n="server">${e.message}</span></div>`;
}

/** @param {Frame} f @param {string} purpose */
async function frame(f, purpose) {
  if (f.status !== "ok") {
    const error = f.status === "pending" ? t("incidents.camera_silent") : f.error || f.status;
    const why = t("incidents.snapshot_error", { error: `${f.device_id}: ${error}` });
    return html`<div class="error" data-testid="frame-error">${why}</div>`;
  }
  const src = URL.createObjectURL(await (await snapshotImage(f.req, purpose)).blob());
  const boxes = f.boxes.map((b) => {
    const [x1, y1, x2, y2] = b.box;
    return html`<rect data-testid="box" x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}"></rect>`;
  });
  const when = fmtTime(f.t || f.created_at);
  return html`<figure class="frame" data-testid="frame" data-event="${f.event_id}">
    <div class="frame-img"><img alt="${t("incidents.frame_from", { device: f.device_id })}" src="${src}">
    <svg viewBox="0 0 1000 1000" preserveAspectRatio="none" aria-hidden="true">${boxes}</svg></div>
    <figcaption>${f.device_id} · ${label("incidents.phase.", f.phase)} · ${when}</figcaption></figure>`;
}

// The incident as a zip for hand-over: frames, events, action log, SHA-256 manifest.
/** @param {string} id */
async function exportIncident(id) {
  const purpose = await askPurpose("export");
  if (!purpose) return;
  const res = await exportEvidence(id, { purpose });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await res.blob());
  a.download = `evidence-${id}.zip`;
  a.click();
  banner(t("incidents.exported", { sha: res.headers.get("X-Manifest-SHA256") || "" }), "info");
}

/** @param {string} id @param {string} unit */
async function dispatch(id, unit) {
  try {
    const r = await dispatchCreateOrder({ incident_id: id, unit_id: unit });
    banner(t("incidents.order_sent", { unit: r.unit_id }), "info");
    setExtra(id, null);
    upsert(await getIncident(id));
  } catch (e) {
    banner(t("incidents.dispatch_failed", { error: e.message }));
  }
}

/** @param {string} gid @param {string} what */
async function actGroup(gid, what) {
  const out = await handleGroup(state().view, gid, what.slice(2));
  if (!out) return;
  const note = t("alarms.group.done", { n: out.acted, skipped: out.skipped.length });
  banner(note, "info");
  refreshSoon();
}

/** @param {MouseEvent} e */
function onClick(e) {
  const target = /** @type {HTMLElement} */ (e.target);
  const group = /** @type {HTMLElement | null} */ (target.closest("tr[data-group]"));
  if (group?.dataset.group && target.dataset.act) {
    const what = target.dataset.act;
    actGroup(group.dataset.group, what).catch((err) => banner(t("incidents.action_failed", { action: what, error: err.message })));
    return;
  }
  const tr = /** @type {HTMLElement | null} */ (target.closest("tr[data-id]"));
  const id = tr?.dataset.id;
  if (!id) return;
  const what = target.dataset.act;
  const failed = (/** @type {Error} */ err) =>
    banner(t("incidents.action_failed", { action: label("incidents.act.", what), error: err.message }));
  if (what) act(id, what).catch(failed);
  if (target.dataset.dispatch) dispatch(id, target.dataset.dispatch);
}

function head() {
  const cols = ["p", "id", "kind", "centre", "zone", "cameras", "confidence", "status", "updated", "actions"];
  // (the kind column carries the priority reasons, the status column the handling state)
  return html`<thead><tr>${cols.map((c) => html`<th>${t(`incidents.col.${c}`)}</th>`)}</tr></thead>`;
}

// A call taken here is shown at once: its own row is not held back in the new-arrivals strip.
async function called() {
  const inc = await takeCall();
  if (!inc) return;
  banner(t("calls.saved", { address: inc.address || inc.zone || "" }), "info");
  const s = state();
  await load();
  if (st !== s) return;
  s.queue.settle(Date.now());
  draw(true);
  rowOf(inc.id)?.classList.add("flash");
}

/** @param {HTMLElement} view */
async function mount(view) {
  const call = session.can("incidents:act")
    ? html`<button class="primary" id="inc-call" data-testid="new-call">${t("calls.new")}</button>` : "";
  render(view, html`<h1>${t("incidents.title")} <span class="pill" id="inc-count">0</span> ${call}</h1>
    ${filterBar()}
    <label class="inline"><input type="checkbox" id="inc-all"> ${t("incidents.show_closed")}</label>
    <div id="inc-strip" class="strip" data-testid="new-strip"></div>
    <table id="inc-table" class="queue">${head()}<tbody id="inc-body"></tbody></table>${dialogShell()}`);
  /** @type {State} */
  const s = {
    view,
    tbody: /** @type {HTMLElement} */ (view.querySelector("#inc-body")),
    count: /** @type {HTMLElement} */ (view.querySelector("#inc-count")),
    strip: /** @type {HTMLElement} */ (view.querySelector("#inc-strip")),
    queue: new StableQueue((/** @type {QueueRow} */ r) => `${r.type === "group" ? "g" : "i"}:${r.id}`),
    extra: new Map(), showAll: false, off: null, timer: null, settler: null,
  };
  st = s;
  for (const d of await dispositions().catch(() => [])) DISPOSITIONS.set(d.code, dispositionLabel(d));
  const reload = () => { s.queue = new StableQueue(s.queue.keyOf); load().catch((err) => banner(err.message)); };
  view.querySelector("#inc-all")?.addEventListener("change", (e) => {
    s.showAll = /** @type {HTMLInputElement} */ (e.target).checked;
    reload();
  });
  view.querySelector(".filters")?.addEventListener("change", reload);
  s.tbody.addEventListener("click", onClick);
  view.querySelector("#inc-call")?.addEventListener("click", () => { called().catch((err) => banner(err.message)); });
  // Held while the pointer is over the queue or a dialog is open: rows stay where they are.
  const table = /** @type {HTMLElement} */ (view.querySelector("#inc-table"));
  const dialog = /** @type {HTMLDialogElement} */ (view.querySelector("#alarm-dialog"));
  let pointerIn = false;
  // (any dialog: the merge, split, purpose and resolution dialogs are appended to the page)
  const hold = () => { s.queue.held = pointerIn || dialog.open || !!document.querySelector("dialog[open]"); };
  table.addEventListener("pointerenter", () => { pointerIn = true; hold(); });
  table.addEventListener("pointerleave", () => { pointerIn = false; hold(); });
  dialog.addEventListener("close", hold);
  s.strip.addEventListener("click", (e) => {
    if (/** @type {HTMLElement} */ (e.target).dataset.act !== "show-new") return;
    s.queue.settle(Date.now());
    draw(true);
  });
  s.settler = setInterval(() => {
    hold();
    if (s.queue.pending.length + s.queue.gone.size && s.queue.canSettle(Date.now())) { s.queue.settle(Date.now()); draw(true); }
  }, 1000);
  await load();
  s.off = onLive((kind) => {
    if (kind === "incident" || kind === "resync") refreshSoon();
  });
}

function unmount() {
  if (st?.off) st.off();
  if (st?.timer) clearTimeout(st.timer);
  if (st?.settler) clearInterval(st.settler);
  st = null;
}

registerScreen({ id: "incidents", navKey: "nav.incidents", perm: "incidents:read", mount, unmount });
