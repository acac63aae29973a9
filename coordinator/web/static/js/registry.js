// @ts-check
// The screen registry: each domain's screen module registers itself here when imported
// (screens/index.js imports them); the shell builds navigation and routing from it.

/**
 * @typedef {Object} Screen
 * @property {string} id the route (#/id)
 * @property {string} navKey catalogue key of the navigation label and title
 * @property {string} perm the permission a role needs to open it
 * @property {(view: HTMLElement) => Promise<void> | void} mount
 * @property {() => void} [unmount]
 */

/** @type {Screen[]} */
const screens = [];

/** @param {Screen} screen */
export function registerScreen(screen) {
  if (screens.some((s) => s.id === screen.id)) throw new Error(`screen ${screen.id} registered twice`);
  screens.push(screen);
}

/** Every registered screen, in registration order. */
export function allScreens() { return [...screens]; }
