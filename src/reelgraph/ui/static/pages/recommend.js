// Recommendations: pick a canvas and its inputs, see the answer with titles and scores, the
// model version and environment that served it, and the latency seen from this browser.
import { api } from "../api.js";
import { errorBox, h, kv, notice, section, table, value } from "../dom.js";

const INPUTS = [
  ["user", "User id", "42"], ["item", "Item id (related)", "1"],
  ["category", "Category (category row)", "Comedy"], ["query", "Query (search)", "termnator"],
];
const USES = { related: "item", category: "user and category", search: "query (and user)",
  notifications: "user" };

async function answer(request) {
  const started = performance.now();
  const served = await api.post("/recommend", request);
  const latency = performance.now() - started;
  let titles = {};
  if (served.items.length) {
    titles = (await api.get("/recommend/titles", { item: served.items.map((i) => i.item) })).titles;
  }
  return [
    kv({ model: served.model_version, environment: served.environment,
      "latency (round trip)": `${latency.toFixed(1)} ms`,
      "cold start": served.cold_start ? "yes (a generic answer)" : "no",
      "precomputed at": served.computed_at ? new Date(served.computed_at * 1000).toISOString() : "—",
      fallback: served.fallback }),
    served.items.length ? table([
      { label: "#", cell: (r) => r.rank, num: true },
      { label: "item", cell: (r) => r.item },
      { label: "title", cell: (r) => titles[r.item] || "—" },
      { label: "score", cell: (r) => value(r.score), num: true },
    ], served.items.map((r, i) => ({ ...r, rank: i + 1 }))) : notice("The answer is empty."),
  ];
}

export async function render(view, params) {
  const deployment = await api.get("/recommend/deployment");
  const canvases = Object.keys(deployment.environments);
  const canvas = h("select", { id: "canvas" }, canvases.map((c) =>
    h("option", { value: c, selected: params.get("canvas") === c }, c)));
  const fields = Object.fromEntries(INPUTS.map(([name]) =>
    [name, h("input", { id: `in-${name}`, type: "text", size: 14, value: params.get(name) || "" })]));
  for (const [name, , example] of INPUTS) fields[name].placeholder = example;
  const k = h("input", { id: "in-k", type: "number", min: 1, max: 100, value: "10", size: 4 });
  const hint = h("p", { class: "muted" });
  const out = h("div", { id: "answer", "aria-live": "polite" });
  const explain = () => { hint.textContent = `The ${canvas.value} canvas uses: ${USES[canvas.value] || "see /docs"}.`; };
  canvas.addEventListener("change", explain);
  explain();
  view.append(
    h("h1", {}, "Recommendations"),
    section("Serving", kv({ model: deployment.model, stage: deployment.stage,
      version: deployment.version ?? "none deployed", swaps: deployment.swaps,
      ...Object.fromEntries(Object.entries(deployment.environments).map(([c, env]) => [`${c} canvas`, env])) }),
    deployment.version === null ? notice("No version is deployed, so requests will be refused: " +
      "train and promote one (`reelgraph recsys train --promote`).") : null),
    h("form", { class: "card", onsubmit: async (e) => {
      e.preventDefault();
      const request = { canvas: canvas.value, k: Number(k.value) };
      for (const [name] of INPUTS) if (fields[name].value.trim()) request[name] = fields[name].value.trim();
      out.replaceChildren(h("p", { class: "muted" }, "Asking…"));
      try {
        out.replaceChildren(section("Answer", ...(await answer(request))));
      } catch (err) {
        out.replaceChildren(errorBox(err));
      }
    } },
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "canvas" }, "Canvas"), canvas),
      INPUTS.map(([name, label]) => h("div", {},
        h("label", { for: `in-${name}` }, label), fields[name])),
      h("div", {}, h("label", { for: "in-k" }, "How many"), k),
      h("button", { type: "submit", class: "primary" }, "Recommend")), hint),
    out);
}
