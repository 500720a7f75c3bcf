// The model registry: versions, stages, metrics, gates, consumers and deployments, with stage
// moves and roll back (the API token is asked for once and kept in sessionStorage only).
import { api } from "../api.js";
import { errorBox, h, kv, link, nodeLink, notice, section, table, time, value } from "../dom.js";

// The stage moves the registry allows (flows/registry/stages.py); it checks them again.
const MOVES = { none: ["staging", "archived"], staging: ["production", "none", "archived"],
  production: ["archived"], archived: ["staging"] };
const WHO_KEY = "reelgraph.who";

const base = (name) => `/registry/models/${name.split("/").map(encodeURIComponent).join("/")}`;
const stage = (s) => h("span", { class: s === "production" ? "ok" : null }, s);

async function list(view) {
  const found = await api.get("/registry/models");
  view.append(h("h1", {}, "Models"), found.models.length ? h("div", { class: "card" }, table([
    { label: "model", cell: (m) => link("models", { name: m.name }, m.name) },
    { label: "owner", cell: (m) => m.owner || "—" },
    { label: "latest", cell: (m) => m.latest ?? "—", num: true },
    { label: "production", cell: (m) => (m.production ? `v${m.production}` : "—") },
    { label: "description", cell: (m) => m.description },
  ], found.models)) : notice("No model is registered yet (`reelgraph models register`)."));
}

function refusal(err) {
  const gates = err?.body?.gates;
  return h("div", {}, errorBox(err), gates ? table([
    { label: "gate", cell: (g) => g.gate },
    { label: "passed", cell: (g) => h("span", { class: g.passed ? "ok" : "bad" }, g.passed ? "yes" : "no") },
    { label: "detail", cell: (g) => g.detail },
  ], gates) : null);
}

async function deployments(versions) {
  const nodes = await Promise.all(versions.map((v) => api.get("/graph/node", { uri: v.uri })));
  const rows = nodes.flatMap(({ node, edges }) => edges
    .filter((e) => e.kind === "deployed_as" && e.direction === "out")
    .map((e) => ({ version: node.uri, deployment: e.node })));
  return rows.length ? table([
    { label: "version", cell: (r) => nodeLink(r.version) },
    { label: "deployment", cell: (r) => nodeLink(r.deployment) },
  ], rows) : h("p", { class: "muted" }, "The graph records no deployment of these versions.");
}

async function detail(view, params) {
  const name = params.get("name");
  const path = base(name);
  const [model, gates, consumers, audit] = await Promise.all([api.get(path),
    api.get(`${path}/gates`), api.get(`${path}/consumers`), api.get(`${path}/audit`)]);
  const who = h("input", { id: "who", type: "text", value: sessionStorage.getItem(WHO_KEY) || "ui" });
  const why = h("input", { id: "why", type: "text", size: 40, placeholder: "won the A/B test" });
  const outcome = h("div", { id: "outcome", "aria-live": "polite" });
  const wasProduction = new Set(audit.transitions
    .filter((t) => t.to_stage === "production" && t.outcome === "applied").map((t) => t.version));

  async function move(version, stages) {
    sessionStorage.setItem(WHO_KEY, who.value.trim());
    outcome.replaceChildren(h("p", { class: "muted" }, "Working…"));
    try {
      for (const target of stages) {
        await api.post(`${path}/versions/${version}/stage`,
          { stage: target, who: who.value.trim(), why: why.value.trim() }, { write: true });
      }
    } catch (err) {
      outcome.replaceChildren(refusal(err));
      return;
    }
    view.replaceChildren();
    await detail(view, params);
    view.querySelector("#outcome").replaceChildren(
      notice(`Moved v${version} to ${stages[stages.length - 1]}.`));
  }

  const actions = (v) => [
    ...MOVES[v.stage].map((target) => h("button", { type: "button",
      "aria-label": `Move v${v.version} to ${target}`, onclick: () => move(v.version, [target]) },
    `→ ${target}`)),
    v.stage === "archived" && wasProduction.has(v.version) ? h("button", { type: "button",
      class: "primary", onclick: () => move(v.version, ["staging", "production"]) },
    `Roll back to v${v.version}`) : null,
  ];

  view.append(
    h("h1", {}, `Model ${model.name}`),
    h("p", {}, link("models", {}, "All models")),
    section("Model", kv({ owner: model.owner || "—", description: model.description,
      created: time(model.created_at), latest: model.latest,
      production: model.production ? `v${model.production}` : "none" })),
    section("Versions",
      h("div", { class: "row" },
        h("div", {}, h("label", { for: "who" }, "Your name (kept in the audit)"), who),
        h("div", {}, h("label", { for: "why" }, "Why (optional)"), why)),
      outcome,
      table([
        { label: "version", cell: (v) => nodeLink(v.uri, `v${v.version}`) },
        { label: "stage", cell: (v) => stage(v.stage) },
        { label: "metrics", cell: (v) => Object.entries(v.metrics).map(([k, x]) => h("div", {}, `${k} = ${value(x)}`)) },
        { label: "run", cell: (v) => link("runs", { id: v.run_id }, v.run_id) },
        { label: "created", cell: (v) => `${time(v.created_at)} by ${v.created_by}` },
        { label: "move", cell: actions },
      ], model.versions.slice().reverse())),
    h("div", { class: "grid2" },
      section("Gates", gates.gates.length ? table([
        { label: "stage", cell: (g) => g.stage },
        { label: "gate", cell: (g) => g.name },
        { label: "by", cell: (g) => g.created_by },
      ], gates.gates) : h("p", { class: "muted" }, "No gate: any allowed move applies.")),
      section("Consumers", consumers.consumers.length ? table([
        { label: "consumer", cell: (c) => c.consumer },
        { label: "owner", cell: (c) => c.owner || "—" },
        { label: "since", cell: (c) => time(c.created_at) },
      ], consumers.consumers) : h("p", { class: "muted" }, "Nobody has subscribed."))),
    section("Deployments", await deployments(model.versions).catch(errorBox)),
    section("Audit (newest first)", table([
      { label: "at", cell: (t) => time(t.at) },
      { label: "version", cell: (t) => `v${t.version}` },
      { label: "move", cell: (t) => `${t.from_stage} → ${t.to_stage}` },
      { label: "outcome", cell: (t) => h("span", { class: `status-${t.outcome}` }, t.outcome) },
      { label: "who", cell: (t) => t.who },
      { label: "why", cell: (t) => t.why },
      { label: "gates", cell: (t) => t.gates.map((g) => h("div", { class: g.passed ? "ok" : "bad" },
        `${g.passed ? "✓" : "✗"} ${g.gate}`)) },
    ], audit.transitions.slice().reverse())));
}

export async function render(view, params) {
  return params.get("name") ? detail(view, params) : list(view);
}
