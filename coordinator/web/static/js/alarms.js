// @ts-check
// Alarm management on the incident queue: the filters, the handling column and buttons
// (acknowledge, claim, assign, hold, close …), group rows (a storm as one row) with their
// group actions, the priority reasons, the new-arrivals strip, and the in-page dialog
// every step that needs an answer opens (never prompt()).
import { alarmAssignees, alarmsHandle, alarmsHandleGroup } from "./api_client.js";
import { fmtTime, session } from "./http.js";
import { html, render } from "./html.js";
import { t } from "./i18n.js";
import { askResolution } from "./incident_dialogs.js";

/** @typedef {import("./api_client.js").Incident} Incident */
/** @typedef {import("./api_client.js").IncidentGroup} IncidentGroup */
/** @typedef {import("./api_client.js").QueueRow} QueueRow */
/** @typedef {import("./api_client.js").HandlingBody} HandlingBody */
/** @typedef {import("./api_client.js").GroupHandlingBody} GroupHandlingBody */
/** @typedef {"new" | "acknowledged" | "in_progress" | "on_hold" | "closed"} HandlingState */

export const KINDS = ["intrusion", "loitering", "line_crossing", "crowd"];
export const HANDLING = ["new", "acknowledged", "in_progress", "on_hold", "closed"];

/** @param {string} v @param {string} label */
const opt = (v, label) => html`<option value="${v}">${label}</option>`;

/** @param {string} id @param {string} key @param {import("./html.js").Html[]} options */
const select = (id, key, options) => html`<label>${t(key)}
  <select id="${id}">${opt("", t("alarms.filter.any"))}${options}</select></label>`;

/** The filter bar (zone, kind, priority, handling state). */
export function filterBar() {
  const priorities = [1, 2, 3, 4, 5].map((p) => opt(String(p), t("incidents.priority", { p })));
  return html`<div class="filters" data-testid="queue-filters">
    <label>${t("alarms.filter.zone")} <input id="f-zone" size="6" placeholder="${t("alarms.filter.any")}"></label>
    ${select("f-kind", "alarms.filter.kind", KINDS.map((k) => opt(k, t(`alarms.kind.${k}`))))}
    ${select("f-priority", "alarms.filter.priority", priorities)}
    ${select("f-handling", "alarms.filter.handling", HANDLING.map((h) => opt(h, t(`alarms.handling.${h}`))))}
  </div>`;
}

/** The API query the filter bar describes. @param {HTMLElement} view */
export function readFilters(view) {
  const val = (/** @type {string} */ sel) => /** @type {HTMLInputElement} */ (view.querySelector(sel))?.value.trim() || "";
  /** @type {{ zone?: string, kind?: string[], priority?: number[], handling?: HandlingState[] }} */
  const q = {};
  if (val("#f-zone")) q.zone = val("#f-zone");
  if (val("#f-kind")) q.kind = [val("#f-kind")];
  if (val("#f-priority")) q.priority = [Number(val("#f-priority"))];
  if (val("#f-handling")) q.handling = [/** @type {HandlingState} */ (val("#f-handling"))];
  return q;
}

/** The row's priority reasons, largest first, on one line. @param {Incident} i */
export function reasons(i) {
  const list = i.priority_reasons || [];
  const what = (/** @type {import("./api_client.js").PriorityReason} */ r) =>
    (r.code === "kind" ? t(`alarms.kind.${r.value}`) : t(`alarms.reason.${r.code}`, { v: r.value ?? "" }));
  const text = list.map((r) => `${r.points > 0 ? "+" : ""}${r.points} ${what(r)}`);
  return html`<span class="why" data-testid="reasons" title="${text.join("\n")}">${text.join(" · ")}</span>`;
}

/** The handling state and who holds it. @param {Incident} i */
export function handlingCell(i) {
  const h = i.handling || "new";
  const who = i.assignee ? html` <span class="muted">· ${i.assignee}</span>` : "";
  return html`<span class="hs hs-${h}" data-testid="handling">${t(`alarms.handling.${h}`)}</span>${who}`;
}

/** @param {string} act @param {string} key */
const button = (act, key) => html`<button data-act="${act}">${t(key)}</button>`;

/** Handling buttons the operator may use on this incident. @param {Incident} i */
export function handlingButtons(i) {
  if (!session.can("incidents:act")) return [];
  const h = i.handling || "new";
  const me = session.get()?.username;
  const out = [];
  if (h === "new") out.push(button("h-acknowledge", "alarms.acknowledge"));
  if (h !== "closed" && i.assignee !== me) out.push(button("h-claim", "alarms.claim"));
  if (h !== "closed") out.push(button("h-assign", "alarms.assign"));
  if (["new", "acknowledged", "in_progress"].includes(h)) out.push(button("h-hold", "alarms.hold"));
  if (h === "on_hold") out.push(button("h-resume", "alarms.resume"));
  if (h !== "closed" && !["dispatched", "en_route", "on_scene"].includes(i.status)) out.push(button("h-close", "alarms.close"));
  if (h === "closed") out.push(button("h-reopen", "alarms.reopen"));
  return out;
}

