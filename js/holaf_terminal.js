/**
 * Terminal tool: a real shell on the server in a floating panel (xterm.js, loaded when the panel
 * opens). Setup and login views inside the panel, session reattach after reloads, automatic
 * reconnect with a visible state, a clear "shell exited" view with New session, a session list,
 * font size −/+ (saved in [TerminalUI] font_size), copy on select / Ctrl+Shift+C, paste with
 * Ctrl+Shift+V or right-click. Default export: the tool descriptor (see common/tools.js).
 * No side effects at import.
 * @module holaf_terminal
 */
import { authStatus } from "./common/auth.js";
import { el, ensureStylesheet } from "./common/dom.js";
import { createPanel, getPanel } from "./common/panel_manager.js";
import { buildLoginView, buildSetupView } from "./terminal/auth_views.js";
import { copyText, readText } from "./terminal/clipboard.js";
import { SessionList } from "./terminal/session_list.js";
import { TerminalConnection } from "./terminal/terminal_connection.js";
import { xtermTheme } from "./terminal/terminal_themes.js";
import { loadXterm } from "./terminal/xterm_loader.js";

/** @typedef {import("./common/host.js").HolafHost} HolafHost */

export const TERMINAL_PANEL_ID = "terminal";
const SECTION = "TerminalUI";
const SESSION_STORAGE_KEY = "holaf.terminal.session";
const FONT_MIN = 6;
const FONT_MAX = 48;
const FONT_FAMILY = '"Cascadia Mono", "JetBrains Mono", "Fira Code", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace';
const RESIZE_DEBOUNCE_MS = 80;
const COPY_DEBOUNCE_MS = 150;
/** @type {WeakMap<object, TerminalApp>} the app living in each open terminal panel */
const APPS = new WeakMap();

