// @ts-check
// A queue whose rows never move under the operator's pointer.
//
// The screen hands it every answer of the server (the whole filtered queue, already in
// queue order). Rows already on screen keep their place and are redrawn where they stand;
// rows that arrive wait in the "new arrivals" strip; rows that left stay (greyed) until
// the queue settles. It settles — new rows merged, order refreshed, gone rows dropped —
// only when the operator asks ("show N new"), or when the pointer is away from the queue
// and no dialog is open, at most once every SETTLE_MS. Pure logic: no DOM here.

export const SETTLE_MS = 3000;

/** @template R @typedef {{ key: string, row: R }} Keyed */

/** @template R */
export class StableQueue {
  /** @param {(row: R) => string} keyOf */
  constructor(keyOf) {
    this.keyOf = keyOf;
    /** @type {string[]} keys in screen order */
    this.order = [];
    /** @type {Map<string, R>} latest data of every row on screen or waiting */
    this.data = new Map();
    /** @type {string[]} keys waiting in the strip, in server order */
    this.pending = [];
    /** @type {Set<string>} keys on screen that the server no longer lists */
    this.gone = new Set();
    /** @type {string[] | null} the server's latest order */
    this.serverOrder = null;
    this.held = false;
    this.lastSettle = 0;
  }

  /**
   * Take the server's rows (in queue order). Returns true when the queue settled (the
   * whole table must be redrawn), false when only rows in place and the strip changed.
   * @param {R[]} rows @param {number} now
   */
  update(rows, now) {
    const next = new Map(rows.map((r) => [this.keyOf(r), r]));
    const shown = new Set(this.order);
    for (const k of this.order) {
      const r = next.get(k);
      if (r === undefined) this.gone.add(k); else { this.gone.delete(k); this.data.set(k, r); }
    }
    this.pending = [];
    for (const [k, r] of next) {
      if (!shown.has(k)) { this.pending.push(k); this.data.set(k, r); }
    }
    this.serverOrder = [...next.keys()];
    if (this.order.length === 0 || this.canSettle(now)) { this.settle(now); return true; }
    return false;
  }

  /** @param {number} now */
  canSettle(now) { return !this.held && now - this.lastSettle >= SETTLE_MS; }

  /** Merge the strip, take the server's order, drop gone rows. @param {number} now */
  settle(now) {
    const keep = this.serverOrder || this.order.filter((k) => !this.gone.has(k));
    for (const k of this.gone) this.data.delete(k);
    for (const k of [...this.data.keys()]) if (!keep.includes(k)) this.data.delete(k);
    this.order = [...keep];
    this.pending = [];
    this.gone.clear();
    this.lastSettle = now;
  }

  /** Rows on screen, in screen order. @returns {{ key: string, row: R, gone: boolean }[]} */
  rows() {
    return this.order.map((k) => ({ key: k, row: /** @type {R} */ (this.data.get(k)), gone: this.gone.has(k) }));
  }

  /** Rows waiting in the strip. @returns {R[]} */
  waiting() { return this.pending.map((k) => /** @type {R} */ (this.data.get(k))); }
}
