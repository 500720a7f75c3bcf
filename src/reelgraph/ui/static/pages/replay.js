// Replay and explain one logged request: whether the logged answer reproduces, the 2x2 of
// logged / recomputed inputs against the logged / current model, and, where the server has
// the explain endpoint, which inputs drove each item's score.
import { api } from "../api.js";
import { h, href, kv, link, notice, section, table, value } from "../dom.js";

const verdict = (same) => h("span", { class: same ? "ok" : "bad" }, same ? "identical" : "differs");

// Rows: the inputs (logged, recomputed); columns: the model versions, logged one first.
function grid(report) {
  const versions = [report.logged_version,
    ...new Set(report.cells.map((c) => c.version).filter((v) => v !== report.logged_version))];
  const cell = (inputs, version) => report.cells.find((c) => c.inputs === inputs && c.version === version);
  return h("table", { id: "grid" },
    h("thead", {}, h("tr", {}, h("th", {}, "inputs \\ model"), versions.map((v) => h("th",
      { scope: "col" }, `v${v}${v === report.logged_version ? " (logged)" : " (current)"}`)))),
    h("tbody", {}, ["logged", "recomputed"].map((inputs) => h("tr", {},
      h("th", { scope: "row" }, `${inputs} inputs`), versions.map((v) => {
        const c = cell(inputs, v);
        return h("td", { "data-cell": `${inputs}-${v}` }, c ? [verdict(c.identical),
          h("div", { class: "muted" }, `max |Δscore| ${value(c.max_score_diff)}`)]
          : h("span", { class: "muted" }, "not replayed"));
      })))));
}

function attributions(found) {
  const items = found.items || [];
  if (!items.length) return h("p", { class: "muted" }, "The explanation names no item.");
  return table([
    { label: "item", cell: (i) => i.item },
    { label: "score", cell: (i) => value(i.score), num: true },
    { label: "top inputs (Shapley value)", cell: (i) => i.contributions.slice(0, 5).map(
      (a) => h("div", {}, `${a.feature}: ${value(a.value)}`)) },
  ], items);
}

async function explain(id) {
  return attributions(await api.get(`/ops/explain/${encodeURIComponent(id)}`));
}

export async function render(view, params) {
  const id = params.get("id") || "";
  const input = h("input", { id: "request-id", type: "search", value: id, size: 40,
    placeholder: "a logged request id" });
  view.append(h("h1", {}, id ? `Replay ${id}` : "Replay a request"),
    h("p", {}, link("incidents", {}, "Incidents"), " · ", link("monitors", {}, "Monitors")),
    h("form", { class: "row", onsubmit: (event) => {
      event.preventDefault();
      location.hash = href("replay", { id: input.value.trim() });
    } }, h("div", {}, h("label", { for: "request-id" }, "Request id"), input),
    h("button", { class: "primary" }, "Replay")));
  if (!id) return;
  const [report, why] = await Promise.all([api.get(`/ops/replay/${encodeURIComponent(id)}`), explain(id)]);
  const same = report.identical;
  view.append(
    section("Replay", kv({ answer: h("strong", { id: "identical", class: same ? "ok" : "bad" },
      same ? "identical: the logged answer reproduces" : "differs from the logged answer"),
    "logged version": `v${report.logged_version}` }), grid(report)),
    h("div", { class: "grid2" },
      section("Logged answer", table([
        { label: "rank", cell: (r) => r.rank, num: true },
        { label: "item", cell: (r) => r.item },
        { label: "score", cell: (r) => value(r.score), num: true },
      ], report.logged.map((r, i) => ({ ...r, rank: i + 1 })))),
      section("Explain", h("div", { id: "explain" }, why))));
}
