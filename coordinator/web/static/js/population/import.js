// @ts-check
// Importing historical registrations: a CSV sent in chunks (resumable: after a refused or
// dropped chunk the upload continues from the bytes the centre holds), imported in the
// background with its progress and a cancel, then the report — rows created, rows for a
// document already on record (not created), rejected rows by line with masked values — and
// the request that a second officer approve the batch's historical dates (decided in the
// review tab; until then the rows count from the day they were imported).
import {
  populationImportCancel, populationImportErrors, populationImportProgress, populationRequestBatchDates,
  populationUploadChunk, populationUploadDelete, populationUploadImport, populationUploadStart, populationUploadState,
} from "../api_client.js";
import { html, render } from "../html.js";
import { fmtNumber, label, t } from "../i18n.js";
import { head } from "./counter.js";
import { choice, clearProblems, field, showProblems, submit, values } from "./forms.js";

/** @typedef {import("./counter.js").Workspace} Workspace */
/** @typedef {import("../api_client.js").ImportProgress} ImportProgress */
/** @typedef {import("../api_client.js").ImportRowError} ImportRowError */

/** Bytes per chunk (the centre takes up to 8 MiB; smaller chunks show progress sooner). */
const CHUNK = 1 << 20;
const POLL_MS = 500;

/** @param {ImportRowError} e */
const errRow = (e) => html`<tr data-line="${e.line ?? ""}"><td>${e.line ?? "–"}</td><td data-l10n="data">${e.reason}</td>
  <td data-l10n="data">${e.masked}</td></tr>`;

/** A row for a document on record is reported, never created. @param {ImportRowError} e */
const isExisting = (e) => e.reason.includes("existing document");

/** @param {ImportProgress} j @param {ImportRowError[]} errors */
function report(j, errors) {
  const known = errors.filter(isExisting);
  const bad = errors.filter((e) => !isExisting(e));
  const n = (/** @type {string} */ k, /** @type {number} */ v) => html`<li data-count="${k}">${t(`population.import.${k}`)}:
    <b>${fmtNumber(v)}</b></li>`;
  const table = (/** @type {string} */ id, /** @type {ImportRowError[]} */ rows) => rows.length
    ? html`<table data-testid="${id}">${head(["line", "reason", "masked"])}<tbody>${rows.map(errRow)}</tbody></table>`
    : html`<p class="muted">${t("common.none")}</p>`;
  return html`<section data-testid="import-report" data-job="${j.job_id}">
    <h4>${t("population.import.report")} · ${label("population.import.status.", j.status)}</h4>
    <ul>${n("records", j.records)}${n("imported", j.imported)}${n("existing", j.existing)}
      ${n("rejected", j.rejected - j.existing)}${n("historical", j.historical_rows)}</ul>
    <h4>${t("population.import.existing_title")}</h4>${table("import-existing", known)}
    <h4>${t("population.import.errors_title")}</h4>${table("import-errors", bad)}</section>`;
}

/** The batch's dates: the request, or its state once asked. @param {ImportProgress} j */
const datesBox = (j) => j.dates_state
  ? html`<p data-testid="import-dates-state">${t("population.import.dates_state")}:
    <span class="pill">${label("population.import.dates.", j.dates_state)}</span></p>`
  : html`<form id="pop-import-dates" novalidate><p class="muted">${t("population.import.dates_hint")}</p>
    ${field("reason", { size: 60, required: true })}${submit("population.import.request_dates")}</form>`;

