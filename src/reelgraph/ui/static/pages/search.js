// Full-text search over the graph, with kind, domain, owner and tag filters; results as you type.
import { api } from "../api.js";
import { debounce, errorBox, h, href, kindBadge, nodeLink, notice, tags } from "../dom.js";

const FILTERS = ["domain", "owner", "tag"];

function field(id, label, input) {
  return h("div", {}, h("label", { for: id }, label), input);
}

function hits(found, q) {
  if (!found.hits.length) {
    return notice(`No node matches “${q}”. Try fewer or other words, or clear the filters.`);
  }
  return h("ul", { class: "hits", "aria-label": "Search results" }, found.hits.map(({ node }) =>
    h("li", { class: "card" },
      kindBadge(node.kind), " ",
      h("span", { class: "hit-uri" }, nodeLink(node.uri)),
      h("div", { class: "muted" }, `domain ${node.domain} · owner ${node.owner || "—"}`),
      node.description ? h("div", {}, node.description) : null,
      h("div", {}, tags(node.tags)))));
}

export async function render(view, params) {
  const kinds = await api.get("/graph/kinds");
  const q = h("input", { id: "q", type: "search", value: params.get("q") || "",
    placeholder: "ratings, ranker, embedding…", autocomplete: "off" });
  const kind = h("select", { id: "kind" }, h("option", { value: "" }, "any kind"),
    kinds.node_kinds.map((k) => h("option", { value: k.name, selected: params.get("kind") === k.name }, k.name)));
  const inputs = Object.fromEntries(FILTERS.map((f) =>
    [f, h("input", { id: f, type: "text", value: params.get(f) || "", size: 14 })]));
  const results = h("div", { id: "results", "aria-live": "polite" });
  let asked = 0;

  async function run() {
    const mine = ++asked;
    const query = { q: q.value.trim(), kind: kind.value,
      ...Object.fromEntries(FILTERS.map((f) => [f, inputs[f].value.trim()])) };
    history.replaceState(null, "", href("search", query));
    if (!query.q) {
      results.replaceChildren(notice("Type a word to search names, descriptions, tags and " +
        "properties of every node (an empty search finds nothing)."));
      return;
    }
    let content;
    try {
      content = hits(await api.get("/graph/search", { ...query, limit: 50 }), query.q);
    } catch (err) {
      content = errorBox(err);
    }
    if (mine === asked) results.replaceChildren(content);
  }

  const later = debounce(run, 150);
  view.append(
    h("h1", {}, "Search the lifecycle graph"),
    h("form", { class: "card row", role: "search", onsubmit: (e) => { e.preventDefault(); run(); },
      oninput: later, onchange: later },
    field("q", "Words", q), field("kind", "Kind", kind),
    FILTERS.map((f) => field(f, f[0].toUpperCase() + f.slice(1), inputs[f]))),
    results);
  await run();
  q.focus();
}
