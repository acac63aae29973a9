// @ts-check
// The one banner for errors and notices, shared by the shell and the screens.

/**
 * Show a message (or hide the banner with null).
 * @param {string | null} msg
 * @param {"error" | "info"} [kind]
 */
export function banner(msg, kind = "error") {
  const b = document.getElementById("banner");
  if (!b) return;
  if (!msg) { b.hidden = true; return; }
  b.textContent = msg;
  b.className = kind === "info" ? "info" : "";
  b.hidden = false;
}
