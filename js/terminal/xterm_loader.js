/**
 * Loads the vendored xterm.js and its fit addon on first use (dynamic import: nothing at page load).
 * No side effects at import.
 */

let loading = null;

function addStylesheet(href) {
  if (document.querySelector(`link[data-holaf-xterm-css]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  link.dataset.holafXtermCss = "1";
  document.head.appendChild(link);
}

/** Resolves to `{Terminal, FitAddon}`; the CSS is added to the page once. */
export function loadXterm() {
  if (!loading) {
    const base = new URL("../vendor/xterm/", import.meta.url);
    addStylesheet(new URL("xterm.css", base).href);
    loading = Promise.all([
      import(new URL("xterm.mjs", base).href),
      import(new URL("addon-fit.mjs", base).href),
    ]).then(([xterm, fit]) => ({ Terminal: xterm.Terminal, FitAddon: fit.FitAddon }))
      .catch((error) => {
        loading = null; // let a later open try again
        throw error;
      });
  }
  return loading;
}
