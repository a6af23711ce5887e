/**
 * Clipboard for the terminal: the async Clipboard API where the page may use it (https, localhost),
 * a hidden-textarea copy elsewhere. Reading needs the API; without it the browser's own paste
 * (Ctrl+Shift+V, the context menu of a text field) still reaches xterm.js. No side effects at import.
 */

/**
 * Copies `text`; resolves whether it worked.
 * @param {string} text
 */
export async function copyText(text) {
  if (!text) return false;
  try {
    if (navigator.clipboard?.writeText && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall back below */
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.cssText = "position:fixed;left:-9999px;top:0;opacity:0";
  const active = document.activeElement;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  if (active instanceof HTMLElement) active.focus();
  return ok;
}

/** The clipboard's text, or null when the page may not read it (insecure context, denied). */
export async function readText() {
  if (!navigator.clipboard?.readText || !window.isSecureContext) return null;
  try {
    return await navigator.clipboard.readText();
  } catch {
    return null;
  }
}
