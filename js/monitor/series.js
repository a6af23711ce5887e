// The overlay's copy of the monitor history: the server's `history` message plus live samples,
// kept as rows [t, v1, v2, …] in the server's column order. Fine rows cover the last hour; older
// minutes are averaged into coarse rows, exactly like the server does, so a 24 h window still
// works after the overlay has been open all day. No side effects at import.

export const FINE_SPAN_S = 3600;
export const COARSE_SPAN_S = 86400;
export const COARSE_STEP_S = 60;
const MAX_JOBS = 2000;

/** The value of one history column in a `sample` message (mirrors holaf_system_monitor_backend.history.history_values). */
export function columnValue(sample, column) {
  switch (column) {
    case "cpu": return sample.cpu?.percent ?? null;
    case "ram": return sample.ram?.percent ?? null;
    case "swap": return sample.swap?.percent ?? null;
    case "proc_cpu": return sample.process?.cpu_percent ?? null;
    default: {
      const match = /^gpu(\d+)_(util|vram|temp)$/.exec(column);
      if (!match) return null;
      const gpu = (sample.gpus || [])[Number(match[1])];
      if (!gpu) return null;
      return { util: gpu.util, vram: gpu.vram_percent, temp: gpu.temp_c }[match[2]] ?? null;
    }
  }
}

export class MonitorSeries {
  constructor() {
    this.columns = ["t"];
    this.fine = [];
    this.coarse = [];
    this.jobs = [];
    this.stepS = 1;
    this._bucket = null;
    this._sums = [];
    this._counts = [];
  }

  /** Replace everything with a `history` message. */
  loadHistory(message) {
    this.columns = Array.isArray(message.columns) ? message.columns.slice() : ["t"];
    this.stepS = message.step_s || 1;
    this.fine = Array.isArray(message.points) ? message.points.slice() : [];
    this.coarse = Array.isArray(message.coarse?.points) ? message.coarse.points.slice() : [];
    this.jobs = Array.isArray(message.jobs) ? message.jobs.slice(-MAX_JOBS) : [];
    this._bucket = null;
    this._resetBucket();
  }

  index(column) {
    return this.columns.indexOf(column);
  }

  _resetBucket() {
    this._sums = new Array(this.columns.length).fill(0);
    this._counts = new Array(this.columns.length).fill(0);
  }

  /** Append one live `sample`; returns false when it is older than what we have. */
  addSample(sample) {
    const t = sample.t;
    const last = this.fine.length ? this.fine[this.fine.length - 1][0] : -Infinity;
    if (!(t > last)) return false;
    const row = [t];
    for (let i = 1; i < this.columns.length; i += 1) row.push(columnValue(sample, this.columns[i]));
    this.fine.push(row);
    this._aggregate(row);
    this._trim(t);
    return true;
  }

  _aggregate(row) {
    const bucket = Math.floor(row[0] / COARSE_STEP_S);
    if (this._bucket !== null && bucket !== this._bucket) this._flush();
    this._bucket = bucket;
    for (let i = 1; i < row.length; i += 1) {
      if (row[i] !== null && row[i] !== undefined) {
        this._sums[i] += row[i];
        this._counts[i] += 1;
      }
    }
  }

  _flush() {
    if (this._counts.some((c) => c > 0)) {
      const row = [(this._bucket + 0.5) * COARSE_STEP_S];
      for (let i = 1; i < this.columns.length; i += 1) {
        row.push(this._counts[i] ? Math.round((this._sums[i] / this._counts[i]) * 10) / 10 : null);
      }
      const lastCoarse = this.coarse.length ? this.coarse[this.coarse.length - 1][0] : -Infinity;
      if (row[0] > lastCoarse) this.coarse.push(row);
    }
    this._resetBucket();
  }

  _trim(now) {
    let drop = 0;
    while (drop < this.fine.length && this.fine[drop][0] < now - FINE_SPAN_S) drop += 1;
    if (drop > 256 || (drop > 0 && this.fine.length > 20000)) this.fine.splice(0, drop);
    let dropCoarse = 0;
    while (dropCoarse < this.coarse.length && this.coarse[dropCoarse][0] < now - COARSE_SPAN_S) dropCoarse += 1;
    if (dropCoarse) this.coarse.splice(0, dropCoarse);
  }

  addJob(marker) {
    this.jobs.push(marker);
    if (this.jobs.length > MAX_JOBS) this.jobs.splice(0, this.jobs.length - MAX_JOBS);
  }

  /** Rows to draw for [t0, t1]: {coarse, fine}; coarse rows stop where the fine ones begin. */
  window(t0, t1) {
    const firstFine = this.fine.length ? this.fine[0][0] : Infinity;
    const coarse = [];
    if (t0 < firstFine) {
      for (const row of this.coarse) {
        if (row[0] >= t0 - COARSE_STEP_S && row[0] <= t1 && row[0] + COARSE_STEP_S / 2 <= firstFine) coarse.push(row);
      }
    }
    let lo = 0;
    let hi = this.fine.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.fine[mid][0] < t0) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < this.fine.length && this.fine[end][0] <= t1) end += 1;
    return { coarse, fine: this.fine.slice(Math.max(0, lo - 1), end) };
  }

  jobsBetween(t0, t1) {
    return this.jobs.filter((j) => j.t >= t0 && j.t <= t1);
  }
}
