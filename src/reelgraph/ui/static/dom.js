// Small DOM helpers shared by the pages.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "text") {
      el.textContent = value;
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function href(route, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== null && v !== undefined && v !== "") query.append(key, String(v));
    }
  }
  const qs = query.toString();
  return `#/${route}${qs ? `?${qs}` : ""}`;
}

export const link = (route, params, text) => h("a", { href: href(route, params) }, text);

export function parseUri(uri) {
  const m = /^rg:\/\/([^/]+)\/([^/]+)\/(.+?)(?:@([^@/]+))?$/.exec(uri || "");
  return m ? { kind: m[1], namespace: m[2], name: m[3], version: m[4] || null } : null;
}

export const nodeLink = (uri, text) => link("node", { uri }, text || uri);

const KIND_COLORS = {
  dataset: "#2f7d4f", feature: "#2457c5", embedding: "#6b4fc4", model: "#c2410c",
  run: "#5b6575", job: "#475569", deployment: "#a21caf", consumer: "#0f766e",
  experiment: "#b45309", experiment_cell: "#b45309", monitor: "#be123c", incident: "#991b1b",
  media_asset: "#0369a1", artifact: "#64748b",
};
export const kindColor = (kind) => KIND_COLORS[kind] || "#5b6575";

export const kindBadge = (kind) =>
  h("span", { class: "kind", style: `background:${kindColor(kind)}` }, kind);

export const tags = (list) => (list || []).map((t) => h("span", { class: "tag" }, t));

// Times: the API sends microseconds (graph, runs, registry) or nanoseconds (media).
export function time(us) {
  if (us === null || us === undefined) return "—";
  return new Date(us / 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// Times in seconds since the epoch (RecSysOps).
export const timeS = (s) => (s === null || s === undefined ? "—" : time(s * 1e6));

export function isoMicros(us) {
  const seconds = new Date(Math.floor(us / 1e6) * 1000).toISOString().replace(/\.\d+Z$/, "");
  return `${seconds}.${String(us % 1e6).padStart(6, "0")}Z`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${(seconds * 1000).toFixed(0)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  return `${(seconds / 60).toFixed(1)} min`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

export function value(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (Array.isArray(v) && v.length > 8 && v.every((x) => typeof x === "number")) {
    return `[${v.slice(0, 6).map((x) => x.toFixed(3)).join(", ")}, … ${v.length} numbers]`;
  }
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

// columns: [{label, cell: row => node or text, num: bool}]
// A column: { label, cell(row), num: right-aligned number, token: a short word never broken }.
export function table(columns, rows, caption) {
  return h("table", {},
    caption ? h("caption", { class: "muted" }, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", {},
      columns.map((c) => h("td", { class: c.num ? "num" : c.token ? "token" : null },
        c.cell(row)))))));
}

export function kv(object) {
  return h("table", { class: "kv" }, h("tbody", {}, Object.entries(object || {}).map(
    ([k, v]) => h("tr", {}, h("th", { scope: "row" }, k),
      h("td", {}, v instanceof Node ? v : value(v))))));
}

export const section = (title, ...children) =>
  h("section", { class: "card" }, h("h2", {}, title), ...children);

export function errorBox(err) {
  const problem = err?.problem || err?.message || String(err);
  return h("div", { class: "error", role: "alert" },
    h("strong", {}, `Error: ${problem}`),
    err?.fix ? h("span", {}, `Fix: ${err.fix}`) : null);
}

export const notice = (text) => h("p", { class: "notice" }, text);

// Fill `el` from an async load: "Loading…" first, then the content or a readable error.
export async function fill(el, load) {
  el.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    const content = await load();
    el.replaceChildren(...[content].flat(Infinity).filter((c) => c));
  } catch (err) {
    el.replaceChildren(errorBox(err));
  }
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
