// Lineage and impact: an interactive graph (pan, zoom, expand a node, depth and edge-kind
// filters, a highlighted path between two nodes, click to open). Small graphs get a layered
// dagre layout; big ones a column-per-depth layout computed here in one pass, so 2,000 nodes
// draw at once.
import { api } from "../api.js";
import cytoscape from "../vendor/cytoscape.esm.min.js";
import {
  errorBox, h, href, kindBadge, kindColor, link, nodeLink, notice, parseUri, table,
} from "../dom.js";

const DAGRE_MAX = 150; // nodes; above it the layered layout costs more than it helps
const TABLE_MAX = 300; // edges listed in the accessible table
const DAGRE = { name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 170 };
const MAX_START_ZOOM = 1.1; // a small graph fitted to the view would get huge labels
let dagreLoaded = null;

function script(src) {
  return new Promise((resolve, reject) => {
    const el = document.createElement("script");
    el.src = src;
    el.onload = resolve;
    el.onerror = () => reject({ problem: `the UI could not load ${src}`,
      fix: "reload the page; if it persists, reinstall reelgraph" });
    document.head.append(el);
  });
}

function useDagre() {
  dagreLoaded ||= (async () => {
    await script("/ui/vendor/dagre.min.js");
    await script("/ui/vendor/cytoscape-dagre.js");
    cytoscape.use(window.cytoscapeDagre);
  })();
  return dagreLoaded;
}

const label = (uri) => {
  const p = parseUri(uri);
  return p ? `${p.name}${p.version ? `@${p.version}` : ""}` : uri;
};
const edgeId = (e) => `${e.src}|${e.kind}|${e.dst}`;

function elements(sub) {
  return [
    ...sub.nodes.map((n) => ({ group: "nodes", data: { id: n.uri, label: label(n.uri),
      kind: n.kind, color: kindColor(n.kind), depth: n.depth } })),
    ...sub.edges.map((e) => ({ group: "edges", data: { id: edgeId(e), source: e.src,
      target: e.dst, kind: e.kind } })),
  ];
}

// Depths left to right, each depth's nodes in a block of columns about as tall as wide:
// linear time, and a fitted view of 2,000 nodes still shows each of them.
function columns(nodes) {
  const byDepth = new Map();
  for (const n of nodes) {
    if (!byDepth.has(n.depth)) byDepth.set(n.depth, []);
    byDepth.get(n.depth).push(n);
  }
  const positions = {};
  let left = 0;
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    const list = byDepth.get(depth).sort((a, b) => a.uri.localeCompare(b.uri));
    const rows = Math.max(1, Math.ceil(Math.sqrt(list.length * 1.5)));
    list.forEach((n, i) => {
      const row = i % rows;
      positions[n.uri] = { x: left + Math.floor(i / rows) * 40, y: (row - (rows - 1) / 2) * 30 };
    });
    left += Math.ceil(list.length / rows) * 40 + 400;
  }
  return positions;
}

function style(big) {
  return [
    // A big graph draws labels only where asked (measuring 2,000 labels doubles the start).
    { selector: big ? "node.labelled, node:selected" : "node", style: {
      label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 3,
      color: "#1d2430", "text-background-color": "#fff", "text-background-opacity": 0.7 } },
    { selector: "node", style: {
      "background-color": "data(color)", width: 16, height: 16 } },
    { selector: "edge", style: {
      width: 1.2, "line-color": "#9aa5b5", "curve-style": big ? "haystack" : "bezier",
      "target-arrow-shape": big ? "none" : "triangle", "target-arrow-color": "#9aa5b5",
      label: big ? "" : "data(kind)", "font-size": 8, color: "#5b6575",
      "text-rotation": "autorotate", "text-background-color": "#fff",
      "text-background-opacity": 0.8, "text-background-padding": 1 } },
    { selector: ".root", style: { "border-width": 4, "border-color": "#f0b400" } },
    { selector: "node:selected", style: { "border-width": 4, "border-color": "#1d2430" } },
    { selector: ".faded", style: { opacity: 0.2 } },
    { selector: "node.path", style: { "background-color": "#e4572e", width: 22, height: 22 } },
    { selector: "edge.path", style: { "line-color": "#e4572e", "target-arrow-color": "#e4572e",
      width: 4 } },
  ];
}

