// @ts-check
// The in-page dialog that hands an incident to another monitoring centre: the receiving
// centre (chosen from the city's centres, never typed) and the reason, both required.
import { listCentres } from "./api_client.js";
import { html, render } from "./html.js";
import { t } from "./i18n.js";

/**
 * Ask for the receiving centre and the reason; resolves to the answer, or null when the
 * operator cancels.
 * @param {string} incidentId @param {string | null | undefined} current the incident's centre
 * @returns {Promise<{ centre: string, reason: string } | null>}
 */
export async function askHandover(incidentId, current) {
  const centres = (await listCentres()).filter((c) => c.id !== current);
  const dlg = document.createElement("dialog");
  dlg.className = "handover";
  dlg.dataset.testid = "handover-dialog";
  render(dlg, html`<form method="dialog">
    <h2>${t("handover.title", { id: incidentId })}</h2>
    <label>${t("handover.to")}<select name="centre" required data-testid="handover-centre">
      ${centres.map((c) => html`<option value="${c.id}">${c.id} · ${c.name}</option>`)}</select></label>
    <label>${t("handover.reason")}<input name="reason" required minlength="3" maxlength="2000"
      data-testid="handover-reason"></label>
    <menu><button value="cancel" formnovalidate>${t("handover.cancel")}</button>
      <button value="ok" class="primary" data-testid="handover-ok">${t("handover.ok")}</button></menu>
  </form>`);
  document.body.append(dlg);
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      const form = /** @type {HTMLFormElement} */ (dlg.querySelector("form"));
      const data = new FormData(form);
      const ok = dlg.returnValue === "ok";
      dlg.remove();
      resolve(ok ? { centre: String(data.get("centre")), reason: String(data.get("reason")).trim() } : null);
    });
  });
}
