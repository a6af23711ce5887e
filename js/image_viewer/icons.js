/**
 * Small stroke icons for the viewer's buttons (24 × 24 grid, drawn here, no icon font
 * or emoji needed: they look the same on every system). No side effects at import.
 * @module image_viewer/icons
 */

const SVG_NS = "http://www.w3.org/2000/svg";

/** Path data per icon; a string starting with "c:" is a circle "cx,cy,r". */
const PATHS = {
  filters: ["M4 6h16", "M7 12h10", "M10 18h4"],
  info: ["c:12,12,9", "M12 11v6", "M12 7.5v.5"],
  open: ["M3 12s3.5-6 9-6 9 6 9 6-3.5 6-9 6-9-6-9-6z", "c:12,12,2.5"],
  back: ["M15 5l-7 7 7 7"],
  fullscreen: ["M4 9V4h5", "M20 9V4h-5", "M4 15v5h5", "M20 15v5h-5"],
  compare: ["M12 3v18", "M4 5h16v14H4z", "M7 9l-2 3 2 3", "M17 9l2 3-2 3"],
  play: ["M7 5l12 7-12 7z"],
  pause: ["M8 5v14", "M16 5v14"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13", "M10 11v6", "M14 11v6"],
  restore: ["M4 12a8 8 0 1 0 2.5-5.8", "M4 4v4h4"],
  remove: ["M6 6l12 12", "M18 6L6 18"],
  tag: ["M3 12V4h8l10 10-8 8z", "c:7.5,8.5,1.2"],
  star: ["M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z"],
  download: ["M12 4v11", "M7 10l5 5 5-5", "M4 20h16"],
  more: ["c:5,12,1", "c:12,12,1", "c:19,12,1"],
  lock: ["M6 11h12v9H6z", "M8.5 11V8a3.5 3.5 0 0 1 7 0v3"],
  unlock: ["M6 11h12v9H6z", "M8.5 11V8a3.5 3.5 0 0 1 6.8-1.2"],
  keyboard: ["M3 7h18v11H3z", "M6 10h1", "M9.5 10h1", "M13 10h1", "M16.5 10h1", "M7 14.5h10"],
  external: ["M14 4h6v6", "M20 4l-9 9", "M18 14v6H4V6h6"],
  edit: ["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4"],
  folder: ["M3 6h6l2 2h10v11H3z"],
  grid: ["M4 4h7v7H4z", "M13 4h7v7h-7z", "M4 13h7v7H4z", "M13 13h7v7h-7z"],
  fit: ["M4 4h16v16H4z", "M8 9h8v6H8z"],
  fill: ["M4 4h16v16H4z", "M4 4l16 16", "M20 4L4 20"],
  arrowUp: ["M12 19V5", "M6 11l6-6 6 6"],
  copy: ["M9 9h11v11H9z", "M5 15H4V4h11v1"],
};

/**
 * An inline SVG icon.
 * @param {keyof typeof PATHS} name
 * @param {number} [size]
 * @returns {SVGSVGElement}
 */
export function icon(name, size = 15) {
  const svg = /** @type {SVGSVGElement} */ (document.createElementNS(SVG_NS, "svg"));
  for (const [k, v] of Object.entries({
    viewBox: "0 0 24 24", width: String(size), height: String(size), fill: "none", stroke: "currentColor",
    "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false",
  })) svg.setAttribute(k, v);
  svg.classList.add("holaf-iv-icon");
  for (const d of PATHS[name] || []) {
    if (d.startsWith("c:")) {
      const [cx, cy, r] = d.slice(2).split(",");
      const circle = document.createElementNS(SVG_NS, "circle");
      circle.setAttribute("cx", cx);
      circle.setAttribute("cy", cy);
      circle.setAttribute("r", r);
      svg.appendChild(circle);
    } else {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    }
  }
  return svg;
}

/** Icon names, for tests and docs. */
export const ICONS = Object.freeze(Object.keys(PATHS));
