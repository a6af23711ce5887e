/**
 * The terminal panel's own setup and login views (inside the panel, not a dialog), built on the
 * shell's auth helpers for the rules and the wording. Login goes through `/holaf/terminal/auth`,
 * which answers a one-time WebSocket token and also sets the login cookie.
 * No side effects at import.
 */
import { HolafApiError } from "../common/api.js";
import { MIN_PASSWORD_LENGTH, describeAuthError, newPasswordProblem, showManualPasswordInstructions } from "../common/auth.js";
import { el } from "../common/dom.js";

/** @typedef {import("../common/host.js").HolafHost} HolafHost */

function passwordInput(label, autocomplete, testid) {
  const input = el("input", {
    className: "holaf-input", testid,
    attrs: { type: "password", autocomplete, spellcheck: "false", "aria-label": label },
  });
  const node = el("label", {
    className: "holaf-field",
    children: [el("span", { className: "holaf-field-label", text: label }), input],
  });
  return { input, node };
}

/**
 * Disables `button` and counts down in `status` while the server rate-limits logins.
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} status
 * @param {number} seconds
 */
function lockFor(button, status, seconds) {
  let left = Math.max(1, Math.ceil(seconds));
  const tick = () => {
    if (!button.isConnected) return;
    if (left <= 0) {
      button.disabled = false;
      status.textContent = "You can try again now.";
      return;
    }
    button.disabled = true;
    status.textContent = `Too many failed attempts. Try again in ${left} s.`;
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}

function card(title, intro, children, testid) {
  const form = el("form", {
    className: "holaf-terminal-auth", testid,
    attrs: { autocomplete: "on" },
    children: [el("h3", { text: title }), el("p", { className: "holaf-muted", text: intro }), ...children],
  });
  return form;
}

/**
 * First-time setup: choose the password twice. Calls `onDone()` once set (this browser is then logged in).
 * @param {HolafHost} host
 * @param {{onDone: () => void}} options
 */
export function buildSetupView(host, { onDone }) {
  const first = passwordInput("New password", "new-password", "holaf-terminal-password");
  const second = passwordInput("Repeat it", "new-password", "holaf-terminal-password-repeat");
  const status = el("p", { className: "holaf-terminal-auth-status", testid: "holaf-terminal-auth-status", attrs: { role: "status" } });
  const submit = el("button", {
    className: "holaf-button holaf-button-primary", text: "Set password and open the terminal",
    testid: "holaf-terminal-auth-submit", attrs: { type: "submit" },
  });
  const form = card(
    "Protect the terminal with a password",
    `The terminal is a shell on the server: no one can open it until a password is set. `
      + `It also protects Restart and the other admin actions (at least ${MIN_PASSWORD_LENGTH} characters).`,
    [first.node, second.node, status, el("div", { className: "holaf-row", children: [submit] })],
    "holaf-terminal-setup",
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = newPasswordProblem(first.input.value, second.input.value);
    if (problem) {
      status.textContent = problem;
      (first.input.value.length < MIN_PASSWORD_LENGTH ? first.input : second.input).focus();
      return;
    }
    submit.disabled = true;
    status.textContent = "Saving…";
    try {
      const reply = await host.fetchJson("/holaf/auth/set-password", { method: "POST", body: { password: first.input.value } });
      if (reply?.status === "manual_required") {
        status.textContent = "config.ini is read-only: set the password by hand, then restart the server.";
        await showManualPasswordInstructions(host, reply);
        return;
      }
      first.input.value = second.input.value = "";
      host.toasts.success("Password set. You are logged in.");
      onDone();
    } catch (error) {
      status.textContent = describeAuthError(error);
    } finally {
      submit.disabled = false;
    }
  });
  setTimeout(() => first.input.focus(), 0);
  return form;
}

/**
 * Login: the password → a one-time token for the terminal socket (and the login cookie).
 * @param {HolafHost} host
 * @param {{onDone: (token: string | null) => void, reason?: string}} options
 */
export function buildLoginView(host, { onDone, reason }) {
  const pw = passwordInput("Password", "current-password", "holaf-terminal-password");
  const status = el("p", { className: "holaf-terminal-auth-status", testid: "holaf-terminal-auth-status", attrs: { role: "status" } });
  const submit = el("button", {
    className: "holaf-button holaf-button-primary", text: "Log in", testid: "holaf-terminal-auth-submit",
    attrs: { type: "submit" },
  });
  const form = card(
    "Log in to open the terminal",
    reason || "Enter the Holaf Utilities password.",
    [pw.node, status, el("div", { className: "holaf-row", children: [submit] })],
    "holaf-terminal-login",
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pw.input.value) {
      status.textContent = "Enter the password.";
      pw.input.focus();
      return;
    }
    submit.disabled = true;
    status.textContent = "Checking…";
    let locked = false;
    try {
      const reply = await host.fetchJson("/holaf/terminal/auth", { method: "POST", body: { password: pw.input.value } });
      pw.input.value = "";
      onDone(reply?.session_token || null);
    } catch (error) {
      pw.input.value = "";
      if (error instanceof HolafApiError && error.status === 429) {
        locked = true;
        lockFor(submit, status, error.retryAfter ?? error.body?.retry_after ?? 5);
      } else {
        status.textContent = describeAuthError(error);
      }
      pw.input.focus();
    } finally {
      if (!locked) submit.disabled = false;
    }
  });
  setTimeout(() => pw.input.focus(), 0);
  return form;
}
