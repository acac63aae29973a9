// @ts-check
// The foreigners' service hall: a counter's queue, the application form, one case with its
// documents (kept encrypted), its steps, the decision with its reason, and collection.
import {
  hallAcknowledge, hallAddDocument, hallAlerts, hallApply, hallCatalogue, hallDecide, hallGetCase, hallQueue,
  hallReadDocument, hallStats, hallStep,
} from "../api_client.js";
import { expectArray } from "../http.js";
import { html, render } from "../html.js";
import { fmtDate, fmtNumber, fmtTime, label, locale, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").HallCase} HallCase */
/** @typedef {import("../api_client.js").HallCaseItem} HallCaseItem */
/** @typedef {import("../api_client.js").HallCatalogue} HallCatalogue */
/** @typedef {import("../api_client.js").HallAlert} HallAlert */
/** @typedef {import("../api_client.js").HallStats} HallStats */

/** @type {HallCatalogue | null} */
let catalogue = null;
let counter = "A";
const purpose = () => t("hall.purpose");

/** A catalogue entry's name in the reader's language. @param {Object<string, string>} names */
const named = (names) => names[locale()] || names.en || "";
/** @param {string} code */
const serviceName = (code) => {
  const s = catalogue?.services.find((x) => x.code === code);
  return s ? named(s.name) : code;
};
/** @param {string} code */
const docName = (code) => {
  const d = catalogue?.documents.find((x) => x.code === code);
  return d ? named(d.name) : code;
};

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(k)}</th>`)}</tr></thead>`;

/** @param {HallCaseItem} c */
const queueRow = (c) => html`<tr data-case="${c.id}">
  <td data-l10n="data">${c.receipt}</td><td data-l10n="data">${c.applicant_name}</td><td data-l10n="data">${c.nationality}</td>
  <td>${serviceName(c.service)}</td><td>${label("hall.status.", c.status)}
    ${c.overdue ? html` <span class="pill pri-1" data-testid="overdue">${t("hall.overdue")}</span>` : ""}</td>
  <td>${fmtTime(c.due_at)}</td><td><button type="button" data-open="${c.id}">${t("hall.open")}</button></td></tr>`;

/** @param {HallAlert} a */
const alertRow = (a) => html`<li><span class="pill ${a.kind === "overdue" ? "pri-1" : ""}">${label("hall.alert.", a.kind)}</span>
  <span data-l10n="data">${a.receipt} ${a.applicant_name}</span> · ${serviceName(a.service)} · ${fmtTime(a.due_at)}
  <button type="button" data-open="${a.case_id}">${t("hall.open")}</button>
  <button type="button" data-ack="${a.id}">${t("hall.ack")}</button></li>`;

/** A count, or the mark of a suppressed one. @param {number | null | undefined} n */
const count = (n) => (n == null ? html`<span class="muted" title="${t("hall.suppressed")}">${t("hall.under_five")}</span>` : fmtNumber(n));

/** @param {HallStats} s */
function statsPart(s) {
  const nats = Object.keys(s.by_nationality).sort();
  const services = Object.keys(s.by_service);
  const cell = (/** @type {string} */ n, /** @type {string} */ v) => s.cells.find((c) => c.nationality === n && c.service === v);
  return html`<p>${t("hall.stats_total")} ${count(s.total)}</p><table data-testid="hall-stats">
    <thead><tr><th>${t("hall.col.nationality")}</th>${services.map((v) => html`<th>${serviceName(v)}</th>`)}
      <th>${t("hall.stats_all")}</th></tr></thead><tbody>${nats.map((n) => html`<tr><td data-l10n="data">${n}</td>
      ${services.map((v) => html`<td>${cell(n, v) ? count(cell(n, v)?.count) : "0"}</td>`)}
      <td>${count(s.by_nationality[n])}</td></tr>`)}</tbody></table>`;
}

