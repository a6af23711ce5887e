/**
 * The viewer's keyboard as data: which key does what in which mode, and where the
 * active image moves. Pure functions (tests/js/image_viewer_keyboard.test.mjs); the
 * viewer binds them to its root element.
 *
 * | key | action |
 * | --- | --- |
 * | ← / → | previous / next image (gallery, zoom view and fullscreen) |
 * | ↑ / ↓ | one row up / down (gallery) |
 * | Enter | open the active image in the zoom view |
 * | Ctrl+Enter | open it fullscreen |
 * | Esc | back out one level (fullscreen → zoom view or gallery → clear selection) |
 * | Space | toggle the active image's selection |
 * | Delete | move to the trashcan (asks first) |
 * | Shift+Delete | delete permanently (asks first) |
 * | PageUp / PageDown | one screen up / down |
 * | Home / End | first / last image |
 * | Ctrl+A | select everything that matches the filters |
 *
 * Keys typed in a text field are the user's, except Esc.
 * @module image_viewer/keyboard
 */

/** @typedef {"gallery" | "zoom" | "fullscreen"} ViewMode */

/**
 * @typedef {"prev" | "next" | "up" | "down" | "open" | "fullscreen" | "back" | "toggleSelect" |
 *   "trash" | "deletePermanently" | "pageUp" | "pageDown" | "first" | "last" | "selectAll"} KeyAction
 */

/** The key table shown in the README and the help tooltip. */
export const KEY_TABLE = Object.freeze([
  ["← / →", "Previous / next image (in every mode)"],
  ["↑ / ↓", "One row up / down"],
  ["Enter", "Open the active image"],
  ["Ctrl+Enter", "Open it fullscreen"],
  ["Esc", "Back out one level"],
  ["Space", "Select / unselect the active image"],
  ["Delete", "Move to the trashcan (asks first)"],
  ["Shift+Delete", "Delete permanently (asks first)"],
  ["PageUp / PageDown", "One screen up / down"],
  ["Home / End", "First / last image"],
  ["Ctrl+A", "Select all"],
]);

/**
 * The action for a key press, or null when the viewer should leave the key alone.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, shiftKey?: boolean, altKey?: boolean}} event
 * @param {{mode?: ViewMode, typing?: boolean}} [context] `typing`: the focus is in a text field
 * @returns {KeyAction | null}
 */
export function keyAction(event, context = {}) {
  const mode = context.mode || "gallery";
  const ctrl = !!(event.ctrlKey || event.metaKey);
  if (event.altKey) return null; // Alt+… belongs to the host (Alt+Shift+letter opens tools)
  if (context.typing) return event.key === "Escape" ? "back" : null;
  switch (event.key) {
    case "ArrowLeft": return ctrl ? null : "prev";
    case "ArrowRight": return ctrl ? null : "next";
    case "ArrowUp": return mode === "gallery" && !ctrl ? "up" : null;
    case "ArrowDown": return mode === "gallery" && !ctrl ? "down" : null;
    case "Enter": return ctrl ? "fullscreen" : mode === "gallery" ? "open" : null;
    case "Escape": return "back";
    case " ":
    case "Spacebar": return ctrl ? null : "toggleSelect";
    case "Delete": return ctrl ? null : event.shiftKey ? "deletePermanently" : "trash";
    case "PageUp": return mode === "gallery" ? "pageUp" : null;
    case "PageDown": return mode === "gallery" ? "pageDown" : null;
    case "Home": return mode === "gallery" ? "first" : null;
    case "End": return mode === "gallery" ? "last" : null;
    case "a":
    case "A": return ctrl && !event.shiftKey ? "selectAll" : null;
    default: return null;
  }
}

/**
 * Where a movement action takes the active index. `index` -1 means nothing is active
 * yet: any movement starts at the first image (or the last for "last"). Never wraps.
 * @param {KeyAction} action
 * @param {{index: number, count: number, columns: number, pageRows?: number}} grid
 * @returns {number} the new index (-1 when the list is empty); unchanged for non-movement actions
 */
export function moveIndex(action, grid) {
  const { count } = grid;
  const columns = Math.max(1, grid.columns | 0);
  const pageRows = Math.max(1, grid.pageRows | 0 || 1);
  if (count <= 0) return -1;
  const last = count - 1;
  if (grid.index < 0 || grid.index > last) {
    if (action === "last") return last;
    if (["prev", "next", "up", "down", "pageUp", "pageDown", "first"].includes(action)) return 0;
    return Math.min(Math.max(grid.index, -1), last);
  }
  const i = grid.index;
  switch (action) {
    case "prev": return Math.max(0, i - 1);
    case "next": return Math.min(last, i + 1);
    case "up": return i - columns >= 0 ? i - columns : i;
    case "down": {
      if (i + columns <= last) return i + columns;
      // a shorter last row: go to its last tile when there is a row below
      const row = Math.floor(i / columns);
      return Math.floor(last / columns) > row ? last : i;
    }
    case "pageUp": return i - pageRows * columns >= 0 ? i - pageRows * columns : i % columns;
    case "pageDown": {
      const target = i + pageRows * columns;
      if (target <= last) return target;
      const lastRowStart = Math.floor(last / columns) * columns;
      return Math.min(last, lastRowStart + (i % columns));
    }
    case "first": return 0;
    case "last": return last;
    default: return i;
  }
}

/** Movement actions (they change the active image). */
export const MOVEMENTS = Object.freeze(new Set(["prev", "next", "up", "down", "pageUp", "pageDown", "first", "last"]));
