// @ts-check
// Investigators' cases: new tips (open a case from one), the case list with filters and
// pages, and one case (#/cases?id=N): its tips and their files (download audited), the
// companies, tasks (assign, due, done), notes, and the outcome with the losses avoided.
import {
  fraudAddNote, fraudAddTask, fraudCase, fraudCases, fraudDownload, fraudEditTask, fraudOpenCase, fraudOutcome,
  fraudReopen, fraudTips,
} from "../api_client.js";
import { banner } from "../banner.js";
import { html, render } from "../html.js";
import { fmtDate, fmtNumber, fmtTime, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").CaseDetail} CaseDetail */
/** @typedef {import("../api_client.js").CaseListItem} CaseListItem */
/** @typedef {import("../api_client.js").CaseTip} CaseTip */
/** @typedef {import("../api_client.js").CaseTask} CaseTask */
/** @typedef {import("../api_client.js").Tip} Tip */

const PAGE = 25;
const OUTCOMES = ["fraud_prevented", "fraud_confirmed", "referred", "no_fraud", "inconclusive"];

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${k ? t(k) : ""}</th>`)}</tr></thead>`;
/** @param {HTMLFormElement} form @param {string} name */
const field = (form, name) => String(new FormData(form).get(name) || "").trim();
/** @param {number} cents */
const yuan = (cents) => `¥${fmtNumber(cents / 100, { minimumFractionDigits: 2 })}`;
/** @param {number} cols @param {string} key */
const empty = (cols, key) => html`<tr><td colspan="${cols}" class="muted">${t(key)}</td></tr>`;
/** @param {number} bytes */
const kb = (bytes) => t("fraud.size_kb", { n: fmtNumber(Math.ceil(bytes / 1024)) });
/** The query of the screen's route (#/cases?id=3&offset=25). */
const params = () => new URLSearchParams(location.hash.split("?")[1] || "");

// ---- the list ---------------------------------------------------------------------------

/** @param {Tip} tip */
function tipRow(tip) {
  return html`<tr data-tip="${tip.id}"><td>${tip.id}</td><td>${fmtTime(tip.ts)}</td><td data-l10n="data">${tip.reporter}</td>
    <td data-l10n="data">${tip.text || ""}</td><td>${tip.attachments.length ? fmtNumber(tip.attachments.length) : ""}</td>
    <td><button type="button" class="primary" data-open-tip="${tip.id}" data-company="${tip.company_id ?? ""}">
      ${t("cases.open_from_tip")}</button></td></tr>`;
}

/** @param {CaseListItem} c */
function caseRow(c) {
  const names = c.companies.map((x) => x.display_name).join(t("common.list_sep"));
  return html`<tr data-case="${c.id}"><td>${c.id}</td>
    <td><a href="#/cases?id=${c.id}" data-l10n="data">${c.title}</a></td>
    <td><span class="pill">${label("cases.status.", c.status)}</span></td><td>${label("cases.priority.", c.priority)}</td>
    <td data-l10n="data">${c.assignee || ""}</td><td data-l10n="data">${names}</td>
    <td>${fmtNumber(c.open_tasks)}</td><td>${fmtNumber(c.tips)}</td>
    <td>${label("cases.outcome.", c.outcome)}</td><td>${c.losses_avoided_cents ? yuan(c.losses_avoided_cents) : ""}</td>
    <td>${fmtTime(c.updated_ts ?? c.ts)}</td></tr>`;
}

/** @param {URLSearchParams} q */
function filters(q) {
  const opt = (/** @type {string} */ v, /** @type {string} */ k) =>
    html`<option value="${v}" ${q.get("status") === v ? "selected" : ""}>${t(k)}</option>`;
  return html`<form id="case-filter" class="inline">
    <label>${t("cases.status")} <select name="status">${opt("", "cases.any")}${opt("open", "cases.status.open")}
      ${opt("investigating", "cases.status.investigating")}${opt("closed", "cases.status.closed")}</select></label>
    <label>${t("cases.assignee")} <input name="assignee" value="${q.get("assignee") || ""}" size="12"></label>
    <label>${t("cases.search")} <input name="q" value="${q.get("q") || ""}" size="20"></label>
    <button type="submit">${t("cases.filter")}</button></form>`;
}

/** @param {import("../api_client.js").CasePage} page */
function pager(page) {
  if (!page.total) return "";
  const last = Math.min(page.offset + page.items.length, page.total);
  return html`<p class="inline" data-testid="case-pager">${t("cases.page", { from: page.offset + 1, to: last, total: page.total })}
    ${page.offset > 0 ? html`<button type="button" data-page="${Math.max(0, page.offset - PAGE)}">${t("cases.prev")}</button>` : ""}
    ${last < page.total ? html`<button type="button" data-page="${last}">${t("cases.next")}</button>` : ""}</p>`;
}

/** @param {HTMLElement} view */
async function list(view) {
  const q = params();
  /** @type {Object<string, string | number>} */
  const query = { limit: PAGE, offset: Number(q.get("offset") || 0) };
  for (const k of ["status", "assignee", "q"]) if (q.get(k)) query[k] = String(q.get(k));
  const [tips, page] = await Promise.all([fraudTips(t("cases.purpose_queue")), fraudCases(t("cases.purpose_list"), query)]);
  render(view, html`<h1>${t("cases.title")}</h1>
    <h2>${t("cases.new_tips")}</h2>
    <table data-testid="tip-queue">${head(["fraud.id", "cases.received", "cases.reporter", "cases.tip_text", "cases.files", ""])}
      <tbody>${tips.length ? tips.map(tipRow) : empty(6, "common.queue_empty")}</tbody></table>
    <h2>${t("cases.list")}</h2>${filters(q)}
    <table data-testid="case-list">${head(["fraud.id", "cases.case_title", "cases.status", "cases.priority", "cases.assignee",
      "fraud.companies", "cases.open_tasks", "cases.tips", "cases.outcome", "cases.losses", "cases.updated"])}
      <tbody>${page.items.length ? page.items.map(caseRow) : empty(11, "common.none")}
      </tbody></table>${pager(page)}
    <dialog id="open-case"><form method="dialog" id="open-case-form"><h2>${t("cases.open_from_tip")}</h2>
      <label>${t("cases.case_title")} <input name="title" size="40" required minlength="3"></label>
      <input type="hidden" name="tip_id"><input type="hidden" name="company_id">
      <p class="dialog-error" id="open-case-error"></p>
      <menu><button type="button" data-close>${t("cases.cancel")}</button>
        <button class="primary" type="submit">${t("cases.open")}</button></menu></form></dialog>`);
}

// ---- one case ---------------------------------------------------------------------------

/** @param {CaseTip} tip */
function tipBlock(tip) {
  const files = tip.files.map((f) => html`<li><span data-l10n="data">${f.name}</span> (${kb(f.size)})
    <button type="button" data-download="${f.id}" data-name="${f.name}">${t("cases.download")}</button></li>`);
  return html`<div class="card" data-testid="case-tip" data-tip="${tip.id}">
    <b>${t("cases.tip_n", { id: tip.id })}</b> · <span data-l10n="data">${tip.reporter}</span> · ${fmtTime(tip.ts)}
    <p data-l10n="data" data-testid="case-tip-text">${tip.text || ""}</p><ul class="reasons">${files}</ul></div>`;
}

/** @param {CaseTask} task @param {boolean} closed */
function taskRow(task, closed) {
  const done = task.done_ts != null;
  const act = closed ? "" : html`<button type="button" data-task="${task.id}" data-done="${done ? 0 : 1}">
    ${t(done ? "cases.task_reopen" : "cases.task_done")}</button>`;
  return html`<tr data-task-row="${task.id}" class="${done ? "muted" : ""}"><td data-l10n="data">${task.title}</td>
    <td data-l10n="data">${task.assignee || ""}</td><td>${fmtDate(task.due_date)}</td>
    <td data-testid="task-state">${done ? t("cases.done_by", { who: task.done_by || "" }) : t("cases.task_open")}</td><td>${act}</td></tr>`;
}

/** @param {CaseDetail} c */
function outcomeBlock(c) {
  if (c.status === "closed") {
    return html`<div class="card" data-testid="case-outcome"><b>${label("cases.outcome.", c.outcome)}</b>
      · ${t("cases.losses")}: ${yuan(c.losses_avoided_cents)}<p data-l10n="data">${c.outcome_note || ""}</p>
      <form id="reopen-form" class="inline"><input name="text" size="40" placeholder="${t("cases.reopen_reason")}" required>
      <button type="submit">${t("cases.reopen")}</button></form></div>`;
  }
  const opts = OUTCOMES.map((o) => html`<option value="${o}">${t(`cases.outcome.${o}`)}</option>`);
  return html`<form id="outcome-form" class="card" data-testid="outcome-form">
    <label>${t("cases.outcome")} <select name="outcome">${opts}</select></label>
    <label>${t("cases.losses_yuan")} <input name="losses" value="0" size="14"></label><br>
    <label>${t("cases.outcome_note")}<br><textarea name="note" rows="3" cols="70" required></textarea></label><br>
    <button class="primary" type="submit">${t("cases.record_outcome")}</button></form>`;
}

/** @param {CaseDetail} c */
function forms(c) {
  if (c.status === "closed") return "";
  return html`<form id="task-form" class="inline" data-testid="task-form">
      <input name="title" size="30" placeholder="${t("cases.task_title")}" required minlength="3">
      <input name="assignee" size="12" placeholder="${t("cases.assignee")}"><input name="due_date" type="date">
      <button type="submit">${t("cases.add_task")}</button></form>`;
}

/** @param {CaseDetail} c */
function detail(c) {
  const closed = c.status === "closed";
  const companies = c.companies.map((x) => html`<li><a href="#/companies?id=${x.id}" data-l10n="data">${x.display_name}</a></li>`);
  const notes = c.notes.map((n) => html`<li data-testid="case-note">
    <span class="muted">${fmtTime(n.ts)} · <span data-l10n="data">${n.author}</span></span>
    <div data-l10n="data">${n.text}</div></li>`);
  return html`<p><a href="#/cases">← ${t("cases.back")}</a></p>
    <h1 data-l10n="data" data-testid="case-title">${c.title}</h1>
    <p><span class="pill" data-testid="case-status">${label("cases.status.", c.status)}</span> ${label("cases.priority.", c.priority)}
      · ${t("cases.assignee")}: <span data-l10n="data">${c.assignee || ""}</span> · ${t("cases.opened", { when: fmtTime(c.ts) })}</p>
    <h2>${t("fraud.companies")}</h2><ul>${companies}</ul>
    <h2>${t("cases.tips")}</h2>${c.tips.length ? c.tips.map(tipBlock) : html`<p class="muted">${t("common.none")}</p>`}
    <h2>${t("cases.tasks")}</h2>
    <table data-testid="case-tasks">${head(["cases.task_title", "cases.assignee", "cases.due", "fraud.state", ""])}
      <tbody>${c.tasks.map((x) => taskRow(x, closed))}</tbody></table>${forms(c)}
    <h2>${t("cases.notes")}</h2><ul class="notes">${notes}</ul>
    ${closed ? "" : html`<form id="note-form" data-testid="note-form"><textarea name="text" rows="2" cols="70" required></textarea>
      <br><button type="submit">${t("cases.add_note")}</button></form>`}
    <h2>${t("cases.outcome")}</h2>${outcomeBlock(c)}`;
}

/** @param {HTMLElement} view @param {number} id */
async function one(view, id) {
  render(view, detail(await fraudCase(id, t("cases.purpose_case"))));
}

// ---- actions ----------------------------------------------------------------------------

/** @param {number} id @param {string} name */
async function download(id, name) {
  const res = await fraudDownload(id, t("cases.purpose_download"));
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

/** @param {HTMLElement} view @param {HTMLFormElement} form */
async function caseForm(view, form) {
  const id = Number(params().get("id"));
  if (form.id === "task-form") {
    const due = field(form, "due_date") || null;
    await fraudAddTask(id, { title: field(form, "title"), assignee: field(form, "assignee") || null, due_date: due });
  } else if (form.id === "note-form") {
    await fraudAddNote(id, { text: field(form, "text") });
  } else if (form.id === "outcome-form") {
    const outcome = /** @type {import("../api_client.js").Outcome} */ (field(form, "outcome"));
    await fraudOutcome(id, { outcome, losses_avoided_yuan: field(form, "losses") || "0", note: field(form, "note") });
  } else if (form.id === "reopen-form") {
    await fraudReopen(id, { text: field(form, "text") });
  } else return;
  await one(view, id);
}

/** @param {HTMLElement} view @param {HTMLFormElement} form */
async function listForm(view, form) {
  if (form.id === "case-filter") {
    const q = new URLSearchParams();
    for (const k of ["status", "assignee", "q"]) if (field(form, k)) q.set(k, field(form, k));
    location.hash = `#/cases?${q}`;
  } else if (form.id === "open-case-form") {
    const company = field(form, "company_id");
    const { id } = await fraudOpenCase({
      title: field(form, "title"), tip_id: Number(field(form, "tip_id")), company_ids: company ? [Number(company)] : [],
    });
    location.hash = `#/cases?id=${id}`;
  }
}

/** @param {HTMLElement} view @param {Event} e */
async function submit(view, e) {
  const form = /** @type {HTMLFormElement} */ (e.target);
  e.preventDefault();
  try {
    if (params().get("id")) await caseForm(view, form);
    else await listForm(view, form);
  } catch (err) {
    const box = /** @type {HTMLElement | null} */ (view.querySelector("#open-case-error"));
    if (form.id === "open-case-form" && box) render(box, html`${err.message}`);
    else banner(err.message);
  }
}

/** @param {HTMLElement} view @param {Event} e */
async function click(view, e) {
  const b = /** @type {HTMLElement} */ (e.target);
  const d = b.dataset;
  try {
    if (d.openTip) {
      const dlg = /** @type {HTMLDialogElement} */ (view.querySelector("#open-case"));
      const form = /** @type {HTMLFormElement} */ (dlg.querySelector("form"));
      /** @type {HTMLInputElement} */ (form.elements.namedItem("tip_id")).value = d.openTip;
      /** @type {HTMLInputElement} */ (form.elements.namedItem("company_id")).value = d.company || "";
      /** @type {HTMLInputElement} */ (form.elements.namedItem("title")).value = t("cases.title_from_tip", { id: d.openTip });
      dlg.showModal();
    } else if (d.close !== undefined) {
      /** @type {HTMLDialogElement} */ (b.closest("dialog")).close();
    } else if (d.page) {
      const q = params();
      q.set("offset", d.page);
      location.hash = `#/cases?${q}`;
    } else if (d.task) {
      await fraudEditTask(Number(params().get("id")), Number(d.task), { done: d.done === "1" });
      await one(view, Number(params().get("id")));
    } else if (d.download) {
      await download(Number(d.download), d.name || "file");
    }
  } catch (err) { banner(err.message); }
}

/** @param {HTMLElement} view */
async function mount(view) {
  // Listeners live on an element of this mount: the next route's mount replaces it.
  const root = document.createElement("div");
  view.replaceChildren(root);
  root.addEventListener("submit", (e) => submit(root, e));
  root.addEventListener("click", (e) => click(root, e));
  const id = Number(params().get("id"));
  if (id) await one(root, id);
  else await list(root);
}

registerScreen({ id: "cases", navKey: "nav.cases", perm: "fraud:read", mount });