/** @param {HTMLElement} view */
async function loadQueue(view) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#hall-queue"));
  try {
    const rows = expectArray(await hallQueue(counter, purpose()), "hall queue");
    const cols = ["receipt", "applicant", "nationality", "service", "status", "due", "action"].map((c) => `hall.col.${c}`);
    const body = rows.length ? rows.map(queueRow) : html`<tr><td colspan="7" class="muted">${t("common.queue_empty")}</td></tr>`;
    render(box, html`<table data-testid="hall-queue">${head(cols)}<tbody>${body}</tbody></table>`);
    const alerts = expectArray(await hallAlerts(purpose()), "hall alerts");
    const abox = /** @type {HTMLElement} */ (view.querySelector("#hall-alerts"));
    render(abox, alerts.length ? html`<ul>${alerts.map(alertRow)}</ul>` : html`<p class="muted">${t("hall.no_alerts")}</p>`);
  } catch (e) { render(box, html`<p class="error">${e.message}</p>`); }
}

/** @param {HallCase} c */
function docsPart(c) {
  const kept = (/** @type {string} */ code) => c.documents.filter((d) => d.doc === code);
  const open = !["collected", "rejected", "withdrawn"].includes(c.status);
  return html`<table data-testid="hall-docs">${head(["hall.col.document", "hall.col.kept", "hall.col.upload"])}<tbody>
    ${c.documents_required.map((code) => html`<tr data-doc="${code}"><td>${docName(code)}</td>
      <td>${kept(code).length ? kept(code).map((d) => html`<span class="pill" data-l10n="data">${d.filename}</span>
        <button type="button" data-view="${d.file_id}">${t("hall.view")}</button> `)
        : html`<span class="muted">${t("hall.missing")}</span>`}</td>
      <td>${open ? html`<input type="file" accept="application/pdf,image/jpeg,image/png" data-file="${code}">
        <button type="button" data-upload="${code}">${t("hall.upload")}</button>` : ""}</td></tr>`)}
  </tbody></table>`;
}

/** The actions the case's status allows. @param {HallCase} c */
function actionsPart(c) {
  const step = (/** @type {string} */ s) => html`<button type="button" class="primary" data-step="${s}">${t(`hall.do.${s}`)}</button>`;
  const withdraw = html`<label>${t("hall.withdraw_note")}<input id="hall-note" size="30"></label>${step("withdrawn")}`;
  const decision = html`<form id="hall-decide" class="card">
    <label><input type="radio" name="approve" value="yes" checked> ${t("hall.approve")}</label>
    <label><input type="radio" name="approve" value="no"> ${t("hall.refuse")}</label>
    <label>${t("hall.reason")}<input name="reason" size="40" required></label>
    <label>${t("hall.granted_until")}<input name="granted_until" type="date"></label>
    <button class="primary">${t("hall.decide")}</button></form>`;
  switch (c.status) {
    case "applied": return html`${step("documents_checked")} ${withdraw}`;
    case "documents_checked": return html`${step("under_review")} ${withdraw}`;
    case "under_review": return html`${decision} ${withdraw}`;
    case "decided": return step("collected");
    default: return html`<p class="muted">${t("hall.closed")}</p>`;
  }
}

