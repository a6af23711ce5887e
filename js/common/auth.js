/**
 * The one password that protects the Terminal, Restart and other admin actions:
 * `ensureAuthenticated(host)` asks for what is missing (first-time setup or login) and
 * resolves true once the session cookie is set. Also change password and log out.
 * No side effects at import.
 * @module common/auth
 */
import { HolafApiError } from "./api.js";
import { openDialog } from "./dialog.js";
import { el } from "./dom.js";

/** @typedef {import("./host.js").HolafHost} HolafHost */

export const MIN_PASSWORD_LENGTH = 8;

/**
 * @param {HolafHost} host
 * @returns {Promise<{authenticated: boolean, password_configured: boolean}>}
 */
export function authStatus(host) {
  return host.fetchJson("/holaf/auth/status");
}

/**
 * What is wrong with a new password pair, or null (same rule as the server).
 * @param {string} password
 * @param {string} repeat
 */
export function newPasswordProblem(password, repeat) {
  if (password.length < MIN_PASSWORD_LENGTH) return `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > 1024) return "The password is too long.";
  if (password !== repeat) return "The two passwords differ.";
  return null;
}

/**
 * A sentence for an auth error from the server.
 * @param {unknown} error
 */
export function describeAuthError(error) {
  if (!(error instanceof HolafApiError)) return String(/** @type {any} */ (error)?.message || error);
  switch (error.code) {
    case "rate_limited":
      return `Too many failed attempts. Try again in ${error.retryAfter ?? "a few"} s.`;
    case "invalid_credentials":
      return error.message.includes("current") ? "The current password is wrong." : "Wrong password.";
    case "setup_requires_local":
      return "The first password can only be set from the machine that runs the server. "
        + "Open this page there (http://127.0.0.1:…), or run `python . hash-password` in the extension folder "
        + "and put the printed line under [Security] in config.ini, then restart.";
    case "weak_password":
      return `The server refused this password: ${error.message}.`;
    case "network_error":
    case "timeout":
      return "The server cannot be reached.";
    default:
      return error.message;
  }
}

/**
 * @param {string} label
 * @param {string} autocomplete
 * @param {string} testid
 */
function passwordField(label, autocomplete, testid) {
  const input = el("input", {
    className: "holaf-input", testid,
    attrs: { type: "password", autocomplete, spellcheck: "false", "aria-label": label },
  });
  return { input, node: el("label", { className: "holaf-field", children: [el("span", { className: "holaf-field-label", text: label }), input] }) };
}

/** A form that never navigates (Enter is handled by the dialog). */
function form(children) {
  const node = el("form", { className: "holaf-form", attrs: { autocomplete: "on" }, children });
  node.addEventListener("submit", (event) => event.preventDefault());
  return node;
}

/**
 * Shows the hash to paste into config.ini by hand (config.ini not writable).
 * @param {HolafHost} host
 * @param {{hash: string, message?: string}} reply
 */
export async function showManualPasswordInstructions(host, reply) {
  const line = `password_hash = ${reply.hash}`;
  const code = el("textarea", {
    className: "holaf-input holaf-code", testid: "holaf-auth-hash",
    attrs: { readonly: true, rows: "3", spellcheck: "false", "aria-label": "Line for config.ini" },
  });
  code.value = line;
  const copy = el("button", { className: "holaf-button", text: "Copy line", attrs: { type: "button" }, testid: "holaf-auth-copy" });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(line);
      host.toasts.success("Copied.");
    } catch {
      code.select();
    }
  });
  const content = el("div", {
    className: "holaf-auth-manual", testid: "holaf-auth-manual",
    children: [
      el("p", { text: "config.ini cannot be written, so the password was not saved. To set it by hand:" }),
      el("ol", {
        children: [
          el("li", { text: "Stop the server." }),
          el("li", { text: "Open config.ini (in the Holaf data folder) and add this line under [Security]:" }),
        ],
      }),
      code,
      el("div", { className: "holaf-row", children: [copy] }),
      el("p", { className: "holaf-muted", text: "Then start the server again and log in." }),
      reply.message ? el("p", { className: "holaf-muted holaf-small", text: reply.message }) : null,
    ],
  });
  await openDialog({
    title: "Set the password by hand", content, testid: "holaf-dialog",
    buttons: [{ label: "Close", value: true, kind: "primary" }],
  }).result;
}

/**
 * First-time setup. Resolves true when the password is set and this browser is logged in.
 * @param {HolafHost} host
 * @param {{reason?: string}} [options]
 * @returns {Promise<boolean>}
 */
export async function setupPassword(host, options = {}) {
  const first = passwordField("New password", "new-password", "holaf-auth-password");
  const second = passwordField("Repeat it", "new-password", "holaf-auth-password-repeat");
  const notice = el("div", { className: "holaf-auth-notice", testid: "holaf-auth-notice", attrs: { hidden: true } });
  const content = form([
    el("p", {
      text: `${options.reason ? `${options.reason} ` : ""}Choose the password that protects the Terminal, Restart and other admin actions (at least ${MIN_PASSWORD_LENGTH} characters).`,
    }),
    first.node, second.node, notice,
  ]);
  /** @type {{hash: string, message?: string} | null} */
  let manual = null;
  const dialog = openDialog({
    title: "Set a password", content, testid: "holaf-dialog", className: "holaf-auth-dialog",
    buttons: [
      { label: "Cancel", value: false, kind: "cancel", testid: "holaf-dialog-cancel" },
      {
        label: "Set password", value: true, kind: "primary", testid: "holaf-auth-submit",
        action: async (d) => {
          const problem = newPasswordProblem(first.input.value, second.input.value);
          if (problem) {
            d.setStatus(problem);
            (first.input.value.length < MIN_PASSWORD_LENGTH ? first.input : second.input).focus();
            return false;
          }
          try {
            const reply = await host.fetchJson("/holaf/auth/set-password", { method: "POST", body: { password: first.input.value } });
            if (reply?.status === "manual_required") {
              manual = reply;
              d.close(false);
              return false;
            }
            return true;
          } catch (error) {
            if (error instanceof HolafApiError && error.code === "setup_requires_local") {
              notice.hidden = false;
              notice.textContent = describeAuthError(error);
              d.setStatus("Not allowed from this computer.");
            } else {
              d.setStatus(describeAuthError(error));
            }
            return false;
          }
        },
      },
    ],
  });
  const ok = await dialog.result;
  if (manual) {
    await showManualPasswordInstructions(host, manual);
    return false;
  }
  if (ok) host.toasts.success("Password set. You are logged in.");
  return !!ok;
}

/**
 * Rate-limit countdown on a dialog: disables the submit button until the wait is over.
 * @param {import("./dialog.js").DialogHandle} dialog
 * @param {HTMLButtonElement | null} button
 * @param {number} seconds
 */
function lockFor(dialog, button, seconds) {
  let left = Math.max(1, Math.ceil(seconds));
  const tick = () => {
    if (!dialog.element.isConnected) return;
    if (left <= 0) {
      if (button) button.disabled = false;
      dialog.setStatus("You can try again now.", "info");
      return;
    }
    if (button) button.disabled = true;
    dialog.setStatus(`Too many failed attempts. Try again in ${left} s.`);
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}

/**
 * Login. Resolves true once logged in.
 * @param {HolafHost} host
 * @param {{reason?: string}} [options]
 * @returns {Promise<boolean>}
 */
export async function login(host, options = {}) {
  const pw = passwordField("Password", "current-password", "holaf-auth-password");
  const content = form([
    el("p", { text: options.reason || "Enter the Holaf Utilities password." }),
    pw.node,
  ]);
  const dialog = openDialog({
    title: "Log in", content, testid: "holaf-dialog", className: "holaf-auth-dialog",
    buttons: [
      { label: "Cancel", value: false, kind: "cancel", testid: "holaf-dialog-cancel" },
      {
        label: "Log in", value: true, kind: "primary", testid: "holaf-auth-submit",
        action: async (d) => {
          if (!pw.input.value) {
            d.setStatus("Enter the password.");
            pw.input.focus();
            return false;
          }
          try {
            await host.fetchJson("/holaf/auth/login", { method: "POST", body: { password: pw.input.value } });
            return true;
          } catch (error) {
            pw.input.value = "";
            if (error instanceof HolafApiError && error.status === 429) {
              const submit = /** @type {HTMLButtonElement | null} */ (d.element.querySelector('[data-testid="holaf-auth-submit"]'));
              setTimeout(() => lockFor(d, submit, error.retryAfter ?? 5), 0);
            } else {
              d.setStatus(describeAuthError(error));
            }
            pw.input.focus();
            return false;
          }
        },
      },
    ],
  });
  const ok = !!(await dialog.result);
  if (ok) host.toasts.success("Logged in.");
  return ok;
}

/**
 * Resolves true when this browser is logged in, asking for first-time setup or the
 * password as needed; false when the user cancels or the server cannot be reached.
 * @param {HolafHost} host
 * @param {{reason?: string}} [options] e.g. "The Terminal needs the password."
 * @returns {Promise<boolean>}
 */
export async function ensureAuthenticated(host, options = {}) {
  let status;
  try {
    status = await authStatus(host);
  } catch (error) {
    host.toasts.error(`Cannot check the login: ${describeAuthError(error)}`);
    return false;
  }
  if (status.authenticated) return true;
  return status.password_configured ? login(host, options) : setupPassword(host, options);
}

/**
 * Change the password (needs the current one). Resolves true when changed.
 * @param {HolafHost} host
 * @returns {Promise<boolean>}
 */
export async function changePassword(host) {
  let status;
  try {
    status = await authStatus(host);
  } catch (error) {
    host.toasts.error(describeAuthError(error));
    return false;
  }
  if (!status.password_configured) return setupPassword(host);
  const current = passwordField("Current password", "current-password", "holaf-auth-current");
  const first = passwordField("New password", "new-password", "holaf-auth-password");
  const second = passwordField("Repeat it", "new-password", "holaf-auth-password-repeat");
  /** @type {{hash: string, message?: string} | null} */
  let manual = null;
  const dialog = openDialog({
    title: "Change password", testid: "holaf-dialog", className: "holaf-auth-dialog",
    content: form([
      el("p", { text: "Changing the password logs out every other browser." }),
      current.node, first.node, second.node,
    ]),
    buttons: [
      { label: "Cancel", value: false, kind: "cancel", testid: "holaf-dialog-cancel" },
      {
        label: "Change password", value: true, kind: "primary", testid: "holaf-auth-submit",
        action: async (d) => {
          if (!current.input.value) {
            d.setStatus("Enter the current password.");
            current.input.focus();
            return false;
          }
          const problem = newPasswordProblem(first.input.value, second.input.value);
          if (problem) {
            d.setStatus(problem);
            first.input.focus();
            return false;
          }
          try {
            const reply = await host.fetchJson("/holaf/auth/set-password", {
              method: "POST", body: { password: first.input.value, current_password: current.input.value },
            });
            if (reply?.status === "manual_required") {
              manual = reply;
              d.close(false);
              return false;
            }
            return true;
          } catch (error) {
            if (error instanceof HolafApiError && error.status === 429) {
              const submit = /** @type {HTMLButtonElement | null} */ (d.element.querySelector('[data-testid="holaf-auth-submit"]'));
              setTimeout(() => lockFor(d, submit, error.retryAfter ?? 5), 0);
            } else {
              d.setStatus(describeAuthError(error));
            }
            return false;
          }
        },
      },
    ],
  });
  const ok = !!(await dialog.result);
  if (manual) {
    await showManualPasswordInstructions(host, manual);
    return false;
  }
  if (ok) host.toasts.success("Password changed.");
  return ok;
}

/**
 * Logs this browser out.
 * @param {HolafHost} host
 */
export async function logout(host) {
  await host.fetchJson("/holaf/auth/logout", { method: "POST", body: {} });
  host.toasts.info("Logged out.");
}
