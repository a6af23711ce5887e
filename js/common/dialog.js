/**
 * Modal dialogs that return Promises and work with the keyboard alone:
 * ←/→ move between the buttons, Enter activates the focused button (in a text field:
 * the primary button), Esc cancels, Tab stays inside the dialog. The dialog never
 * grows taller than the viewport (its body scrolls). Key events stop at the dialog,
 * so ComfyUI's shortcuts do not fire behind it. No side effects at import.
 * @module common/dialog
 */
import { el, ensureShellStyles, isTextInput } from "./dom.js";
import { applyTheme } from "./themes.js";

/**
 * @typedef {object} DialogButton
 * @property {string} label
 * @property {any} value resolved when this button closes the dialog
 * @property {"primary" | "danger" | "cancel" | "default"} [kind]
 * @property {string} [testid]
 * @property {boolean} [autofocus] gets the initial focus
 * @property {(dialog: DialogHandle) => (boolean | void | Promise<boolean | void>)} [action]
 *   runs first; return false to keep the dialog open (e.g. a form error). Buttons are
 *   disabled while a returned promise is pending.
 */

/**
 * @typedef {object} DialogOptions
 * @property {string} title
 * @property {string} [message] plain text (line breaks kept)
 * @property {Node} [content] extra DOM under the message (built with dom.el)
 * @property {DialogButton[]} [buttons] default: one "OK"
 * @property {any} [cancelValue] what Esc / overlay click / × resolve with (default null)
 * @property {boolean} [cancelable] default true: Esc, overlay click and × close the dialog
 * @property {string} [theme] default: the theme of the panel that had focus, or the page's
 * @property {string} [testid] default "holaf-dialog"
 * @property {string} [className]
 * @property {"alertdialog" | "dialog"} [role]
 */

/**
 * @typedef {object} DialogHandle
 * @property {HTMLElement} element the dialog box (data-testid)
 * @property {HTMLElement} body scrollable content area
 * @property {Promise<any>} result
 * @property {(value: any) => void} close
 * @property {(text: string | null, kind?: "error" | "info" | "success") => void} setStatus
 *   a status line above the buttons (null hides it)
 * @property {(busy: boolean) => void} setBusy disables the buttons
 * @property {(buttons: DialogButton[]) => void} setButtons
 */

const BASE_Z = 100000;
/** @type {DialogHandle[]} */
const openDialogs = [];

/** The theme of what had focus (a panel), else the page's. */
function inferTheme() {
  const active = document.activeElement;
  const themed = active instanceof HTMLElement ? active.closest("[data-holaf-theme]") : null;
  return (themed instanceof HTMLElement && themed.dataset.holafTheme) || document.body?.dataset.holafTheme || undefined;
}

/**
 * Opens a dialog. Resolve value: the clicked button's `value`, or `cancelValue`.
 * @param {DialogOptions} options
 * @returns {DialogHandle}
 */
