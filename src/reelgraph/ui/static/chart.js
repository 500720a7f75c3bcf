// A small SVG time-series plot (no chart library: a line, dots and the value range), for
// the monitors' check series.
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

const fmt = (v) => (Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(3));

// points: [{x: seconds, y: number, bad: bool}] in any order; null ys are skipped.
export function sparkline(points, { width = 260, height = 64, label = "series" } = {}) {
  const shown = points.filter((p) => p.y !== null && p.y !== undefined && Number.isFinite(p.y))
    .sort((a, b) => a.x - b.x);
  const pad = { left: 4, right: 4, top: 6, bottom: 14 };
  const plot = svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`,
    role: "img", "aria-label": `${label}: ${shown.length} points` });
  plot.dataset.points = String(shown.length);
  plot.dataset.failing = String(shown.filter((p) => p.bad).length);
  if (!shown.length) {
    plot.append(svg("text", { x: 4, y: height / 2, class: "spark-label" }, "no values"));
    return plot;
  }
  const xs = shown.map((p) => p.x), ys = shown.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y) => pad.top + (y1 === y0 ? 0.5 : 1 - (y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  if (shown.length > 1) {
    plot.append(svg("polyline", { class: "spark-line", fill: "none",
      points: shown.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ") }));
  }
  for (const p of shown) {
    plot.append(svg("circle", { cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: p.bad ? 3.5 : 2,
      class: p.bad ? "spark-bad" : "spark-dot" }, svg("title", {}, `${fmt(p.y)}${p.bad ? " (failed)" : ""}`)));
  }
  plot.append(svg("text", { x: pad.left, y: height - 2, class: "spark-label" },
    `${fmt(y0)} … ${fmt(y1)}`));
  return plot;
}