/** @param {HallCase} c */
const casePart = (c) => html`<div class="card" data-testid="hall-case" data-status="${c.status}">
  <h2>${serviceName(c.service)} <span class="pill" data-testid="hall-status">${label("hall.status.", c.status)}</span></h2>
  <p>${t("hall.receipt")} <b data-l10n="data" data-testid="hall-receipt">${c.receipt}</b></p>
  <p data-l10n="data">${c.applicant_name} ${c.name_latin || ""} · ${c.nationality} · ${c.passport_masked}</p>
  <p>${t("hall.due")} ${fmtTime(c.due_at)} ${c.overdue ? html`<span class="pill pri-1">${t("hall.overdue")}</span>` : ""}</p>
  ${c.decision ? html`<p>${label("hall.decision.", c.decision)}: <span data-l10n="data">${c.decision_reason}</span>
    ${c.granted_until ? html` · ${t("hall.granted_until")} ${fmtDate(c.granted_until)}` : ""}</p>` : ""}
  ${c.stay ? html`<p>${t("hall.stay")} ${fmtTime(c.stay.arrived_at)}
    ${c.stay.late ? html`<span class="pill pri-1">${t("hall.stay_late")}</span>` : ""}</p>` : ""}
  <h3>${t("hall.documents")}</h3>${docsPart(c)}
  <div class="actions" id="hall-actions">${actionsPart(c)}</div>
  <p class="error" id="hall-case-error" role="alert"></p>
  <h3>${t("hall.history")}</h3><ol>${c.events.map((e) => html`<li>${fmtTime(e.at)} ${label("hall.status.", e.to_status)}
    <span class="muted" data-l10n="data">${e.actor}${e.note ? ` · ${e.note}` : ""}</span></li>`)}</ol></div>`;

/** @param {HTMLElement} view @param {number} id */
async function openCase(view, id) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#hall-case"));
  try { show(view, await hallGetCase(id, purpose())); } catch (e) { render(box, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} view @param {HallCase} c */
function show(view, c) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#hall-case"));
  render(box, casePart(c));
  const fail = (/** @type {Error} */ e) => {
    render(/** @type {HTMLElement} */ (box.querySelector("#hall-case-error")), html`${e.message}`);
  };
  /** @param {() => Promise<HallCase>} call */
  const act = (call) => call().then((next) => { show(view, next); loadQueue(view); }).catch(fail);
  box.querySelectorAll("[data-upload]").forEach((b) => b.addEventListener("click", () => {
    const code = /** @type {string} */ (/** @type {HTMLElement} */ (b).dataset.upload);
    const input = /** @type {HTMLInputElement} */ (box.querySelector(`[data-file="${code}"]`));
    const file = input.files?.[0];
    if (!file) { fail(new Error(t("hall.choose_file"))); return; }
    const body = /** @type {string} */ (/** @type {unknown} */ (file));
    act(() => hallAddDocument(c.id, code, purpose(), body, { filename: file.name }));
  }));
  box.querySelectorAll("[data-view]").forEach((b) => b.addEventListener("click", () => {
    const fid = /** @type {string} */ (/** @type {HTMLElement} */ (b).dataset.view);
    hallReadDocument(c.id, fid, purpose()).then((r) => r.blob()).then((blob) => {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.target = "_blank";
      a.rel = "noopener";
      a.click();
    }).catch(fail);
  }));
  box.querySelectorAll("[data-step]").forEach((b) => b.addEventListener("click", () => {
    const status = /** @type {"documents_checked" | "under_review" | "collected" | "withdrawn"} */ (
      /** @type {HTMLElement} */ (b).dataset.step);
    const note = /** @type {HTMLInputElement | null} */ (box.querySelector("#hall-note"))?.value.trim() || null;
    act(() => hallStep(c.id, purpose(), { status, note: status === "withdrawn" ? note : null }));
  }));
  box.querySelector("#hall-decide")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const until = String(f.get("granted_until") || "");
    const body = { approve: f.get("approve") === "yes", reason: String(f.get("reason") || "").trim(), granted_until: until || null };
    act(() => hallDecide(c.id, purpose(), body));
  });
}