export function openDialog(options) {
  ensureShellStyles();
  const cancelable = options.cancelable !== false;
  const cancelValue = options.cancelValue ?? null;
  const previousFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `holaf-dialog-title-${Math.random().toString(36).slice(2)}`;

  const overlay = el("div", { className: "holaf-dialog-overlay", testid: "holaf-dialog-overlay" });
  const box = el("div", {
    className: ["holaf-dialog", options.className || ""],
    testid: options.testid || "holaf-dialog",
    attrs: { role: options.role || "dialog", "aria-modal": "true", "aria-labelledby": titleId, tabindex: "-1" },
  });
  applyTheme(overlay, options.theme || inferTheme());
  const header = el("div", { className: "holaf-dialog-header" }, );
  header.appendChild(el("h2", { className: "holaf-dialog-title", text: options.title, attrs: { id: titleId } }));
  const body = el("div", { className: "holaf-dialog-body", testid: "holaf-dialog-body" });
  if (options.message) body.appendChild(el("p", { className: "holaf-dialog-message", text: options.message }));
  if (options.content) body.appendChild(options.content);
  const status = el("div", { className: "holaf-dialog-status", testid: "holaf-dialog-status", attrs: { role: "alert", hidden: true } });
  const footer = el("div", { className: "holaf-dialog-footer" });
  box.append(header, body, status, footer);
  overlay.appendChild(box);
  overlay.style.zIndex = String(BASE_Z + openDialogs.length * 10);

  let settled = false;
  /** @type {(value: any) => void} */
  let resolveResult = () => {};
  const result = new Promise((resolve) => { resolveResult = resolve; });

  /** @type {DialogButton[]} */
  let buttons = [];
  /** @type {HTMLButtonElement[]} */
  let buttonNodes = [];

  /** @type {DialogHandle} */
  const handle = {
    element: box,
    body,
    result,
    close(value) {
      if (settled) return;
      settled = true;
      overlay.remove();
      const index = openDialogs.indexOf(handle);
      if (index >= 0) openDialogs.splice(index, 1);
      if (previousFocus && previousFocus.isConnected) previousFocus.focus({ preventScroll: true });
      resolveResult(value);
    },
    setStatus(text, kind = "error") {
      if (text === null || text === undefined || text === "") {
        status.hidden = true;
        status.textContent = "";
        return;
      }
      status.hidden = false;
      status.textContent = text;
      status.dataset.kind = kind;
    },
    setBusy(busy) {
      box.classList.toggle("holaf-busy", busy);
      for (const node of buttonNodes) node.disabled = busy;
    },
    setButtons(next) {
      buttons = next;
      footer.replaceChildren();
      buttonNodes = next.map((button, index) => {
        const node = el("button", {
          className: ["holaf-button", `holaf-button-${button.kind || "default"}`],
          testid: button.testid || "holaf-dialog-button",
          text: button.label,
          attrs: { type: "button" },
        });
        node.dataset.index = String(index);
        node.addEventListener("click", () => activate(button));
        footer.appendChild(node);
        return node;
      });
    },
  };

  /** @param {DialogButton} button */
  async function activate(button) {
    if (settled || box.classList.contains("holaf-busy")) return;
    if (button.action) {
      let keepOpen;
      const outcome = button.action(handle);
      if (outcome && typeof (/** @type {any} */ (outcome)).then === "function") {
        handle.setBusy(true);
        try {
          keepOpen = (await outcome) === false;
        } catch (error) {
          keepOpen = true;
          handle.setStatus(String(/** @type {any} */ (error)?.message || error));
        } finally {
          handle.setBusy(false);
        }
      } else {
        keepOpen = outcome === false;
      }
      if (keepOpen || settled) return;
    }
    handle.close(button.value);
  }

  function focusables() {
    return /** @type {HTMLElement[]} */ ([...box.querySelectorAll(
      "button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])",
    )]).filter((node) => node.offsetParent !== null || node === document.activeElement);
  }

  overlay.addEventListener("keydown", (event) => {
    event.stopPropagation(); // ComfyUI's window shortcuts must not see keys meant for the dialog
    if (openDialogs[openDialogs.length - 1] !== handle) return;
    const target = /** @type {HTMLElement} */ (event.target);
    if (event.key === "Escape") {
      event.preventDefault();
      if (cancelable) handle.close(cancelValue);
      return;
    }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const index = buttonNodes.indexOf(/** @type {HTMLButtonElement} */ (target));
      if (index < 0) return; // arrows move the caret in text fields
      event.preventDefault();
      const enabled = buttonNodes.filter((node) => !node.disabled);
      if (!enabled.length) return;
      const at = enabled.indexOf(buttonNodes[index]);
      const step = event.key === "ArrowRight" ? 1 : -1;
      enabled[(at + step + enabled.length) % enabled.length].focus();
      return;
    }
    if (event.key === "Enter" && !event.isComposing) {
      const index = buttonNodes.indexOf(/** @type {HTMLButtonElement} */ (target));
      if (index >= 0) {
        event.preventDefault();
        activate(buttons[index]);
      } else if (isTextInput(target) && !(target instanceof HTMLTextAreaElement) && !(target instanceof HTMLSelectElement)) {
        event.preventDefault();
        const primary = buttons.findIndex((b) => b.kind === "primary" || b.kind === "danger");
        if (primary >= 0) activate(buttons[primary]);
      }
      return;
    }
    if (event.key === "Tab") {
      const nodes = focusables();
      if (!nodes.length) return;
      const first = nodes[0];
      const last = nodes[nodes.length - 1];
      if (event.shiftKey && (document.activeElement === first || !box.contains(document.activeElement))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !box.contains(document.activeElement))) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  for (const type of ["keyup", "keypress", "paste", "copy", "cut"]) {
    overlay.addEventListener(type, (event) => event.stopPropagation());
  }
  overlay.addEventListener("mousedown", (event) => {
    if (event.target === overlay && cancelable && !box.classList.contains("holaf-busy")) handle.close(cancelValue);
  });
  if (cancelable) {
    header.appendChild(el("button", {
      className: "holaf-icon-button holaf-dialog-x", text: "×", testid: "holaf-dialog-x",
      attrs: { type: "button", "aria-label": "Close", title: "Close (Esc)", tabindex: "-1" },
      on: { click: () => handle.close(cancelValue) },
    }));
  }

  handle.setButtons(options.buttons && options.buttons.length ? options.buttons : [{ label: "OK", value: true, kind: "primary" }]);
  openDialogs.push(handle);
  document.body.appendChild(overlay);

  const firstField = /** @type {HTMLElement | null} */ (body.querySelector("input:not([type=hidden]):not([disabled]), textarea, select"));
  const wanted = buttons.findIndex((b) => b.autofocus);
  const primary = buttons.findIndex((b) => b.kind === "primary");
  const initial = firstField || buttonNodes[wanted >= 0 ? wanted : primary >= 0 ? primary : buttonNodes.length - 1] || box;
  initial.focus({ preventScroll: true });
  return handle;
}

/**
 * OK/Cancel. Resolves true for the confirm button, false otherwise (Esc included).
 * With `danger`, the confirm button is red and Cancel has the initial focus.
 * @param {{title: string, message?: string, content?: Node, confirmLabel?: string, cancelLabel?: string, danger?: boolean, theme?: string}} options
 * @returns {Promise<boolean>}
 */
export function confirmDialog(options) {
  const { confirmLabel = "OK", cancelLabel = "Cancel", danger = false } = options;
  return openDialog({
    title: options.title, message: options.message, content: options.content, theme: options.theme,
    role: "alertdialog", cancelValue: false,
    buttons: [
      { label: cancelLabel, value: false, kind: "cancel", testid: "holaf-dialog-cancel", autofocus: danger },
      { label: confirmLabel, value: true, kind: danger ? "danger" : "primary", testid: "holaf-dialog-confirm", autofocus: !danger },
    ],
  }).result;
}

/**
 * A message with one button. Resolves when closed.
 * @param {{title: string, message?: string, content?: Node, okLabel?: string, theme?: string}} options
 * @returns {Promise<void>}
 */
export async function alertDialog(options) {
  await openDialog({
    title: options.title, message: options.message, content: options.content, theme: options.theme,
    role: "alertdialog", buttons: [{ label: options.okLabel || "OK", value: true, kind: "primary", testid: "holaf-dialog-confirm" }],
  }).result;
}

/**
 * One text field. Resolves with the text, or null when cancelled. `validate` returns an
 * error message to keep the dialog open.
 * @param {{title: string, message?: string, label?: string, value?: string, placeholder?: string,
 *   inputType?: string, confirmLabel?: string, cancelLabel?: string, theme?: string,
 *   validate?: (value: string) => string | null | undefined}} options
 * @returns {Promise<string | null>}
 */
export function promptDialog(options) {
  const input = el("input", {
    className: "holaf-input", testid: "holaf-dialog-input",
    attrs: { type: options.inputType || "text", placeholder: options.placeholder || null, "aria-label": options.label || options.title },
  });
  input.value = options.value ?? "";
  const content = el("label", { className: "holaf-field", children: [options.label ? el("span", { className: "holaf-field-label", text: options.label }) : null, input] });
  return openDialog({
    title: options.title, message: options.message, content, theme: options.theme, cancelValue: null,
    buttons: [
      { label: options.cancelLabel || "Cancel", value: null, kind: "cancel", testid: "holaf-dialog-cancel" },
      {
        label: options.confirmLabel || "OK", value: undefined, kind: "primary", testid: "holaf-dialog-confirm",
        action: (dialog) => {
          const problem = options.validate?.(input.value);
          if (problem) {
            dialog.setStatus(problem);
            input.focus();
            return false;
          }
          dialog.close(input.value);
          return false;
        },
      },
    ],
  }).result;
}

/** Whether any Holaf dialog is open (tools pause their own shortcuts meanwhile). */
export function isDialogOpen() {
  return openDialogs.length > 0;
}
