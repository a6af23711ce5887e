// Canvas line charts for the System Monitor: drawn once per call, no animation, no timers.
// Lines are decimated to one min/max pair per pixel column, so an hour (3600 points) or a day
// costs the same few hundred lineTo calls. Hover is left to the caller (a DOM cursor and tooltip),
// so moving the mouse never redraws the canvas. No side effects at import.

const GAP_FACTOR = 3;

/** Size the backing store for the element's CSS size and device pixel ratio; true when it changed. */
export function fitCanvas(canvas, cssWidth, cssHeight, dpr = 1) {
  const width = Math.max(1, Math.round(cssWidth * dpr));
  const height = Math.max(1, Math.round(cssHeight * dpr));
  if (canvas.width === width && canvas.height === height) return false;
  canvas.width = width;
  canvas.height = height;
  return true;
}

function strokeSegments(ctx, rows, index, x, y, gapS) {
  // One polyline per run of rows without a gap; per pixel column keep first, min, max, last.
  let column = null;
  let first = 0;
  let min = 0;
  let max = 0;
  let last = 0;
  let lastT = null;
  let drawing = false;
  const flush = () => {
    if (column === null) return;
    if (!drawing) {
      ctx.moveTo(column, y(first));
      drawing = true;
    } else {
      ctx.lineTo(column, y(first));
    }
    if (max !== min) {
      ctx.lineTo(column, y(min));
      ctx.lineTo(column, y(max));
    }
    ctx.lineTo(column, y(last));
  };
  for (const row of rows) {
    const value = row[index];
    const t = row[0];
    if (value === null || value === undefined || (lastT !== null && t - lastT > gapS)) {
      flush();
      column = null;
      drawing = false;
      if (value === null || value === undefined) {
        lastT = null;
        continue;
      }
    }
    lastT = t;
    const px = Math.round(x(t));
    if (px !== column) {
      flush();
      column = px;
      first = min = max = last = value;
    } else {
      if (value < min) min = value;
      if (value > max) max = value;
      last = value;
    }
  }
  flush();
}

/**
 * Draw one chart.
 * opts: {width, height, t0, t1, yMax, lines: [{index, color, dash?}], fine, coarse, fineStepS, jobs,
 *        colors: {grid, text, job, jobFailed, running}, now}
 */
export function drawChart(ctx, opts) {
  const { width, height, t0, t1 } = opts;
  const yMax = opts.yMax || 100;
  const colors = opts.colors || {};
  const pad = { top: 4, bottom: 4, left: 0, right: 0 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const span = Math.max(1e-6, t1 - t0);
  const x = (t) => pad.left + ((t - t0) / span) * plotW;
  const y = (v) => pad.top + plotH - (Math.max(0, Math.min(yMax, v)) / yMax) * plotH;

  ctx.clearRect(0, 0, width, height);

  // running-job shading and job markers
  const jobs = opts.jobs || [];
  let openStart = null;
  const spans = [];
  for (const marker of jobs) {
    if (marker.phase === "start") openStart = marker.t;
    else if (marker.phase === "end") {
      spans.push([openStart ?? t0, marker.t, marker.status]);
      openStart = null;
    }
  }
  if (openStart !== null) spans.push([openStart, opts.now ?? t1, "running"]);
  if (colors.running) {
    ctx.fillStyle = colors.running;
    ctx.globalAlpha = 0.12; // a faint band: the theme gives a solid colour
    for (const [a, b] of spans) {
      if (b < t0 || a > t1) continue;
      const xa = Math.max(pad.left, x(a));
      ctx.fillRect(xa, pad.top, Math.max(1, Math.min(width, x(b)) - xa), plotH);
    }
    ctx.globalAlpha = 1;
  }

  // grid at 25/50/75 %
  ctx.lineWidth = 1;
  ctx.strokeStyle = colors.grid || "rgba(128,128,128,0.25)";
  ctx.beginPath();
  for (const fraction of [0.25, 0.5, 0.75]) {
    const gy = Math.round(y(yMax * fraction)) + 0.5;
    ctx.moveTo(pad.left, gy);
    ctx.lineTo(width - pad.right, gy);
  }
  ctx.stroke();

  for (const marker of jobs) {
    if (marker.t < t0 || marker.t > t1) continue;
    const failed = marker.phase === "end" && marker.status && marker.status !== "success";
    ctx.strokeStyle = failed ? colors.jobFailed || "#d9534f" : colors.job || "rgba(128,128,128,0.8)";
    ctx.setLineDash(marker.phase === "start" ? [] : [2, 2]);
    ctx.beginPath();
    const mx = Math.round(x(marker.t)) + 0.5;
    ctx.moveTo(mx, pad.top);
    ctx.lineTo(mx, height - pad.bottom);
    ctx.stroke();
  }
  ctx.setLineDash([]);

  // the lines
  const fine = opts.fine || [];
  const coarse = opts.coarse || [];
  const fineGap = Math.max(GAP_FACTOR * (opts.fineStepS || 1), (GAP_FACTOR * span) / Math.max(1, plotW), 5);
  const coarseGap = GAP_FACTOR * 60;
  ctx.lineJoin = "round";
  ctx.lineWidth = 1.25;
  for (const line of opts.lines || []) {
    ctx.strokeStyle = line.color;
    ctx.setLineDash(line.dash || []);
    ctx.beginPath();
    strokeSegments(ctx, coarse, line.index, x, y, coarseGap);
    strokeSegments(ctx, fine, line.index, x, y, fineGap);
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** The row nearest to time t (rows sorted by t), or null. */
export function nearestRow(rows, t) {
  if (!rows.length) return null;
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid][0] < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(rows[lo - 1][0] - t) < Math.abs(rows[lo][0] - t)) lo -= 1;
  return rows[lo];
}