/** @param {Workspace} _ws @param {HTMLElement} box */
export function mountImport(_ws, box) {
  render(box, html`<form id="pop-import" novalidate>
      <label class="field">${t("population.import.file")}<input name="file" type="file" accept=".csv,text/csv">
        <small class="error" data-error-for="file"></small></label>
      ${choice("encoding", ["utf-8", "gb18030"], "population.import.encoding.", "utf-8")}
      ${submit("population.import.start")}
      <button type="button" data-act="cancel" hidden>${t("population.import.cancel")}</button></form>
    <p data-testid="import-progress" hidden><progress max="1" value="0"></progress> <span></span></p>
    <div id="pop-import-out"></div><div id="pop-import-dates-box"></div>`);
  const form = /** @type {HTMLFormElement} */ (box.querySelector("#pop-import"));
  const cancelBtn = /** @type {HTMLButtonElement} */ (form.querySelector("[data-act=cancel]"));
  const line = /** @type {HTMLElement} */ (box.querySelector("[data-testid=import-progress]"));
  const bar = /** @type {HTMLProgressElement} */ (line.querySelector("progress"));
  const out = /** @type {HTMLElement} */ (box.querySelector("#pop-import-out"));
  const datesOut = /** @type {HTMLElement} */ (box.querySelector("#pop-import-dates-box"));
  const purpose = t("population.purpose_import");
  /** @type {{ cancelled: boolean, upload: string | null, job: number | null }} */
  let run = { cancelled: false, upload: null, job: null };

  /** @param {string} key @param {number} done @param {number} total */
  const progress = (key, done, total) => {
    line.hidden = false;
    bar.value = total ? done / total : 0;
    render(/** @type {HTMLElement} */ (line.querySelector("span")), html`${t(key, { done: fmtNumber(done), total: fmtNumber(total) })}`);
  };

  /** Send the file's bytes from wherever the centre's copy ends. @param {File} file @param {string} id */
  async function send(file, id) {
    let offset = 0;
    while (offset < file.size && !run.cancelled) {
      const chunk = file.slice(offset, offset + CHUNK, "application/octet-stream");
      try {
        const st = await populationUploadChunk(id, /** @type {string} */ (/** @type {unknown} */ (chunk)), { offset });
        offset = st.received;
      } catch (e) {
        if (e.status !== 409) throw e;
        offset = (await populationUploadState(id)).received;  // resume where the centre's copy ends
      }
      progress("population.import.sent", offset, file.size);
    }
  }

  /** @param {ImportProgress} j */
  async function finish(j) {
    const errors = await populationImportErrors(j.job_id, purpose);
    render(out, report(j, errors));
    if (j.status === "done") showDates(j);
  }

  /** @param {ImportProgress} j */
  function showDates(j) {
    render(datesOut, datesBox(j));
    const f = /** @type {HTMLFormElement | null} */ (datesOut.querySelector("#pop-import-dates"));
    f?.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearProblems(f);
      try {
        const b = await populationRequestBatchDates(j.job_id, purpose, { reason: String(values(f).reason || "") });
        showDates({ ...j, dates_state: b.dates_state });
      } catch (err) { showProblems(f, err); }
    });
  }

  async function start() {
    const input = /** @type {HTMLInputElement} */ (form.querySelector("[name=file]"));
    const file = input.files && input.files[0];
    if (!file) {
      render(/** @type {HTMLElement} */ (form.querySelector("[data-error-for=file]")), html`${t("population.import.no_file")}`);
      return;
    }
    run = { cancelled: false, upload: null, job: null };
    render(out, html``);
    render(datesOut, html``);
    cancelBtn.hidden = false;
    try {
      const up = await populationUploadStart({ size: file.size, file_name: file.name });
      run.upload = up.upload_id;
      await send(file, up.upload_id);
      if (run.cancelled) {
        await populationUploadDelete(up.upload_id);
        render(out, html`<p class="muted" data-testid="import-cancelled">${t("population.import.cancelled_upload")}</p>`);
        return;
      }
      let j = await populationUploadImport(up.upload_id, purpose, { encoding: String(values(form).encoding || "utf-8") });
      run.job = j.job_id;
      while (j.status === "running") {
        progress("population.import.importing", j.bytes_done, j.bytes_total);
        await new Promise((r) => setTimeout(r, POLL_MS));
        j = await populationImportProgress(j.job_id);
      }
      progress("population.import.importing", j.bytes_done, j.bytes_total);
      await finish(j);
    } catch (e) { showProblems(form, e); } finally { cancelBtn.hidden = true; }
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); clearProblems(form); start(); });
  cancelBtn.addEventListener("click", () => {
    run.cancelled = true;  // the upload stops before its next chunk
    if (run.job !== null) populationImportCancel(run.job).catch((e) => showProblems(form, e));
  });
}
