/**
 * The selection: a set of paths (so it survives paging, reloads and live updates, and
 * checking a tile is O(1)) plus the anchor of Shift+click ranges. Pure; the viewer
 * resolves the paths of a range (loading missing pages) and hands them in.
 * Tests: tests/js/image_viewer_selection.test.mjs.
 * @module image_viewer/selection
 */

/**
 * What a click on a tile does, from its modifier keys.
 * @param {{ctrlKey?: boolean, metaKey?: boolean, shiftKey?: boolean}} event
 * @param {{checkbox?: boolean}} [where] a click on the tile's checkbox toggles
 * @returns {"only" | "toggle" | "range" | "addRange"}
 */
export function clickKind(event, where = {}) {
  const ctrl = !!(event.ctrlKey || event.metaKey);
  if (event.shiftKey) return ctrl ? "addRange" : "range";
  if (ctrl || where.checkbox) return "toggle";
  return "only";
}

/**
 * Inclusive index bounds of a Shift+click range.
 * @param {number} anchor -1 when there is none (the range starts at the click)
 * @param {number} index
 * @returns {[number, number]}
 */
export function rangeBounds(anchor, index) {
  if (anchor < 0) return [index, index];
  return anchor <= index ? [anchor, index] : [index, anchor];
}

export class Selection {
  constructor() {
    /** @type {Set<string>} */
    this.paths = new Set();
    /** Index Shift+click ranges start from. */
    this.anchor = -1;
  }

  get size() {
    return this.paths.size;
  }

  /** @param {string} path */
  has(path) {
    return this.paths.has(path);
  }

  /** @returns {string[]} */
  list() {
    return [...this.paths];
  }

  /**
   * Replaces the selection. Returns whether anything changed.
   * @param {Iterable<string>} paths
   */
  set(paths) {
    const next = new Set(paths);
    if (next.size === this.paths.size && [...next].every((p) => this.paths.has(p))) return false;
    this.paths = next;
    return true;
  }

  /** @param {Iterable<string>} paths */
  add(paths) {
    const before = this.paths.size;
    for (const p of paths) this.paths.add(p);
    return this.paths.size !== before;
  }

  /** @param {Iterable<string>} paths */
  remove(paths) {
    let changed = false;
    for (const p of paths) changed = this.paths.delete(p) || changed;
    return changed;
  }

  /** @param {string} path */
  toggle(path) {
    if (this.paths.has(path)) this.paths.delete(path);
    else this.paths.add(path);
    return true;
  }

  clear() {
    if (!this.paths.size) return false;
    this.paths.clear();
    return true;
  }

  /**
   * Applies a click (see {@link clickKind}) on the tile at `index`.
   * @param {"only" | "toggle" | "range" | "addRange"} kind
   * @param {number} index
   * @param {string} path
   * @param {string[]} [rangePaths] paths of the range from the anchor to `index` (for range kinds)
   */
  click(kind, index, path, rangePaths = [path]) {
    if (kind === "only") {
      this.set([path]);
      this.anchor = index;
    } else if (kind === "toggle") {
      this.toggle(path);
      this.anchor = index;
    } else if (kind === "range") {
      this.set(rangePaths);
    } else {
      this.add(rangePaths);
    }
    return true;
  }

  /**
   * Follows renames (moves) so a moved file stays selected.
   * @param {Array<{path: string, new_path?: string | null}>} moves
   */
  rename(moves) {
    let changed = false;
    for (const { path, new_path: next } of moves) {
      if (!this.paths.has(path)) continue;
      this.paths.delete(path);
      if (next) this.paths.add(next);
      changed = true;
    }
    return changed;
  }
}
