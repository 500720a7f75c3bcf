// The feature store: definitions, versions, freshness, replication state (offline / online /
// vector), a value lookup and nearest neighbours.
import { api } from "../api.js";
import {
  fill, h, kv, link, nodeLink, notice, section, table, time, value,
} from "../dom.js";

const base = (name) => `/features/${name.split("/").map(encodeURIComponent).join("/")}`;

function age(us) {
  const minutes = (Date.now() - us / 1000) / 60000;
  if (minutes < 60) return `${Math.max(0, Math.round(minutes))} min ago`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1)} h ago`;
  return `${(minutes / 1440).toFixed(1)} days ago`;
}

async function list(view) {
  const found = await api.get("/features");
  view.append(h("h1", {}, "Features"), found.features.length ? h("div", { class: "card" }, table([
    { label: "feature", cell: (f) => link("features", { name: `${f.namespace}/${f.name}` }, `${f.namespace}/${f.name}`) },
    { label: "kind", cell: (f) => f.kind },
    { label: "entity", cell: (f) => f.entity },
    { label: "value", cell: (f) => value(f.value) },
    { label: "replicas", cell: (f) => ["offline", ...f.replicate_to].join(", ") },
    { label: "versions", cell: (f) => f.versions.length, num: true },
    { label: "fresh", cell: (f) => (f.versions[0] ? age(f.versions[0].registered_at) : "—") },
  ], found.features)) : notice("No feature is registered yet."));
}

function replicas(report) {
  return [h("p", { class: report.ok ? "ok" : "bad" }, report.ok
    ? "Every replica equals the offline store." : "Some replica differs from the offline store."),
  table([
    { label: "replica", cell: (r) => r.replica },
    { label: "in sync", cell: (r) => h("span", { class: r.ok ? "ok" : "bad" }, r.ok ? "yes" : "no") },
    { label: "missing", cell: (r) => r.missing, num: true },
    { label: "different", cell: (r) => r.different, num: true },
    { label: "extra", cell: (r) => r.extra, num: true },
  ], Object.values(report.replicas))];
}

function lookupForm(path, version) {
  const keys = h("input", { id: "keys", type: "text", size: 30, placeholder: "1, 2, 3" });
  const out = h("div", { "aria-live": "polite" });
  return h("form", { onsubmit: async (e) => {
    e.preventDefault();
    const key = keys.value.split(",").map((k) => k.trim()).filter((k) => k);
    if (!key.length) {
      out.replaceChildren(notice("Enter one or more entity keys, separated by commas."));
      return;
    }
    await fill(out, async () => {
      const found = await api.get(`${path}/online`, { key, version });
      return [table([
        { label: "key", cell: (r) => r[0] },
        { label: "value", cell: (r) => value(r[1]) },
      ], Object.entries(found.values), `from the ${found.source} replica`),
      found.missing.length ? notice(`No stored value for: ${found.missing.join(", ")}`) : null];
    });
  } },
  h("div", { class: "row" }, h("div", {}, h("label", { for: "keys" }, "Entity keys"), keys),
    h("button", { type: "submit", class: "primary" }, "Look up")), out);
}

function neighboursForm(path, version) {
  const key = h("input", { id: "nn-key", type: "text", size: 12, placeholder: "1" });
  const k = h("input", { id: "nn-k", type: "number", min: 1, max: 100, value: "10", size: 4 });
  const out = h("div", { "aria-live": "polite" });
  return h("form", { onsubmit: async (e) => {
    e.preventDefault();
    await fill(out, async () => {
      const found = await api.get(`${path}/neighbors`, { key: key.value.trim(), k: k.value, version });
      return table([
        { label: "key", cell: (n) => n.key },
        { label: "cosine", cell: (n) => n.score.toFixed(4), num: true },
      ], found.neighbors);
    });
  } },
  h("div", { class: "row" }, h("div", {}, h("label", { for: "nn-key" }, "Entity key"), key),
    h("div", {}, h("label", { for: "nn-k" }, "How many"), k),
    h("button", { type: "submit", class: "primary" }, "Find neighbours")), out);
}

async function detail(view, name, version) {
  const path = base(name);
  const f = await api.get(path, { version });
  const replication = h("div");
  view.append(
    h("h1", {}, `Feature ${name}`),
    h("p", {}, link("features", {}, "All features"), " · ", nodeLink(f.uri, "Graph node"), " · ",
      link("lineage", { uri: f.uri }, "Lineage")),
    h("div", { class: "grid2" },
      section("Definition", f.description ? h("p", {}, f.description) : null, kv({
        kind: f.kind, version: f.version, entity: f.entity, value: f.value,
        "depends on": f.depends_on.join(", ") || "—", params: f.params,
        replicas: ["offline", ...f.replicate_to].join(", "),
        "code loaded": f.loaded ? "yes" : "no (reads only; computing needs the feature file)" })),
      section("Versions", table([
        { label: "version", cell: (v) => link("features", { name, version: v.version }, v.version) },
        { label: "registered", cell: (v) => `${time(v.registered_at)} (${age(v.registered_at)})` },
        { label: "node", cell: (v) => nodeLink(v.uri, "open") },
      ], f.versions))),
    section("Replication state", replication),
    section("Value lookup", lookupForm(path, version)),
    f.replicate_to.includes("vector") ? section("Nearest neighbours", neighboursForm(path, version)) : null);
  if (f.replicate_to.length) {
    await fill(replication, async () => replicas(await api.post(`${path}/verify`, undefined,
      { params: { version } })));
  } else {
    replication.append(h("p", { class: "muted" }, "Offline only: this feature has no replica."));
  }
}

export async function render(view, params) {
  const name = params.get("name");
  return name ? detail(view, name, params.get("version")) : list(view);
}
