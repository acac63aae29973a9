// @ts-check
// Merchants: file a trade (with a company from the check, or a new one by its name and
// phone), record payments received, answer overdue questions, and send a tip with its files
// (PDF, JPEG, PNG; kept encrypted at the centre). Only the merchant's own records are shown.
import {
  fraudAddPayment, fraudAddTip, fraudAttach, fraudConfirmOverdue, fraudFileTrade, fraudMyFilings, fraudMyTips,
} from "../api_client.js";
import { html, render } from "../html.js";
import { fmtDate, fmtNumber, fmtTime, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").Filing} Filing */
/** @typedef {import("../api_client.js").MyTip} MyTip */
/** @typedef {import("../api_client.js").FilingIn} FilingIn */

const CURRENCIES = ["CNY", "USD", "EUR", "GBP", "AED", "RUB", "INR", "BRL", "NGN", "HKD"];
const MAX_FILE = 10 * 1024 * 1024;
const TYPES = ["application/pdf", "image/png", "image/jpeg"];

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${k ? t(k) : ""}</th>`)}</tr></thead>`;

/** @param {number} cents @param {string} currency */
const money = (cents, currency) => `${fmtNumber(cents / 100, { minimumFractionDigits: 2 })} ${currency}`;

/** @param {HTMLFormElement} form @param {string} name */
const field = (form, name) => String(new FormData(form).get(name) || "").trim();

/** @param {string} key @param {string} name @param {string} [type] @param {string} [extra] */
const input = (key, name, type = "text", extra = "") =>
  html`<label>${t(key)} <input name="${name}" type="${type}" ${extra === "required" ? "required" : ""}></label> `;

function tradeForm() {
  const cur = CURRENCIES.map((c) => html`<option value="${c}">${c}</option>`);
  return html`<form id="trade-form" class="card" data-testid="trade-form"><h2>${t("merchant.file_trade")}</h2>
    <p class="muted">${t("merchant.company_hint")}</p>
    ${input("merchant.company_id", "company_id", "number")}${input("merchant.company_name", "company_name")}
    ${input("merchant.company_phone", "company_phone", "tel")}<br>
    ${input("merchant.goods", "goods", "text", "required")}${input("merchant.quantity", "quantity", "number", "required")}
    ${input("merchant.amount", "amount", "text", "required")}
    <label>${t("merchant.currency")} <select name="currency">${cur}</select></label>
    ${input("merchant.due_date", "due_date", "date", "required")}${input("merchant.documents", "documents")}
    <button class="primary" type="submit">${t("merchant.file")}</button>
    <p class="error" id="trade-error" data-testid="trade-error"></p></form>`;
}

/** @param {HTMLFormElement} form @returns {FilingIn} */
function tradeBody(form) {
  const cid = field(form, "company_id");
  const name = field(form, "company_name");
  const phone = field(form, "company_phone");
  /** @type {FilingIn} */
  const body = {
    goods: field(form, "goods"), quantity: Number(field(form, "quantity")), amount: field(form, "amount"),
    currency: field(form, "currency"), due_date: field(form, "due_date"),
    documents: field(form, "documents").split(/[,，]/).map((s) => s.trim()).filter(Boolean),
  };
  if (cid) body.company_id = Number(cid);
  else if (name) body.company = { names: [name], phones: phone ? [phone] : [] };
  else throw new Error(t("merchant.need_company"));
  return body;
}

/** @param {Filing} f */
function payCell(f) {
  if (f.status === "paid") return html`<span class="muted">${t("merchant.settled")}</span>`;
  const confirm = f.needs_confirmation ? html`<span data-testid="overdue-question">${t("merchant.overdue_question")}
    <button type="button" data-overdue="${f.id}" data-unpaid="1">${t("merchant.still_unpaid")}</button>
    <button type="button" data-overdue="${f.id}" data-unpaid="0">${t("merchant.was_paid")}</button></span>` : "";
  return html`<form class="inline" data-pay="${f.id}"><input name="amount" size="10" placeholder="${t("merchant.amount")}">
    <input name="paid_on" type="date"><button type="submit">${t("merchant.record_payment")}</button></form>${confirm}`;
}

/** @param {Filing} f */
function filingRow(f) {
  return html`<tr data-filing="${f.id}"><td>${f.id}</td><td data-l10n="data">${f.company_id}</td>
    <td data-l10n="data">${f.goods || ""}</td><td>${money(f.amount_cents, f.currency)}</td>
    <td>${fmtDate(f.due_date)}</td><td data-testid="paid">${money(f.paid_cents, f.currency)}</td>
    <td data-testid="filing-status">${label("merchant.status.", f.status)}</td><td>${payCell(f)}</td></tr>`;
}

function tipForm() {
  return html`<form id="tip-form" class="card" data-testid="tip-form"><h2>${t("merchant.send_tip")}</h2>
    ${input("merchant.company_id", "company_id", "number")}${input("merchant.company_name", "company_name")}
    ${input("merchant.company_phone", "company_phone", "tel")}<br>
    <label>${t("merchant.tip_text")}<br><textarea name="text" rows="4" cols="70" required></textarea></label><br>
    <label>${t("merchant.tip_files")} <input name="files" type="file" multiple accept=".pdf,.png,.jpg,.jpeg"></label>
    <span class="muted">${t("merchant.tip_files_hint")}</span><br>
    <button class="primary" type="submit">${t("merchant.send")}</button>
    <p class="error" id="tip-error" data-testid="tip-error"></p><p id="tip-done" data-testid="tip-done"></p></form>`;
}

/** @param {MyTip} tip */
function tipRow(tip) {
  const kb = (/** @type {number} */ b) => t("fraud.size_kb", { n: fmtNumber(Math.ceil(b / 1024)) });
  const files = tip.files.map((f) => html`<li><span data-l10n="data">${f.name}</span> (${kb(f.size)})</li>`);
  return html`<tr data-tip="${tip.id}"><td>${tip.id}</td><td>${fmtTime(tip.ts)}</td><td data-l10n="data">${tip.text || ""}</td>
    <td>${label("merchant.tip_status.", tip.status)}</td><td><ul class="reasons">${files}</ul></td></tr>`;
}

/** @param {HTMLElement} view */
async function load(view) {
  const [filings, tips] = await Promise.all([fraudMyFilings(), fraudMyTips()]);
  const none = (/** @type {number} */ n) => html`<tr><td colspan="${n}" class="muted">${t("common.none")}</td></tr>`;
  render(/** @type {HTMLElement} */ (view.querySelector("#merchant-lists")), html`
    <h2>${t("merchant.my_filings")}</h2>
    <table data-testid="my-filings">${head(["fraud.id", "merchant.company_id", "merchant.goods", "merchant.amount",
      "merchant.due_date", "merchant.paid", "fraud.state", ""])}
      <tbody>${filings.length ? filings.slice().reverse().map(filingRow) : none(8)}</tbody></table>
    <h2>${t("merchant.my_tips")}</h2>
    <table data-testid="my-tips">${head(["fraud.id", "merchant.sent", "merchant.tip_text", "fraud.state", "merchant.tip_files"])}
      <tbody>${tips.length ? tips.map(tipRow) : none(5)}</tbody></table>`);
}

/** @param {HTMLFormElement} form */
async function sendTip(form) {
  const files = [.../** @type {FileList} */ (/** @type {HTMLInputElement} */ (form.elements.namedItem("files")).files)];
  const bad = files.find((f) => f.size > MAX_FILE || !TYPES.includes(f.type));
  if (bad) throw new Error(t("merchant.file_refused", { name: bad.name }));
  const cid = field(form, "company_id");
  /** @type {Object<string, string>} */
  const identifiers = {};
  if (field(form, "company_name")) identifiers.name = field(form, "company_name");
  if (field(form, "company_phone")) identifiers.phone = field(form, "company_phone");
  const { id } = await fraudAddTip({ company_id: cid ? Number(cid) : null, identifiers, text: field(form, "text") });
  for (const f of files) {
    // The file goes as the request's body; fetch sends a Blob as it is.
    await fraudAttach(f.type, /** @type {string} */ (/** @type {unknown} */ (f)), { tip_id: id, name: f.name });
  }
  return id;
}

/** @param {HTMLElement} view @param {Event} e */
async function submit(view, e) {
  const form = /** @type {HTMLFormElement} */ (e.target);
  e.preventDefault();
  const out = /** @type {HTMLElement | null} */ (form.querySelector(".error"));
  if (out) render(out, html``);
  try {
    if (form.id === "trade-form") await fraudFileTrade(tradeBody(form));
    else if (form.id === "tip-form") {
      const id = await sendTip(form);
      render(/** @type {HTMLElement} */ (form.querySelector("#tip-done")), html`${t("merchant.tip_sent", { id })}`);
    } else if (form.dataset.pay) {
      await fraudAddPayment(Number(form.dataset.pay), { amount: field(form, "amount"), paid_on: field(form, "paid_on") });
    } else return;
    if (form.id) form.reset();
    await load(view);
  } catch (err) {
    render(out || /** @type {HTMLElement} */ (view.querySelector("#merchant-error")), html`${err.message}`);
  }
}

/** @param {HTMLElement} view @param {Event} e */
async function click(view, e) {
  const b = /** @type {HTMLElement} */ (e.target);
  if (!b.dataset.overdue) return;
  try {
    await fraudConfirmOverdue(Number(b.dataset.overdue), { still_unpaid: b.dataset.unpaid === "1" });
    await load(view);
  } catch (err) { render(/** @type {HTMLElement} */ (view.querySelector("#merchant-error")), html`${err.message}`); }
}

/** @param {HTMLElement} outer */
async function mount(outer) {
  // Listeners live on an element of this mount: the next route's mount replaces it.
  const view = document.createElement("div");
  outer.replaceChildren(view);
  render(view, html`<h1>${t("merchant.title")}</h1><p class="error" id="merchant-error"></p>
    ${tradeForm()}${tipForm()}<div id="merchant-lists"></div>`);
  view.addEventListener("submit", (e) => submit(view, e));
  view.addEventListener("click", (e) => click(view, e));
  await load(view);
}

registerScreen({ id: "merchant", navKey: "nav.merchant", perm: "merchant:file", mount });
