/**
 * The terminal's session list: every shell running on the server, attach to one, kill one,
 * start a new one. Rendered in a drawer of the terminal panel. No side effects at import.
 */
import { confirmDialog } from "../common/dialog.js";
import { el } from "../common/dom.js";

/** @typedef {import("../common/host.js").HolafHost} HolafHost */

/** "3 min ago"-style age of a Unix time in seconds. */
export function ago(epochSeconds, now = Date.now() / 1000) {
  const s = Math.max(0, Math.round(now - epochSeconds));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** "closes in 12 min" for a detached session, or who is watching. */
export function sessionState(session, currentId) {
  if (session.id === currentId) return session.clients > 1 ? `this window + ${session.clients - 1} other` : "this window";
  if (session.clients > 0) return `open in ${session.clients} window${session.clients > 1 ? "s" : ""}`;
  if (session.expires_in_s === null || session.expires_in_s === undefined) return "detached";
  const minutes = Math.ceil(session.expires_in_s / 60);
  return `detached, closes in ${minutes < 60 ? `${minutes} min` : `${Math.round(minutes / 60)} h`} if idle`;
}

export class SessionList {
  /**
   * @param {HolafHost} host
   * @param {{currentId: () => (string | null), onAttach: (id: string) => void, onNew: () => void,
   *          onKilled: (id: string) => void, theme: () => string}} options
   */
  constructor(host, options) {
    this.host = host;
    this.options = options;
    this.rows = el("tbody");
    this.summary = el("span", { className: "holaf-muted", testid: "holaf-terminal-sessions-summary" });
    const table = el("table", {
      className: "holaf-terminal-session-table",
      children: [
        el("thead", {
          children: [el("tr", { children: ["Shell", "Started", "State", ""].map((h) => el("th", { text: h })) })],
        }),
        this.rows,
      ],
    });
    const newButton = el("button", {
      className: "holaf-button", text: "New session", testid: "holaf-terminal-sessions-new", attrs: { type: "button" },
    });
    newButton.addEventListener("click", () => options.onNew());
    const refresh = el("button", {
      className: "holaf-button", text: "Refresh", testid: "holaf-terminal-sessions-refresh", attrs: { type: "button" },
    });
    refresh.addEventListener("click", () => this.refresh());
    this.element = el("div", {
      className: "holaf-terminal-sessions", testid: "holaf-terminal-sessions",
      children: [
        el("div", { className: "holaf-terminal-sessions-head", children: [el("strong", { text: "Sessions" }), this.summary] }),
        table,
        el("div", { className: "holaf-row", children: [newButton, refresh] }),
      ],
    });
  }

  async refresh() {
    let body;
    try {
      body = await this.host.fetchJson("/holaf/terminal/sessions");
    } catch (error) {
      this.summary.textContent = `Cannot list the sessions: ${error?.message || error}`;
      return;
    }
    const current = this.options.currentId();
    this.summary.textContent = `${body.sessions.length} of ${body.max_sessions} running`;
    this.rows.replaceChildren(...body.sessions.map((session) => this._row(session, current)));
    if (!body.sessions.length) {
      this.rows.appendChild(el("tr", { children: [el("td", { attrs: { colspan: "4" }, className: "holaf-muted", text: "No shell is running." })] }));
    }
  }

  _row(session, current) {
    const attach = el("button", {
      className: "holaf-button", text: "Attach", testid: "holaf-terminal-session-attach", attrs: { type: "button" },
    });
    attach.disabled = session.id === current;
    attach.addEventListener("click", () => this.options.onAttach(session.id));
    const kill = el("button", {
      className: "holaf-button holaf-button-danger", text: "Kill", testid: "holaf-terminal-session-kill", attrs: { type: "button" },
    });
    kill.addEventListener("click", () => this._kill(session));
    const row = el("tr", {
      className: session.id === current ? "holaf-terminal-session-current" : "",
      testid: "holaf-terminal-session-row",
      dataset: { sessionId: session.id },
      children: [
        el("td", { text: `${session.shell} (pid ${session.pid})`, attrs: { title: session.cwd } }),
        el("td", { text: ago(session.created_at) }),
        el("td", { text: sessionState(session, current) }),
        el("td", { className: "holaf-terminal-session-actions", children: [attach, kill] }),
      ],
    });
    return row;
  }

  async _kill(session) {
    const ok = await confirmDialog({
      title: "Kill this terminal session?",
      message: `${session.shell} (pid ${session.pid}) and every program started from it will be stopped.`,
      confirmLabel: "Kill", danger: true, theme: this.options.theme(),
    });
    if (!ok) return;
    try {
      await this.host.fetchJson(`/holaf/terminal/sessions/${encodeURIComponent(session.id)}/kill`, { method: "POST", body: {} });
      this.options.onKilled(session.id);
    } catch (error) {
      this.host.toasts.error(`Could not kill the session: ${error?.message || error}`);
    }
    await this.refresh();
  }
}
