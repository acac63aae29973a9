// @ts-check
// The service hotline (96150): log a call, promise and make call-backs, resolve, ask the
// caller's satisfaction, reveal a number only with a reason, and the monthly report.
import {
  hotlineCallback, hotlineCallbackDone, hotlineCallbacksDue, hotlineCalls, hotlineCatalogue, hotlineLogCall,
  hotlineReport, hotlineResolve, hotlineReveal, hotlineSatisfaction,
} from "../api_client.js";
import { expectArray } from "../http.js";
import { html, render } from "../html.js";
import { fmtNumber, fmtTime, label, locale, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").HotlineCall} HotlineCall */
/** @typedef {import("../api_client.js").HotlineCatalogueOut} HotlineCatalogueOut */
/** @typedef {import("../api_client.js").DueCallback} DueCallback */
/** @typedef {import("../api_client.js").MonthlyReport} MonthlyReport */

/** @type {HotlineCatalogueOut | null} */
let catalogue = null;
const purpose = () => t("hotline.purpose");
/** @param {string} code */
const category = (code) => {
  const c = catalogue?.categories.find((x) => x.code === code);
  return c ? c.name[locale()] || c.name.en : code;
};
/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(k)}</th>`)}</tr></thead>`;

/** @param {HotlineCall} c */
const callRow = (c) => html`<tr data-call="${c.id}"><td>${fmtTime(c.received_at)}</td><td>${category(c.category)}</td>
  <td data-l10n="data">${c.caller_name || ""} ${c.caller_masked || ""}</td><td data-l10n="data">${c.summary}</td>
  <td>${label("hotline.status.", c.status)}${c.overdue ? html` <span class="pill pri-1">${t("hotline.overdue")}</span>` : ""}
    ${c.followup_due ? html` <span class="pill">${t("hotline.followup_due")}</span>` : ""}</td>
  <td class="actions">${c.status === "open" ? html`<button type="button" data-act="callback">${t("hotline.callback")}</button>
    <button type="button" data-act="resolve">${t("hotline.resolve")}</button>` : ""}
    ${c.status === "resolved" ? html`<button type="button" data-act="rate">${t("hotline.rate")}</button>` : ""}
    ${c.caller_masked ? html`<button type="button" data-act="reveal">${t("hotline.reveal")}</button>` : ""}</td></tr>`;

/** @param {DueCallback} b */
const dueRow = (b) => html`<li data-callback="${b.id}">${fmtTime(b.due_at)}
  ${b.overdue ? html`<span class="pill pri-1">${t("hotline.overdue")}</span>` : ""}
  ${category(b.category)} <span data-l10n="data">${b.caller_name || ""} ${b.caller_masked || ""}</span>
  <button type="button" data-act="done">${t("hotline.callback_done")}</button></li>`;

/** @param {MonthlyReport} r */
const reportPart = (r) => html`<div class="cards">
  ${[["calls", r.calls], ["within_sla", r.within_sla], ["overdue", r.overdue], ["callbacks", r.callbacks],
    ["callbacks_on_time", r.callbacks_on_time]].map(([k, v]) =>
    html`<div class="card"><b>${fmtNumber(Number(v))}</b>${t(`hotline.report.${k}`)}</div>`)}
  <div class="card"><b>${r.satisfaction == null ? "–" : fmtNumber(r.satisfaction)}</b>${t("hotline.report.satisfaction")}</div></div>
  <table>${head(["hotline.col.category", "hotline.report.calls", "hotline.report.within_sla", "hotline.report.overdue",
    "hotline.report.satisfaction"])}<tbody>${r.by_category.map((c) => html`<tr><td>${category(c.category)}</td>
    <td>${fmtNumber(c.calls)}</td><td>${fmtNumber(c.within_sla)}</td><td>${fmtNumber(c.overdue)}</td>
    <td>${c.satisfaction == null ? "–" : fmtNumber(c.satisfaction)}</td></tr>`)}</tbody></table>`;

/** @param {HTMLElement} view */
async function refresh(view) {
  const list = /** @type {HTMLElement} */ (view.querySelector("#hl-calls"));
  const due = /** @type {HTMLElement} */ (view.querySelector("#hl-due"));
  try {
    const calls = expectArray(await hotlineCalls(purpose(), { limit: 50 }), "hotline calls");
    const cols = ["received", "category", "caller", "summary", "status", "action"].map((c) => `hotline.col.${c}`);
    render(list, html`<table data-testid="hl-calls">${head(cols)}<tbody>${calls.length ? calls.map(callRow)
      : html`<tr><td colspan="6" class="muted">${t("common.none")}</td></tr>`}</tbody></table>`);
    const cbs = expectArray(await hotlineCallbacksDue(purpose()), "hotline callbacks");
    render(due, cbs.length ? html`<ul>${cbs.map(dueRow)}</ul>` : html`<p class="muted">${t("common.none")}</p>`);
  } catch (e) { render(list, html`<p class="error">${e.message}</p>`); }
}