/** @param {HTMLElement} view */
async function apply(view) {
  const form = /** @type {HTMLFormElement} */ (view.querySelector("#hall-apply"));
  const f = new FormData(form);
  const out = /** @type {HTMLElement} */ (view.querySelector("#hall-apply-error"));
  const text = (/** @type {string} */ k) => String(f.get(k) || "").trim();
  try {
    const c = await hallApply(purpose(), {
      service: text("service"), applicant_name: text("applicant_name"), name_latin: text("name_latin") || null,
      nationality: text("nationality").toUpperCase(), passport_number: text("passport_number"),
      requested_until: text("requested_until") || null, note: text("note") || null,
      visit_id: text("visit_id") ? Number(text("visit_id")) : null,
    });
    render(out, html``);
    form.reset();
    show(view, c);
    loadQueue(view);
  } catch (e) { render(out, html`${e.message}`); }
}

/** @param {HallCatalogue} cat */
const applyForm = (cat) => html`<form id="hall-apply" class="card">
  <label>${t("hall.service")}<select name="service">
    ${cat.services.map((s) => html`<option value="${s.code}">${named(s.name)}</option>`)}</select></label>
  <label>${t("hall.applicant")}<input name="applicant_name" required></label>
  <label>${t("hall.name_latin")}<input name="name_latin"></label>
  <label>${t("hall.nationality")}<input name="nationality" size="3" maxlength="2" required></label>
  <label>${t("hall.passport")}<input name="passport_number" required></label>
  <label>${t("hall.requested_until")}<input name="requested_until" type="date"></label>
  <label>${t("hall.visit_id")}<input name="visit_id" type="number" min="1"></label>
  <label>${t("hall.note")}<input name="note"></label>
  <button class="primary">${t("hall.apply")}</button><p class="error" id="hall-apply-error" role="alert"></p></form>`;

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("hall.title")}</h1><p class="muted">${t("common.loading")}</p>`);
  try { catalogue = await hallCatalogue(); } catch (e) { render(view, html`<p class="error">${e.message}</p>`); return; }
  const cat = catalogue;
  render(view, html`<h1>${t("hall.title")}</h1>
    <div class="grid"><div>
      <label>${t("hall.counter")}<select id="hall-counter">${cat.counters.map((c) =>
        html`<option value="${c.code}" ${c.code === counter ? "selected" : ""}>${c.code} · ${named(c.name)}</option>`)}</select></label>
      <button type="button" id="hall-refresh">${t("hall.refresh")}</button>
      <div id="hall-queue" class="muted">${t("common.loading")}</div>
      <h2>${t("hall.alerts")}</h2><div id="hall-alerts"></div>
      <div id="hall-case"></div>
      <h2>${t("hall.stats")}</h2><button type="button" id="hall-stats-go">${t("hall.stats_show")}</button><div id="hall-stats"></div></div>
    <div><h2>${t("hall.new")}</h2>${applyForm(cat)}</div></div>`);
  view.querySelector("#hall-counter")?.addEventListener("change", (e) => {
    counter = /** @type {HTMLSelectElement} */ (e.target).value;
    loadQueue(view);
  });
  view.querySelector("#hall-refresh")?.addEventListener("click", () => loadQueue(view));
  view.querySelector("#hall-apply")?.addEventListener("submit", (e) => { e.preventDefault(); apply(view); });
  for (const sel of ["#hall-queue", "#hall-alerts"]) {
    view.querySelector(sel)?.addEventListener("click", (e) => {
      const target = /** @type {HTMLElement} */ (e.target);
      const id = target.closest("[data-open]")?.getAttribute("data-open");
      if (id) openCase(view, Number(id));
      const ack = target.closest("[data-ack]")?.getAttribute("data-ack");
      if (ack) hallAcknowledge(Number(ack)).then(() => loadQueue(view)).catch((err) => render(target, html`${err.message}`));
    });
  }
  view.querySelector("#hall-stats-go")?.addEventListener("click", () => {
    const box = /** @type {HTMLElement} */ (view.querySelector("#hall-stats"));
    hallStats().then((s) => render(box, statsPart(s))).catch((e) => render(box, html`<p class="error">${e.message}</p>`));
  });
  await loadQueue(view);
}

registerScreen({ id: "hall", navKey: "nav.hall", perm: "hall:write", mount });
