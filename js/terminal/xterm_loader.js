/**
 * Loads the vendored xterm.js and its fit addon on first use (a dynamic import when the
 * Terminal panel opens: nothing is fetched at page load). No side effects at import.
 */
import { ensureStylesheet } from "../common/dom.js";

/** @type {Promise<{Terminal: any, FitAddon: any}> | null} */
let loading = null;

/** Resolves to `{Terminal, FitAddon}`; xterm.css is added to the page once. */
export function loadXterm() {
  if (!loading) {
    const base = new URL("../vendor/xterm/", import.meta.url);
    ensureStylesheet(new URL("xterm.css", base).href, "xterm");
    loading = Promise.all([
      import(new URL("xterm.mjs", base).href),
      import(new URL("addon-fit.mjs", base).href),
    ]).then(([xterm, fit]) => ({ Terminal: xterm.Terminal, FitAddon: fit.FitAddon }))
      .catch((error) => {
        loading = null; // a later open tries again
        throw error;
      });
  }
  return loading;
}