/** Ask for one value in the page (never prompt()). @param {HTMLElement} view @param {string} key */
function ask(view, key) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#hl-ask"));
  render(box, html`<form class="card" id="hl-ask-form"><label>${t(key)}<input name="v" required size="40"></label>
    <button class="primary">${t("hotline.ok")}</button> <button type="button" id="hl-ask-cancel">${t("hotline.cancel")}</button></form>`);
  return new Promise((resolve) => {
    box.querySelector("#hl-ask-cancel")?.addEventListener("click", () => { render(box, html``); resolve(null); });
    box.querySelector("#hl-ask-form")?.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = String(new FormData(/** @type {HTMLFormElement} */ (e.target)).get("v") || "").trim();
      render(box, html``);
      resolve(v || null);
    });
  });
}

/** @param {HTMLElement} view @param {string} act @param {number} id */
async function action(view, act, id) {
  const out = /** @type {HTMLElement} */ (view.querySelector("#hl-msg"));
  try {
    if (act === "callback") await hotlineCallback(id, {});
    if (act === "resolve") { const v = await ask(view, "hotline.resolution"); if (v) await hotlineResolve(id, { text: v }); }
    if (act === "done") { const v = await ask(view, "hotline.outcome"); if (v) await hotlineCallbackDone(id, { text: v }); }
    if (act === "rate") {
      const v = Number(await ask(view, "hotline.score"));
      if (v >= 1 && v <= 5) await hotlineSatisfaction(id, { score: v });
    }
    if (act === "reveal") {
      const reason = await ask(view, "hotline.reveal_reason");
      if (reason) {
        const r = await hotlineReveal(id, { reason });
        render(out, html`${t("hotline.number")} <b data-l10n="data" data-testid="hl-number">${r.caller_number}</b>`);
        return;
      }
    }
    render(out, html``);
    await refresh(view);
  } catch (e) { render(out, html`<span class="error">${e.message}</span>`); }
}

/** @param {HTMLElement} view */
async function logCall(view) {
  const form = /** @type {HTMLFormElement} */ (view.querySelector("#hl-log"));
  const f = new FormData(form);
  const out = /** @type {HTMLElement} */ (view.querySelector("#hl-msg"));
  const text = (/** @type {string} */ k) => String(f.get(k) || "").trim() || null;
  try {
    await hotlineLogCall(purpose(), { category: String(f.get("category")), summary: text("summary") || "",
      caller_number: text("caller_number"), caller_name: text("caller_name"),
      person_id: text("person_id") ? Number(text("person_id")) : null,
      request_id: text("request_id") ? Number(text("request_id")) : null });
    form.reset();
    render(out, html`${t("hotline.logged")}`);
    await refresh(view);
  } catch (e) { render(out, html`<span class="error">${e.message}</span>`); }
}

/** @param {HTMLElement} view */
async function report(view) {
  const box = /** @type {HTMLElement} */ (view.querySelector("#hl-report"));
  const month = /** @type {HTMLInputElement} */ (view.querySelector("#hl-month")).value;
  try { render(box, reportPart(await hotlineReport({ month }))); } catch (e) { render(box, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} view */
async function mount(view) {
  try { catalogue = await hotlineCatalogue(); } catch (e) { render(view, html`<p class="error">${e.message}</p>`); return; }
  const cats = catalogue.categories;
  const month = new Date().toISOString().slice(0, 7);
  render(view, html`<h1>${t("hotline.title")}</h1>
    <form id="hl-log" class="card"><label>${t("hotline.category")}<select name="category">
      ${cats.map((c) => html`<option value="${c.code}">${c.name[locale()] || c.name.en}</option>`)}</select></label>
      <label>${t("hotline.caller_number")}<input name="caller_number" inputmode="tel"></label>
      <label>${t("hotline.caller_name")}<input name="caller_name"></label>
      <label>${t("hotline.summary")}<input name="summary" size="50" required></label>
      <label>${t("hotline.person_id")}<input name="person_id" type="number" min="1"></label>
      <label>${t("hotline.request_id")}<input name="request_id" type="number" min="1"></label>
      <button class="primary">${t("hotline.log")}</button></form>
    <p id="hl-msg" role="status"></p><div id="hl-ask"></div>
    <h2>${t("hotline.calls")}</h2><div id="hl-calls" class="muted">${t("common.loading")}</div>
    <h2>${t("hotline.callbacks_due")}</h2><div id="hl-due"></div>
    <h2>${t("hotline.report_title")}</h2><label>${t("hotline.month")}<input id="hl-month" type="month" value="${month}"></label>
    <button type="button" id="hl-report-go">${t("hotline.show_report")}</button><div id="hl-report"></div>`);
  view.querySelector("#hl-log")?.addEventListener("submit", (e) => { e.preventDefault(); logCall(view); });
  view.querySelector("#hl-report-go")?.addEventListener("click", () => report(view));
  view.addEventListener("click", (e) => {
    const b = /** @type {HTMLElement} */ (e.target).closest("[data-act]");
    if (!b) return;
    const row = b.closest("[data-call], [data-callback]");
    const id = Number(row?.getAttribute("data-call") || row?.getAttribute("data-callback"));
    action(view, /** @type {string} */ (b.getAttribute("data-act")), id);
  });
  await refresh(view);
}

registerScreen({ id: "hotline", navKey: "nav.hotline", perm: "hotline:work", mount });