function controls(params, edgeKinds) {
  const chosen = new Set(params.getAll("edge_kind"));
  const uri = h("input", { id: "lineage-uri", type: "text", size: 52, required: true,
    value: params.get("uri") || "", placeholder: "rg://model/NAMESPACE/NAME@VERSION" });
  const direction = h("select", { id: "direction" },
    ["upstream", "downstream"].map((d) => h("option", { value: d,
      selected: (params.get("direction") || "upstream") === d }, d)));
  const depth = h("input", { id: "depth", type: "number", min: 1, max: 50, size: 4,
    value: params.get("depth") || "10" });
  const boxes = edgeKinds.map((k) => h("input", { type: "checkbox", value: k.name,
    checked: chosen.has(k.name) }));
  return h("form", { class: "card row", onsubmit: (e) => {
    e.preventDefault();
    location.hash = href("lineage", { uri: uri.value.trim(), direction: direction.value,
      depth: depth.value, edge_kind: boxes.filter((b) => b.checked).map((b) => b.value) });
  } },
  h("div", {}, h("label", { for: "lineage-uri" }, "Node URI"), uri),
  h("div", {}, h("label", { for: "direction" }, "Direction"), direction),
  h("div", {}, h("label", { for: "depth" }, "Depth"), depth),
  h("fieldset", {}, h("legend", {}, "Edge kinds (none checked: all)"),
    boxes.map((b) => h("label", {}, b, b.value))),
  h("button", { type: "submit", class: "primary" }, "Show"));
}

// Built when opened: a 2,000-row table would cost more than the drawing.
function edgeList(edges) {
  const list = h("details", { id: "edge-list" },
    h("summary", {}, `Edges as a table (${edges.length})`));
  list.addEventListener("toggle", () => {
    if (!list.open || list.querySelector("table")) return;
    list.append(table([
      { label: "from", cell: (e) => nodeLink(e.src) },
      { label: "edge", cell: (e) => e.kind },
      { label: "to", cell: (e) => nodeLink(e.dst) },
    ], edges.slice(0, TABLE_MAX), edges.length > TABLE_MAX
      ? `the first ${TABLE_MAX}; the graph shows all` : null));
  });
  return list;
}

