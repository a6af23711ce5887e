// The System Monitor's content: value chips, one small chart per metric family (CPU/RAM, each
// GPU), a window switcher and a hover read-out. It knows nothing about panels or sockets: the
// overlay feeds it messages. Drawing happens at most once per sample (one requestAnimationFrame,
// which browsers also hold back while the tab is hidden) and never while the view is hidden or
// collapsed. Hover moves a DOM cursor and tooltip; it never redraws a canvas.
// No side effects at import.

import { drawChart, fitCanvas, nearestRow } from "./chart.js";
import { formatBytes, formatClock, formatDuration, formatNumber, formatPercent, formatRate } from "./format.js";
import { MonitorSeries } from "./series.js";

export const WINDOWS = { "1m": 60, "10m": 600, "1h": 3600, "24h": 86400 };
export const WINDOW_LABELS = { "1m": "1 min", "10m": "10 min", "1h": "1 h", "24h": "24 h" };

const PALETTE = {
  a: ["--holaf-monitor-line-a", "#d8700d"],
  b: ["--holaf-monitor-line-b", "#4ea1ff"],
  c: ["--holaf-monitor-line-c", "#9a9a9a"],
  grid: ["--holaf-monitor-grid", "rgba(140,140,140,0.25)"],
  job: ["--holaf-monitor-job", "#3fae5a"],
  jobFailed: ["--holaf-monitor-job-failed", "#e05d5d"],
  running: ["--holaf-monitor-running", "#3fae5a"],
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class MonitorView {
  /**
   * @param {HTMLElement} root  container to fill (emptied first)
   * @param {{window?: string, collapsed?: boolean, onWindowChange?: (w: string) => void}} options
   */
  constructor(root, options = {}) {
    this.root = root;
    this.options = options;
    this.series = new MonitorSeries();
    this.window = WINDOWS[options.window] ? options.window : "10m";
    this.collapsed = Boolean(options.collapsed);
    this.visible = true;
    this.latest = null;
    this.gpuDevices = [];
    this.gpuMessage = null;
    this.charts = [];
    this.frame = 0;
    this.draws = 0;
    this.colors = null;
    this._build();
    this._size = "";
    this._resizeObserver = typeof ResizeObserver === "function" ? new ResizeObserver(() => this._resized()) : null;
    this._resizeObserver?.observe(this.chartsBox);
  }

  _build() {
    this.root.replaceChildren();
    this.root.classList.add("holaf-monitor");
    this.chips = el("div", "holaf-monitor-chips");
    this.chips.setAttribute("aria-live", "off");
    this.status = el("div", "holaf-monitor-status");
    this.toolbar = el("div", "holaf-monitor-toolbar");
    this.windowButtons = {};
    for (const key of Object.keys(WINDOWS)) {
      const button = el("button", "holaf-monitor-window", WINDOW_LABELS[key]);
      button.type = "button";
      button.dataset.window = key;
      button.addEventListener("click", () => this.setWindow(key, true));
      this.windowButtons[key] = button;
      this.toolbar.appendChild(button);
    }
    this.chartsBox = el("div", "holaf-monitor-charts");
    this.tooltip = el("div", "holaf-monitor-tooltip");
    this.tooltip.hidden = true;
    this.root.append(this.chips, this.status, this.toolbar, this.chartsBox, this.tooltip);
    this._markWindow();
    this._applyCollapsed();
    this._buildCharts();
  }

  // -- charts ----------------------------------------------------------------
  _families() {
    const families = [{
      key: "cpu", title: "CPU · RAM", lines: [
        { column: "cpu", label: "CPU", color: "a", format: (v) => formatPercent(v) },
        { column: "ram", label: "RAM", color: "b", format: (v) => formatPercent(v) },
        { column: "swap", label: "Swap", color: "c", dash: [3, 3], format: (v) => formatPercent(v) },
      ],
    }];
    this.gpuDevices.forEach((device, i) => {
      families.push({
        key: `gpu${i}`, title: `GPU ${i} · ${device.name}`, lines: [
          { column: `gpu${i}_util`, label: "Load", color: "a", format: (v) => formatPercent(v) },
          { column: `gpu${i}_vram`, label: "VRAM", color: "b", format: (v) => formatPercent(v) },
          { column: `gpu${i}_temp`, label: "Temp", color: "c", dash: [3, 3], format: (v) => formatNumber(v, " °C") },
        ],
      });
    });
    return families;
  }

  _buildCharts() {
    this.chartsBox.replaceChildren();
    this.charts = this._families().map((family) => {
      const box = el("div", "holaf-monitor-chart");
      box.dataset.family = family.key;
      const head = el("div", "holaf-monitor-chart-title");
      head.appendChild(el("span", "holaf-monitor-chart-name", family.title));
      for (const line of family.lines) {
        const key = el("span", `holaf-monitor-key holaf-monitor-key-${line.color}`, line.label);
        head.appendChild(key);
      }
      const plot = el("div", "holaf-monitor-plot");
      const canvas = el("canvas", "holaf-monitor-canvas");
      const cursor = el("div", "holaf-monitor-cursor");
      cursor.hidden = true;
      plot.append(canvas, cursor);
      box.append(head, plot);
      this.chartsBox.appendChild(box);
      const chart = { family, box, plot, canvas, cursor };
      plot.addEventListener("mousemove", (event) => this._hover(chart, event));
      plot.addEventListener("mouseleave", () => this._unhover(chart));
      return chart;
    });
  }

  _readColors() {
    const style = getComputedStyle(this.root);
    const colors = {};
    for (const [name, [variable, fallback]] of Object.entries(PALETTE)) {
      colors[name] = style.getPropertyValue(variable).trim() || fallback;
    }
    return colors;
  }

  /** Call after a theme change: colours are read from CSS variables once, not on every draw. */
  refreshColors() {
    this.colors = null;
    this.requestDraw();
  }

  _range() {
    const now = this.latest?.t ?? (this.series.fine.length ? this.series.fine[this.series.fine.length - 1][0] : Date.now() / 1000);
    return [now - WINDOWS[this.window], now];
  }

  _resized() {
    const size = `${this.chartsBox.clientWidth}x${this.chartsBox.clientHeight}`;
    if (size === this._size) return;
    this._size = size;
    this.requestDraw();
  }

  requestDraw() {
    if (this.frame || !this.visible || this.collapsed) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    if (!this.visible || this.collapsed) return;
    this.colors = this.colors || this._readColors();
    const [t0, t1] = this._range();
    const rows = this.series.window(t0, t1);
    const jobs = this.series.jobsBetween(t0 - 86400, t1);
    const dpr = window.devicePixelRatio || 1;
    // Reading the size here forces layout with this sample's chips, so the ResizeObserver that fires
    // after this frame sees nothing new and does not cause a second draw.
    this._size = `${this.chartsBox.clientWidth}x${this.chartsBox.clientHeight}`;
    for (const chart of this.charts) {
      const width = chart.plot.clientWidth;
      const height = chart.plot.clientHeight;
      if (!width || !height) continue;
      fitCanvas(chart.canvas, width, height, dpr);
      const ctx = chart.canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const lines = chart.family.lines
        .map((line) => ({ index: this.series.index(line.column), color: this.colors[line.color], dash: line.dash }))
        .filter((line) => line.index > 0);
      drawChart(ctx, {
        width, height, t0, t1, yMax: 100, lines, fine: rows.fine, coarse: rows.coarse,
        fineStepS: this.series.stepS, jobs, colors: this.colors, now: t1,
      });
    }
    this.draws += 1;
  }

  // -- hover ------------------------------------------------------------------
  _hover(chart, event) {
    const rect = chart.plot.getBoundingClientRect();
    if (!rect.width) return;
    const [t0, t1] = this._range();
    const t = t0 + ((event.clientX - rect.left) / rect.width) * (t1 - t0);
    const rows = this.series.window(t0, t1);
    const row = nearestRow(rows.fine.length && t >= rows.fine[0][0] ? rows.fine : rows.coarse, t)
      || nearestRow(rows.fine, t);
    if (!row) {
      this._unhover(chart);
      return;
    }
    const x = ((row[0] - t0) / (t1 - t0)) * rect.width;
    chart.cursor.hidden = false;
    chart.cursor.style.transform = `translateX(${Math.round(x)}px)`;
    const lines = [formatClock(row[0])];
    for (const line of chart.family.lines) {
      const index = this.series.index(line.column);
      if (index > 0) lines.push(`${line.label} ${line.format(row[index])}`);
    }
    if (chart.family.key === "cpu") {
      const proc = this.series.index("proc_cpu");
      if (proc > 0) lines.push(`ComfyUI ${formatPercent(row[proc])}`);
    }
    const job = this._jobAt(row[0]);
    if (job) lines.push(job);
    this.tooltip.textContent = lines.join("\n");
    this.tooltip.hidden = false;
    const rootRect = this.root.getBoundingClientRect();
    const left = Math.min(rootRect.width - 150, Math.max(0, rect.left - rootRect.left + x + 8));
    this.tooltip.style.transform = `translate(${Math.round(left)}px, ${Math.round(rect.top - rootRect.top)}px)`;
  }

  _jobAt(t) {
    let start = null;
    for (const marker of this.series.jobs) {
      if (marker.t > t) break;
      if (marker.phase === "start") start = marker;
      else start = null;
    }
    return start ? `job running (${formatDuration(t - start.t)})` : null;
  }

  _unhover(chart) {
    chart.cursor.hidden = true;
    this.tooltip.hidden = true;
  }

  // -- messages ------------------------------------------------------------------
  loadHistory(message) {
    this.series.loadHistory(message);
    const devices = message.gpu?.devices || [];
    const changed = devices.length !== this.gpuDevices.length || devices.some((d, i) => d.name !== this.gpuDevices[i]?.name);
    this.gpuDevices = devices;
    this.gpuMessage = message.gpu?.message || null;
    this.cpuCount = message.cpu_count || null;
    if (changed) this._buildCharts();
    this._renderStatus();
    this.requestDraw();
  }

  addSample(sample) {
    this.latest = sample;
    this.series.addSample(sample);
    if (this.visible) this._renderChips(sample);
    this._renderStatus();
    this.requestDraw();
  }

  addJob(marker) {
    this.series.addJob(marker);
    this._renderStatus();
    this.requestDraw();
  }

  setConnection(state, detail) {
    this.connection = { state, detail };
    this._renderStatus();
  }

  _chip(label, value, title, level) {
    return { label, value, title: title || "", level: level || "" };
  }

  /** Update the chips in place (text only changes), rebuilding only when the set of chips changes. */
  _showChips(specs) {
    const keys = specs.map((c) => c.label).join("|");
    if (keys !== this._chipKeys) {
      this._chipKeys = keys;
      this._chipNodes = specs.map((spec) => {
        const chip = el("span", "holaf-monitor-chip");
        const value = el("span", "holaf-monitor-chip-value");
        chip.append(el("span", "holaf-monitor-chip-label", spec.label), value);
        return { chip, value, text: null, title: null, level: null };
      });
      this.chips.replaceChildren(...this._chipNodes.map((n) => n.chip));
    }
    specs.forEach((spec, i) => {
      const node = this._chipNodes[i];
      if (node.text !== spec.value) node.value.textContent = node.text = spec.value;
      if (node.title !== spec.title) node.chip.title = node.title = spec.title;
      if (node.level !== spec.level) {
        node.level = spec.level;
        if (spec.level) node.chip.dataset.level = spec.level;
        else delete node.chip.dataset.level;
      }
    });
  }

  _renderChips(sample) {
    const level = (p) => (p >= 90 ? "high" : p >= 70 ? "mid" : null);
    const chips = [];
    const cpu = sample.cpu || {};
    chips.push(this._chip("CPU", formatPercent(cpu.percent),
      `Per core: ${(cpu.per_core || []).map((v) => formatPercent(v)).join(" ")}`, level(cpu.percent)));
    const ram = sample.ram || {};
    chips.push(this._chip("RAM", `${formatBytes(ram.used)} / ${formatBytes(ram.total)}`,
      `${formatPercent(ram.percent, 1)} used, ${formatBytes(ram.available)} available`, level(ram.percent)));
    const swap = sample.swap || {};
    if (swap.total) chips.push(this._chip("Swap", formatPercent(swap.percent), `${formatBytes(swap.used)} / ${formatBytes(swap.total)}`, level(swap.percent)));
    for (const gpu of sample.gpus || []) {
      const parts = [formatPercent(gpu.util)];
      if (gpu.vram_total) parts.push(`${formatBytes(gpu.vram_used)} / ${formatBytes(gpu.vram_total)}`);
      if (gpu.temp_c !== null && gpu.temp_c !== undefined) parts.push(formatNumber(gpu.temp_c, " °C"));
      if (gpu.power_w !== null && gpu.power_w !== undefined) parts.push(formatNumber(gpu.power_w, " W"));
      const details = [
        gpu.name,
        `Power ${formatNumber(gpu.power_w, " W", 1)} of ${formatNumber(gpu.power_limit_w, " W")}`,
        `Clocks ${formatNumber(gpu.clock_graphics_mhz, " MHz")} core, ${formatNumber(gpu.clock_mem_mhz, " MHz")} memory`,
        `ComfyUI holds ${formatBytes(gpu.process_vram)}`,
        gpu.unified_memory ? "Unified memory (shared with the system)" : null,
        gpu.stale ? "Not answering: showing the last values" : null,
      ].filter(Boolean);
      chips.push(this._chip(`GPU ${gpu.id ?? gpu.index}`, parts.join(" · "), details.join("\n"),
        gpu.stale ? "stale" : level(Math.max(gpu.util ?? 0, gpu.vram_percent ?? 0))));
    }
    for (const disk of sample.disks || []) {
      chips.push(this._chip(`Disk ${disk.label}`, `${formatBytes(disk.free)} free`,
        `${formatBytes(disk.used)} of ${formatBytes(disk.total)} used (${formatPercent(disk.percent, 1)})`, level(disk.percent)));
    }
    if (sample.disk_io) {
      chips.push(this._chip("I/O", `↓${formatRate(sample.disk_io.read_bps)} ↑${formatRate(sample.disk_io.write_bps)}`,
        "Disk read and write rate"));
    }
    const proc = sample.process || {};
    chips.push(this._chip("ComfyUI", `${formatPercent(proc.cpu_percent)} · ${formatBytes(proc.rss)}`,
      "This server process: CPU (100% = one core) and resident memory"));
    this._showChips(chips);
  }

  _renderStatus() {
    const parts = [];
    const conn = this.connection;
    if (conn && conn.state === "retrying") {
      parts.push(`Disconnected (${conn.detail?.reason || "?"}); retrying in ${Math.round((conn.detail?.inMs || 0) / 1000)} s`);
    } else if (conn && conn.state === "connecting" && !this.latest) {
      parts.push("Connecting…");
    }
    if (this.gpuMessage) parts.push(this.gpuMessage);
    const job = this.latest?.job;
    if (job?.running) parts.push(`Job running for ${formatDuration((this.latest.t || 0) - (job.since || 0))}`);
    this.status.textContent = parts.join(" · ");
    this.status.hidden = parts.length === 0;
  }

  // -- state ---------------------------------------------------------------------
  _markWindow() {
    for (const [key, button] of Object.entries(this.windowButtons)) {
      button.classList.toggle("active", key === this.window);
      button.setAttribute("aria-pressed", key === this.window ? "true" : "false");
    }
  }

  setWindow(key, fromUser = false) {
    if (!WINDOWS[key] || key === this.window) return;
    this.window = key;
    this._markWindow();
    this.requestDraw();
    if (fromUser) this.options.onWindowChange?.(key);
  }

  _applyCollapsed() {
    this.root.classList.toggle("collapsed", this.collapsed);
    this.toolbar.hidden = this.collapsed;
    this.chartsBox.hidden = this.collapsed;
  }

  setCollapsed(collapsed) {
    this.collapsed = Boolean(collapsed);
    this._applyCollapsed();
    this.requestDraw();
  }

  setVisible(visible) {
    this.visible = Boolean(visible);
    if (this.visible) {
      if (this.latest) this._renderChips(this.latest);
      this.requestDraw();
    } else if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
  }

  destroy() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this._resizeObserver?.disconnect();
    this.root.replaceChildren();
  }
}
