// One node: properties, owner, tags, history with an as-of control, edges, models like this,
// reuse candidates, and the monitors and incidents the graph links to it.
import { api } from "../api.js";
import {
  fill, h, href, isoMicros, kindBadge, kv, link, nodeLink, notice, parseUri, section, table, tags,
  time,
} from "../dom.js";

const WATCHERS = new Set(["monitor", "incident"]);

function edgeTable(edges) {
  if (!edges.length) return h("p", { class: "muted" }, "none");
  return table([
    { label: "edge", cell: (e) => e.kind },
    { label: "node", cell: (e) => [kindBadge(parseUri(e.node)?.kind || "?"), " ", nodeLink(e.node)] },
  ], edges);
}

function asOfForm(uri, asOf) {
  const input = h("input", { id: "as-of", type: "text", value: asOf || "", size: 30,
    placeholder: "2026-11-23T10:00:00Z (empty: now)" });
  return h("form", { class: "row", onsubmit: (e) => {
    e.preventDefault();
    location.hash = href("node", { uri, as_of: input.value.trim() });
  } },
  h("div", {}, h("label", { for: "as-of" }, "As of (ISO-8601 with a zone)"), input),
  h("button", { type: "submit" }, "Show"),
  asOf ? link("node", { uri }, "back to now") : null);
}

// Linked directly, or watching something downstream (a monitor on this model's deployment).
async function watchers(uri, edges, asOf) {
  const direct = edges.filter((e) => WATCHERS.has(parseUri(e.node)?.kind))
    .map((e) => ({ node: e.node, how: `linked: ${e.kind} (${e.direction === "out" ? "from" : "to"} this node)` }));
  const impact = await api.get("/graph/impact", { uri, as_of: asOf });
  const seen = new Set(direct.map((w) => w.node));
  const downstream = Object.entries(impact.affected)
    .filter(([kind]) => WATCHERS.has(kind)).flatMap(([, nodes]) => nodes)
    .filter((n) => !seen.has(n.uri))
    .map((n) => ({ node: n.uri, how: `downstream, ${n.depth} hop${n.depth === 1 ? "" : "s"} away` }));
  const rows = [...direct, ...downstream];
  if (!rows.length) {
    return h("p", { class: "muted" },
      "The graph links no monitor or incident to this node or to anything downstream of it.");
  }
  return table([
    { label: "node", cell: (w) => [kindBadge(parseUri(w.node)?.kind || "?"), " ", nodeLink(w.node)] },
    { label: "how", cell: (w) => w.how },
  ], rows);
}

async function similar(uri) {
  const found = await api.get("/graph/similar", { uri });
  if (!found.similar.length) return notice("No other model shares this one's inputs.");
  return table([
    { label: "model", cell: (s) => nodeLink(s.model) },
    { label: "domain", cell: (s) => s.domain },
    { label: "owner", cell: (s) => s.owner },
    { label: "score", cell: (s) => s.score.toFixed(3), num: true },
    { label: "shared inputs", cell: (s) => s.shared.map((u) => h("div", {}, nodeLink(u))) },
  ], found.similar);
}

async function reuse(uri) {
  const found = await api.get("/graph/reuse", { uri });
  if (!found.candidates.length) return notice("No reuse candidate from another domain.");
  return table([
    { label: "input", cell: (c) => nodeLink(c.input) },
    { label: "domain", cell: (c) => c.domain },
    { label: "owner", cell: (c) => c.owner },
    { label: "used by", cell: (c) => nodeLink(c.used_by) },
    { label: "similarity", cell: (c) => c.similarity.toFixed(3), num: true },
  ], found.candidates);
}

export async function render(view, params) {
  const uri = params.get("uri");
  const asOf = params.get("as_of");
  if (!uri) {
    throw { problem: "no node was named", fix: "open a node from Search, or add " +
      "?uri=rg://KIND/NAMESPACE/NAME to the address" };
  }
  const [{ node, edges }, history] = await Promise.all([
    api.get("/graph/node", { uri, as_of: asOf }), api.get("/graph/history", { uri })]);
  const watching = h("div");
  const outgoing = edges.filter((e) => e.direction === "out");
  const incoming = edges.filter((e) => e.direction === "in");
  view.append(
    h("h1", {}, kindBadge(node.kind), " ", node.uri),
    h("p", {}, link("lineage", { uri }, "Lineage (upstream)"), " · ",
      link("lineage", { uri, direction: "downstream" }, "Impact (downstream)")),
    asOf ? notice(`Showing the node as of ${asOf}.`) : null,
    h("div", { class: "grid2" },
      section("Properties", node.description ? h("p", {}, node.description) : null,
        kv({ owner: node.owner || "—", domain: node.domain, revision: node.revision,
          "valid from": time(node.valid_from), tags: h("span", {}, tags(node.tags)),
          ...node.properties })),
      section("History", asOfForm(uri, asOf), table([
        { label: "rev", cell: (r) => r.revision, num: true },
        { label: "from", cell: (r) => time(r.valid_from) },
        { label: "until", cell: (r) => (r.valid_to ? time(r.valid_to) : "current") },
        { label: "", cell: (r) => (r.deleted ? "deleted" :
          link("node", { uri, as_of: isoMicros(r.valid_from) }, "view as of")) },
      ], history.revisions.slice().reverse()))),
    h("div", { class: "grid2" },
      section(`Outgoing edges (${outgoing.length})`, edgeTable(outgoing)),
      section(`Incoming edges (${incoming.length})`, edgeTable(incoming))),
    section("Incidents and monitors", watching));
  const loads = [fill(watching, () => watchers(uri, edges, asOf))];
  if (node.kind === "model") {
    const like = h("div");
    const candidates = h("div");
    view.append(section("Models like this", like),
      section("Reuse candidates from other domains", candidates));
    loads.push(fill(like, () => similar(uri)), fill(candidates, () => reuse(uri)));
  }
  await Promise.all(loads);
}