/** A group of related alarms as one row. @param {QueueRow} r @param {boolean} gone */
export function groupRow(r, gone) {
  const g = /** @type {IncidentGroup} */ (r.group);
  const kinds = g.kinds.map((k) => t(`alarms.kind.${k}`)).join(", ");
  const span = `${fmtTime(g.first_ts)} – ${fmtTime(g.last_ts)}`;
  const acts = session.can("incidents:act") && !gone ? html`${button("g-acknowledge", "alarms.group.acknowledge")}
    ${button("g-close", "alarms.group.close")}${button("g-dismiss", "alarms.group.dismiss")}` : "";
  return html`<tr data-group="${g.id}" data-key="g:${g.id}" class="group-row${gone ? " gone" : ""}">
    <td><span class="pill pri-${r.priority}">${t("incidents.priority", { p: r.priority })}</span></td>
    <td colspan="3"><b data-testid="group-count">${t("alarms.group.count", { n: g.count })}</b> · ${kinds}
      <div class="why">${t("alarms.group.open", { n: g.open ?? g.count })} · ${span}</div></td>
    <td>${g.zone || ""}</td><td colspan="3" class="muted">${t("alarms.group.newest", { when: fmtTime(g.last_ts) })}</td>
    <td class="actions">${acts}</td></tr>`;
}

/** The new-arrivals strip: how many wait and the most urgent of them. @param {QueueRow[]} waiting */
export function strip(waiting) {
  if (!waiting.length) return html`<span class="muted">${t("alarms.strip.none")}</span>`;
  const top = [...waiting].sort((a, b) => a.priority - b.priority).slice(0, 4);
  const chip = (/** @type {QueueRow} */ r) => html`<span class="pill pri-${r.priority}">${r.type === "group"
    ? t("alarms.group.count", { n: r.group?.count || 0 }) : t(`alarms.kind.${r.incident?.kind}`)}</span>`;
  return html`<span data-testid="new-count">${t("alarms.strip.waiting", { n: waiting.length })}</span> ${top.map(chip)}
    <button class="primary" data-act="show-new" data-testid="show-new">${t("alarms.strip.show", { n: waiting.length })}</button>`;
}

// The in-page dialog ----------------------------------------------------------------------

/** The dialog element every handling step uses. */
export const dialogShell = () => html`<dialog id="alarm-dialog" data-testid="alarm-dialog"><form method="dialog">
  <h2 class="dialog-title"></h2><div class="dialog-body"></div>
  <p class="dialog-error" data-testid="dialog-error"></p>
  <menu><button value="cancel" data-testid="dialog-cancel" formnovalidate>${t("alarms.dialog.cancel")}</button>
  <button value="ok" class="primary" data-testid="dialog-ok">${t("alarms.dialog.ok")}</button></menu></form></dialog>`;

/**
 * Ask in the page; resolves with the field's value, or null when cancelled.
 * @param {HTMLElement} view
 * @param {{ title: string, label: string, choices?: string[], required?: boolean }} spec
 * @returns {Promise<string | null>}
 */
export function ask(view, spec) {
  const dlg = /** @type {HTMLDialogElement} */ (view.querySelector("#alarm-dialog"));
  render(/** @type {HTMLElement} */ (dlg.querySelector(".dialog-title")), html`${spec.title}`);
  const field = spec.choices
    ? html`<select name="value" data-testid="dialog-field" required>${spec.choices.map((c) => html`<option>${c}</option>`)}</select>`
    : spec.required ? html`<textarea name="value" rows="3" cols="40" data-testid="dialog-field" required minlength="3"></textarea>`
      : html`<textarea name="value" rows="3" cols="40" data-testid="dialog-field"></textarea>`;
  render(/** @type {HTMLElement} */ (dlg.querySelector(".dialog-body")), html`<label>${spec.label}<br>${field}</label>`);
  render(/** @type {HTMLElement} */ (dlg.querySelector(".dialog-error")), html``);
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      const v = /** @type {HTMLInputElement} */ (dlg.querySelector("[name=value]")).value.trim();
      resolve(dlg.returnValue === "ok" ? v : null);
    }, { once: true });
  });
}

/**
 * One handling step on an incident (asking first when the step needs an answer).
 * @param {HTMLElement} view @param {string} id @param {string} action
 * @returns {Promise<Incident | null>}
 */
export async function handle(view, id, action) {
  /** @type {HandlingBody} */
  const body = { action: /** @type {HandlingBody["action"]} */ (action) };
  if (action === "assign") {
    const choices = (await alarmAssignees()).map((a) => a.username);
    const who = await ask(view, { title: t("alarms.dialog.assign"), label: t("alarms.dialog.assignee"), choices });
    if (!who) return null;
    body.assignee = who;
  } else if (action === "hold") {
    const note = await ask(view, { title: t("alarms.dialog.hold"), label: t("alarms.dialog.hold_note"), required: true });
    if (note === null) return null;
    body.note = note;
  } else if (action === "close") {
    // Closing an alarm nobody was sent to resolves the incident: how it ended is recorded.
    const answer = await askResolution(t("alarms.dialog.close"));
    if (!answer) return null;
    body.disposition = answer.disposition;
    body.note = answer.narrative;
  }
  return alarmsHandle(id, body);
}

/**
 * A step on every member of a group; returns how many moved and how many were skipped.
 * @param {HTMLElement} view @param {string} gid @param {string} action
 */
export async function handleGroup(view, gid, action) {
  /** @type {GroupHandlingBody} */
  const body = { action: /** @type {GroupHandlingBody["action"]} */ (action) };
  if (action === "dismiss") {
    const reason = await ask(view, { title: t("alarms.dialog.dismiss_group"), label: t("alarms.dialog.dismiss_reason"), required: true });
    if (!reason) return null;
    body.reason = reason;
  } else if (action === "close") {
    const answer = await askResolution(t("alarms.dialog.close_group"));
    if (!answer) return null;
    body.disposition = answer.disposition;
    body.reason = answer.narrative;
  }
  return alarmsHandleGroup(gid, body);
}