function storedSession() {
  try {
    return localStorage.getItem(SESSION_STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeSession(id) {
  try {
    if (id) localStorage.setItem(SESSION_STORAGE_KEY, id);
    else localStorage.removeItem(SESSION_STORAGE_KEY);
  } catch {
    /* private mode: the session just does not survive a reload */
  }
}

/** The sentence shown when a session ends. */
export function exitText({ code, reason }) {
  if (reason === "killed") return "This session was killed from the session list.";
  if (reason === "idle") return "This session was closed after being idle.";
  if (code === null || code === undefined) return "The shell has exited.";
  if (code < 0) return `The shell was ended by signal ${-code}.`;
  return code === 0 ? "The shell has exited." : `The shell exited with code ${code}.`;
}

class TerminalApp {
  /** @param {HolafHost} host */
  constructor(host) {
    this.host = host;
    this.term = null;
    this.fit = null;
    this.connection = null;
    this.exited = false;
    this._resizeTimer = 0;
    this._copyTimer = 0;
    this._countdown = 0;
    ensureStylesheet(new URL("./css/holaf_terminal.css", import.meta.url).href, "terminal");

    const headerButton = (text, title, testid, onClick) => {
      const button = el("button", {
        className: "holaf-icon-button holaf-terminal-header-button", text, testid,
        attrs: { type: "button", title, "aria-label": title },
      });
      button.addEventListener("click", onClick);
      return button;
    };
    this.fontLabel = el("span", { className: "holaf-terminal-font-size", testid: "holaf-terminal-font-size" });
    const controls = [
      headerButton("☰", "Sessions", "holaf-terminal-sessions-toggle", () => this.toggleSessions()),
      headerButton("−", "Smaller font", "holaf-terminal-font-down", () => this.changeFont(-1)),
      this.fontLabel,
      headerButton("+", "Larger font", "holaf-terminal-font-up", () => this.changeFont(1)),
    ];
    this.panel = createPanel({
      id: TERMINAL_PANEL_ID, title: "Terminal", section: SECTION, host, icon: ">_",
      headerControls: controls, minSize: { width: 320, height: 180 },
    });
    APPS.set(this.panel, this);

    this.status = el("div", { className: "holaf-terminal-status", testid: "holaf-terminal-status", attrs: { role: "status", hidden: true } });
    this.screen = el("div", { className: "holaf-terminal-screen", testid: "holaf-terminal-screen" });
    this.overlay = el("div", { className: "holaf-terminal-overlay", testid: "holaf-terminal-overlay", attrs: { hidden: true } });
    this.sessions = new SessionList(host, {
      currentId: () => this.connection?.sessionId ?? null,
      onAttach: (id) => this.attach(id),
      onNew: () => this.newSession(),
      onKilled: (id) => {
        if (id === this.root.dataset.session) this.toggleSessions(false); // its "killed" view is underneath
      },
      theme: () => this.panel.theme,
    });
    this.sessions.element.hidden = true;
    this.root = el("div", {
      className: "holaf-terminal", testid: "holaf-terminal",
      children: [this.screen, this.status, this.overlay, this.sessions.element],
    });
    this.root.dataset.state = "starting";
    this.panel.body.appendChild(this.root);

    const pool = this.panel.listeners;
    pool.track(this.panel.on("theme", () => this.applyTheme()));
    pool.track(this.panel.on("resize", () => this.scheduleFit()));
    pool.track(this.panel.on("fullscreen", () => this.scheduleFit()));
    pool.track(this.panel.on("front", () => this.term?.focus()));
    pool.track(this.panel.on("closed", () => this.destroy()));
    pool.track(host.settings.on("change", (event) => {
      const { section, values } = event.detail;
      if (section === SECTION && "font_size" in values) this.setFont(values.font_size, { save: false });
    }));
    const observer = new ResizeObserver(() => this.scheduleFit());
    observer.observe(this.screen);
    pool.track(() => observer.disconnect());
    pool.add(this.screen, "contextmenu", (event) => this.onContextMenu(/** @type {MouseEvent} */ (event)));

    this.ready = this.panel.ready.then(() => {
      this.setFont(host.settings.get(SECTION, "font_size", 14), { save: false });
      return this.start();
    });
  }

  // ------------------------------------------------------------------ views
  setState(state) {
    this.root.dataset.state = state;
  }

  showOverlay(content, state) {
    this.overlay.replaceChildren(content);
    this.overlay.hidden = false;
    this.setState(state);
  }

  hideOverlay() {
    this.overlay.hidden = true;
    this.overlay.replaceChildren();
  }

  message(title, text, buttons, testid) {
    return el("div", {
      className: "holaf-terminal-message", testid,
      children: [el("h3", { text: title }), text ? el("p", { className: "holaf-muted", text }) : null, el("div", { className: "holaf-row", children: buttons })],
    });
  }

  /**
   * @param {string} label
   * @param {() => void} onClick
   * @param {{primary?: boolean, testid?: string}} [options]
   */
  button(label, onClick, { primary = false, testid = undefined } = {}) {
    const node = el("button", {
      className: ["holaf-button", primary ? "holaf-button-primary" : ""], text: label, testid, attrs: { type: "button" },
    });
    node.addEventListener("click", onClick);
    return node;
  }

  /**
   * Decides between setup, login and the terminal itself.
   * @param {{reason?: string}} [options]
   */
  async start({ reason = undefined } = {}) {
    this.connection?.disconnect();
    let status;
    try {
      status = await authStatus(this.host);
    } catch (error) {
      this.showOverlay(this.message("The server does not answer", String(error?.message || error),
        [this.button("Retry", () => this.start(), { primary: true, testid: "holaf-terminal-retry" })], "holaf-terminal-offline"), "offline");
      return;
    }
    if (!this.panel.isOpen) return;
    if (!status.password_configured) {
      this.showOverlay(buildSetupView(this.host, { onDone: () => this.openTerminal(null) }), "setup");
    } else if (!status.authenticated) {
      this.showOverlay(buildLoginView(this.host, { onDone: (token) => this.openTerminal(token), reason }), "login");
    } else {
      await this.openTerminal(null);
    }
  }

  // ------------------------------------------------------------------ terminal
  async openTerminal(token) {
    this.hideOverlay();
    this.setState("loading");
    try {
      await this.ensureXterm();
    } catch (error) {
      console.error("[Holaf] xterm.js failed to load", error);
      this.showOverlay(this.message("The terminal could not load", String(error?.message || error),
        [this.button("Retry", () => this.openTerminal(token), { primary: true, testid: "holaf-terminal-retry" })], "holaf-terminal-load-error"), "error");
      return;
    }
    if (!this.panel.isOpen) return;
    this.fitNow();
    this.ensureConnection();
    this.exited = false;
    const sessionId = storedSession();
    this.connection.connect({ sessionId, token, rows: this.term.rows, cols: this.term.cols });
    this.term.focus();
  }

  async ensureXterm() {
    if (this.term) return;
    const { Terminal, FitAddon } = await loadXterm();
    if (this.term || !this.panel.isOpen) return;
    const term = new Terminal({
      fontFamily: FONT_FAMILY,
      fontSize: this.fontSize || 14,
      cursorBlink: true,
      scrollback: 5000,
      allowProposedApi: false,
      theme: xtermTheme(this.root),
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(this.screen);
    this.term = term;
    this.fit = fit;
    term.onData((data) => this.connection?.sendInput(data));
    term.onBinary((data) => this.connection?.sendBinary(data));
    term.onResize(({ rows, cols }) => this.connection?.resize(rows, cols));
    term.onSelectionChange(() => {
      clearTimeout(this._copyTimer);
      this._copyTimer = setTimeout(() => {
        const text = term.getSelection();
        if (text) copyText(text);
      }, COPY_DEBOUNCE_MS);
    });
    term.attachCustomKeyEventHandler((event) => this.onKey(event));
  }

  ensureConnection() {
    if (this.connection) return;
    this.connection = new TerminalConnection({
      socketUrl: (params) => `${this.host.wsUrl("/holaf/terminal")}?${params}`,
      onOutput: (bytes, done) => this.term.write(bytes, done),
      onEvent: (event) => this.onConnectionEvent(event),
      diagnose: async () => {
        const status = await authStatus(this.host);
        if (!status.password_configured) return "setup";
        return status.authenticated ? "ok" : "auth";
      },
      rememberSession: storeSession,
    });
  }

  onConnectionEvent(event) {
    if (event.type === "session") {
      // A fresh screen for the replay that follows (reattach after a reload or a reconnect).
      this.term.reset();
      this.root.dataset.session = event.info.id;
      this.panel.setTitle(`Terminal — ${event.info.shell}`);
      if (!this.sessions.element.hidden) this.sessions.refresh();
      return;
    }
    if (event.type === "notice") {
      this.host.toasts.info(event.text, { id: "holaf-terminal-notice" });
      return;
    }
    clearInterval(this._countdown);
    switch (event.state) {
      case "connecting":
        this.showStatus("Connecting…");
        this.setState("connecting");
        break;
      case "open":
        this.hideStatus();
        this.hideOverlay();
        this.setState("open");
        this.fitNow();
        break;
      case "reconnecting": {
        this.setState("reconnecting");
        const until = Date.now() + event.inMs;
        const show = () => {
          const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
          this.showStatus(left > 0 ? `Connection lost — reconnecting in ${left} s…` : "Connection lost — reconnecting…", true);
        };
        show();
        this._countdown = setInterval(show, 500);
        break;
      }
      case "exited":
        this.exited = true;
        this.hideStatus();
        this.showOverlay(this.message(exitText(event), "Start a new shell, or close the panel.", [
          this.button("New session", () => this.newSession(), { primary: true, testid: "holaf-terminal-new-session" }),
          this.button("Close", () => this.panel.close(), { testid: "holaf-terminal-close" }),
        ], "holaf-terminal-exited"), "exited");
        break;
      case "auth-required":
        this.hideStatus();
        this.start({ reason: event.message ? `Log in again: ${event.message}.` : undefined });
        break;
      case "setup-required":
        this.hideStatus();
        this.start();
        break;
      case "failed":
        this.hideStatus();
        this.showOverlay(this.message("The terminal could not start", event.message || "", [
          this.button("Retry", () => this.openTerminal(null), { primary: true, testid: "holaf-terminal-retry" }),
          this.button("Sessions", () => this.toggleSessions(true), { testid: "holaf-terminal-show-sessions" }),
        ], "holaf-terminal-failed"), "failed");
        break;
      case "closed":
        break;
      default:
        break;
    }
  }

  showStatus(text, warning = false) {
    this.status.textContent = text;
    this.status.classList.toggle("holaf-terminal-status-warning", warning);
    this.status.hidden = false;
  }

  hideStatus() {
    this.status.hidden = true;
  }

  newSession() {
    storeSession(null);
    this.toggleSessions(false);
    this.hideOverlay();
    this.exited = false;
    this.term?.reset();
    if (!this.connection) {
      this.openTerminal(null);
      return;
    }
    this.connection.newSession();
    this.term?.focus();
  }

  attach(id) {
    storeSession(id);
    this.toggleSessions(false);
    this.connection?.disconnect();
    this.openTerminal(null);
  }

  toggleSessions(force) {
    const show = force === undefined ? this.sessions.element.hidden : force;
    this.sessions.element.hidden = !show;
    if (show) this.sessions.refresh();
    else this.term?.focus();
  }

  // ------------------------------------------------------------------ size, font, theme
  scheduleFit() {
    clearTimeout(this._resizeTimer);
    this._resizeTimer = setTimeout(() => this.fitNow(), RESIZE_DEBOUNCE_MS);
  }

  fitNow() {
    if (!this.term || !this.fit || !this.screen.isConnected) return;
    if (this.screen.clientWidth < 20 || this.screen.clientHeight < 20) return; // hidden or collapsed
    try {
      this.fit.fit();
    } catch (error) {
      console.debug("[Holaf] terminal fit skipped", error);
    }
  }

  setFont(size, { save = true } = {}) {
    const value = Math.max(FONT_MIN, Math.min(FONT_MAX, Math.round(Number(size) || 14)));
    this.fontSize = value;
    this.fontLabel.textContent = String(value);
    if (this.term && this.term.options.fontSize !== value) {
      this.term.options.fontSize = value;
      this.fitNow();
    }
    if (save) this.host.settings.queue(SECTION, { font_size: value });
  }

  changeFont(delta) {
    this.setFont((this.fontSize || 14) + delta);
    this.term?.focus();
  }

  applyTheme() {
    if (this.term) this.term.options.theme = xtermTheme(this.root);
  }

  // ------------------------------------------------------------------ clipboard and keys
  /** @param {KeyboardEvent} event */
  onKey(event) {
    if (event.type !== "keydown") return true;
    const key = event.key.toLowerCase();
    if (event.ctrlKey && event.shiftKey && !event.altKey && key === "c") {
      event.preventDefault();
      const text = this.term.getSelection();
      if (text) copyText(text).then((ok) => ok && this.host.toasts.success("Copied.", { id: "holaf-terminal-copy", duration: 1200 }));
      return false;
    }
    if (event.ctrlKey && event.shiftKey && !event.altKey && key === "v") {
      return false; // the browser's own paste event reaches xterm.js (works without clipboard permission)
    }
    if (event.altKey && event.shiftKey && !event.ctrlKey && key === "t") {
      return false; // the Terminal shortcut itself: never typed into the shell
    }
    return true;
  }

  /** Right-click: copy the selection if there is one, otherwise paste. */
  async onContextMenu(event) {
    if (!this.term) return;
    event.preventDefault();
    const selection = this.term.getSelection();
    if (selection) {
      await copyText(selection);
      this.term.clearSelection();
      this.host.toasts.success("Copied.", { id: "holaf-terminal-copy", duration: 1200 });
      return;
    }
    const text = await readText();
    if (text) this.term.paste(text);
    else this.host.toasts.info("The browser does not let this page read the clipboard here: paste with Ctrl+Shift+V.", { id: "holaf-terminal-paste" });
    this.term.focus();
  }

  focus() {
    this.term?.focus();
  }

  destroy() {
    clearTimeout(this._resizeTimer);
    clearTimeout(this._copyTimer);
    clearInterval(this._countdown);
    this.connection?.disconnect(); // detach only: the shell keeps running for the idle timeout
    this.connection = null;
    this.term?.dispose();
    this.term = null;
  }
}

/**
 * Opens the Terminal panel (or brings the open one to the front).
 * @param {HolafHost} host
 */
export function openTerminal(host) {
  const existing = getPanel(TERMINAL_PANEL_ID);
  if (existing) {
    existing.show();
    APPS.get(existing)?.focus();
    return existing;
  }
  return new TerminalApp(host).panel;
}

/** @type {import("./common/tools.js").ToolDescriptor} */
const terminalTool = {
  id: TERMINAL_PANEL_ID,
  title: "Terminal",
  section: SECTION,
  order: 300,
  icon: ">_",
  comfyIcon: "pi pi-code",
  tooltip: "A shell on the server, in ComfyUI's folder and Python environment (password-protected)",
  keybinding: { key: "T", alt: true, shift: true },
  open: (host) => openTerminal(host),
};

export default terminalTool;