export async function render(view, params) {
  const uri = params.get("uri");
  const direction = params.get("direction") || "upstream";
  const edgeKinds = params.getAll("edge_kind");
  const kinds = await api.get("/graph/kinds");
  view.append(h("h1", {}, direction === "upstream" ? "Lineage" : "Impact"),
    controls(params, kinds.edge_kinds));
  if (!uri) {
    view.append(notice("Enter a node URI (or open a node from Search and follow its " +
      "Lineage link) to draw what feeds it, or choose downstream for what it affects."));
    return;
  }
  const layered = useDagre(); // fetched while the server walks the graph
  const sub = await api.get("/graph/lineage", { uri, direction,
    depth: params.get("depth") || 10, edge_kind: edgeKinds });
  performance.mark("lineage:data"); // benchmarks/ui.py splits the time here
  const big = sub.nodes.length > DAGRE_MAX;
  if (!big) await layered;

  const container = h("div", { id: "cy", role: "img",
    "aria-label": `${direction} graph of ${uri}: ${sub.nodes.length} nodes, ` +
      `${sub.edges.length} edges (the table below lists them)` });
  const side = h("div", { class: "side card", "aria-live": "polite" },
    h("p", { class: "muted" }, "Click a node (or find one above) to see it here."));
  const pick = h("input", { id: "node-pick", type: "search", style: "width:100%;min-width:0",
    placeholder: "a name or URI, then Enter" });
  const findNote = h("div", { "aria-live": "polite" });
  const from = h("input", { id: "path-from", type: "text", size: 30, value: uri });
  const to = h("input", { id: "path-to", type: "text", size: 30 });
  const pathNote = h("div", { "aria-live": "polite" });
  view.append(
    h("p", { class: "muted", id: "graph-summary" },
      `${sub.nodes.length} nodes, ${sub.edges.length} edges. Drag to pan, scroll to zoom, ` +
      "click a node to select it."),
    h("div", { class: "graph-wrap" }, container, h("div", {},
      h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); find(); } },
        h("label", { for: "node-pick" }, "Find a node"), pick, findNote),
      side,
      h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); highlight(); } },
        h("h2", {}, "Path between two nodes"),
        h("label", { for: "path-from" }, "From"), from,
        h("label", { for: "path-to" }, "To"), to,
        h("div", { class: "row" }, h("button", { type: "submit" }, "Highlight path"),
          h("button", { type: "button", onclick: () => clear() }, "Clear")),
        pathNote))),
    edgeList(sub.edges));

  const cy = cytoscape({
    container, elements: elements(sub), style: style(big),
    layout: big ? { name: "preset", positions: columns(sub.nodes), fit: true }
      : { ...DAGRE, fit: true },
    minZoom: 0.05, maxZoom: 3, boxSelectionEnabled: false,
    textureOnViewport: big, hideEdgesOnViewport: big, pixelRatio: big ? 1 : "auto",
  });
  cy.getElementById(uri).addClass("root");
  if (cy.zoom() > MAX_START_ZOOM) {
    cy.zoom(MAX_START_ZOOM);
    cy.center();
  }
  window.reelgraph = { cy }; // a handle for tests and the curious

  function select(node) {
    cy.elements().unselect();
    node.select();
    side.replaceChildren(
      h("p", {}, kindBadge(node.data("kind")), " ", h("strong", {}, node.id())),
      h("p", {}, nodeLink(node.id(), "Open node"), " · ",
        link("lineage", { uri: node.id(), direction }, `Its ${direction} lineage`)),
      h("div", { class: "row" },
        h("button", { type: "button", onclick: () => expand(node.id()) }, "Expand"),
        h("button", { type: "button", onclick: () => { from.value = node.id(); } }, "Path from"),
        h("button", { type: "button", onclick: () => { to.value = node.id(); } }, "Path to")));
  }

  function add(nodes, edges, near) {
    const origin = cy.getElementById(near).position() || { x: 0, y: 0 };
    const fresh = nodes.filter((n) => cy.getElementById(n.uri).empty());
    cy.add(fresh.map((n, i) => ({ group: "nodes", data: { id: n.uri, label: label(n.uri),
      kind: n.kind, color: kindColor(n.kind) },
    position: { x: origin.x + 160 * Math.cos(i), y: origin.y + 80 + 40 * i } })));
    cy.add(edges.filter((e) => cy.getElementById(edgeId(e)).empty())
      .map((e) => ({ group: "edges", data: { id: edgeId(e), source: e.src, target: e.dst,
        kind: e.kind } })));
    return fresh.length;
  }

  async function expand(id) {
    side.append(h("p", { class: "muted" }, "Expanding…"));
    try {
      const [up, down] = await Promise.all(["upstream", "downstream"].map((d) =>
        api.get("/graph/lineage", { uri: id, direction: d, depth: 1, edge_kind: edgeKinds })));
      const added = add([...up.nodes, ...down.nodes], [...up.edges, ...down.edges], id);
      if (!big && added) cy.layout(DAGRE).run();
      side.lastChild.textContent = `Expanded: ${added} new node${added === 1 ? "" : "s"}.`;
    } catch (err) {
      side.lastChild.replaceWith(errorBox(err));
    }
  }

  function clear() {
    cy.elements().removeClass("path faded");
    pathNote.replaceChildren();
  }

  async function highlight() {
    clear();
    try {
      const found = await api.get("/graph/path", { from: from.value.trim(), to: to.value.trim() });
      if (!found.found) {
        pathNote.replaceChildren(notice("No chain of edges joins these two nodes."));
        return;
      }
      const nodes = found.steps.map((s) => ({ uri: s.node.uri, kind: s.node.kind }));
      const edges = found.steps.filter((s) => s.via).map((s) => s.via);
      add(nodes, edges, from.value.trim());
      cy.elements().addClass("faded");
      for (const n of nodes) cy.getElementById(n.uri).removeClass("faded").addClass("path");
      for (const e of edges) cy.getElementById(edgeId(e)).removeClass("faded").addClass("path");
      pathNote.replaceChildren(h("p", {}, `Path of ${edges.length} edge` +
        `${edges.length === 1 ? "" : "s"} highlighted.`));
    } catch (err) {
      pathNote.replaceChildren(errorBox(err));
    }
  }

  cy.on("tap", "node", (event) => select(event.target));
  cy.on("dbltap", "node", (event) => { location.hash = href("node", { uri: event.target.id() }); });
  function find() {
    const wanted = pick.value.trim();
    const node = cy.getElementById(wanted).nonempty() ? cy.getElementById(wanted)
      : cy.nodes().filter((n) => n.data("label").includes(wanted)).first();
    findNote.replaceChildren();
    if (!wanted || node.empty()) {
      findNote.append(h("p", { class: "muted" }, `No node here matches “${wanted}”.`));
      return;
    }
    select(node);
    cy.animate({ center: { eles: node }, duration: 200 });
  }

  // Ready once the first frame is on screen, not just when the DOM is built.
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  performance.mark("lineage:drawn");
}
