// The match-cut review gallery: ranked pairs side by side (the end of shot A, the start of
// shot B), the rendered transition (the last second of A cut into the first second of B,
// fetched only when played), accept / reject per pair (stored as annotations by the
// reviewer), filters by title, kind and score, and the keyboard: j / k move, a / r decide.
import { api, url } from "../api.js";
import { errorBox, h, href, notice, parseUri } from "../dom.js";

const KINDS = ["frame", "motion"];
const WHO_KEY = "reelgraph.who";
const LIMIT = 200;
const FRAME_NS = 40_000_000; // one frame at 25 fps: the last frame of A starts this early

const seconds = (ns) => `${(ns / 1e9).toFixed(2)} s`;

function thumb(assetUri, atNs, alt) {
  const asset = parseUri(assetUri);
  return h("img", { class: "thumb", alt, loading: "lazy", width: 192, height: 108,
    src: url(`/media/${asset.name}/frame.png`, { at_ns: Math.max(0, atNs), size: 108,
      namespace: asset.namespace }) });
}

function filters(params, titles) {
  const go = () => {
    location.hash = href("matchcut", { title: title.value, kind: kind.value,
      min_score: minScore.value });
  };
  const title = h("select", { id: "f-title", onchange: go }, h("option", { value: "" }, "any title"),
    titles.map((t) => h("option", { value: t, selected: t === params.get("title") }, t)));
  const kind = h("select", { id: "f-kind", onchange: go }, h("option", { value: "" }, "any kind"),
    KINDS.map((k) => h("option", { value: k, selected: k === params.get("kind") }, k)));
  const minScore = h("input", { id: "f-score", type: "number", step: "any", size: 6,
    value: params.get("min_score") || "", onchange: go });
  return h("div", { class: "row" },
    h("div", {}, h("label", { for: "f-title" }, "Title"), title),
    h("div", {}, h("label", { for: "f-kind" }, "Kind"), kind),
    h("div", {}, h("label", { for: "f-score" }, "Minimum score"), minScore));
}

// A preview that cannot play (a shot too short, an unreadable file): the API's reason.
async function whyNoPreview(card, pair) {
  try {
    await api.get(`/matchcut/${pair.id}/preview.mp4`);
  } catch (err) {
    card.querySelector(".outcome").replaceChildren(errorBox(err));
  }
}

function pairCard(pair, rank, decide) {
  const badge = h("span", { class: "decision" }, pair.decision || "undecided");
  const card = h("article", { class: `pair card ${pair.decision || ""}`, tabindex: 0,
    "data-pair": pair.id, "aria-label": `Pair ${rank}: ${pair.kind} match, ${pair.title_a} to ${pair.title_b}` },
  h("div", { class: "pair-head" }, h("strong", {}, `#${rank}`), " ",
    h("span", { class: "tag" }, pair.kind), ` score ${pair.score.toFixed(3)} `,
    h("span", { class: "muted" }, `(${pair.scorer})`), " ", badge),
  h("div", { class: "pair-shots" },
    h("figure", {}, thumb(pair.asset_a, pair.span_a[1] - FRAME_NS, `End of shot A in ${pair.title_a}`),
      h("figcaption", {}, `A: ${pair.title_a} ${seconds(pair.span_a[0])}–${seconds(pair.span_a[1])}`)),
    h("figure", {}, thumb(pair.asset_b, pair.span_b[0], `Start of shot B in ${pair.title_b}`),
      h("figcaption", {}, `B: ${pair.title_b} ${seconds(pair.span_b[0])}–${seconds(pair.span_b[1])}`)),
    h("figure", {}, h("video", { class: "preview", controls: true, preload: "none", muted: true,
      width: 192, height: 108, src: url(`/matchcut/${pair.id}/preview.mp4`),
      onerror: () => whyNoPreview(card, pair) }),
    h("figcaption", {}, "Transition (A's last second, B's first)"))),
  h("div", { class: "row" },
    h("button", { type: "button", class: "accept", onclick: () => decide(card, pair, "accept") }, "Accept (a)"),
    h("button", { type: "button", class: "reject", onclick: () => decide(card, pair, "reject") }, "Reject (r)"),
    h("div", { class: "outcome", "aria-live": "polite" })));
  return card;
}

export async function render(view, params) {
  const filter = { title: params.get("title"), kind: params.get("kind"),
    min_score: params.get("min_score") };
  const all = await api.get("/matchcut", { limit: 1000 }); // the titles and the counts
  const shown = Object.values(filter).some((v) => v) ? await api.get("/matchcut",
    { ...filter, limit: LIMIT }) : { pairs: all.pairs.slice(0, LIMIT) };
  const titles = [...new Set(all.pairs.flatMap((p) => [p.title_a, p.title_b]))].sort();
  const reviewer = h("input", { id: "reviewer", type: "text",
    value: sessionStorage.getItem(WHO_KEY) || "reviewer" });

  async function decide(card, pair, decision) {
    const said = card.querySelector(".outcome");
    const who = reviewer.value.trim();
    sessionStorage.setItem(WHO_KEY, who);
    said.replaceChildren(h("span", { class: "muted" }, "Saving…"));
    try {
      await api.post(`/matchcut/${pair.id}/review`, { decision, reviewer: who }, { write: true });
    } catch (err) {
      said.replaceChildren(errorBox(err));
      return;
    }
    pair.decision = decision;
    card.classList.remove("accept", "reject");
    card.classList.add(decision);
    card.querySelector(".decision").textContent = decision;
    said.replaceChildren(h("span", { class: "ok" }, `${decision}ed by ${who}`));
  }

  const cards = shown.pairs.map((p, i) => pairCard(p, i + 1, decide));
  const gallery = h("div", { id: "gallery" }, cards);
  // j / k move between pairs, a / r decide the one holding the focus (the card or one of
  // its buttons; never while typing in a field).
  gallery.addEventListener("keydown", (event) => {
    const card = event.target.closest?.(".pair");
    if (!card || event.target.matches("input, textarea, select, video") || event.ctrlKey ||
        event.metaKey || event.altKey) return;
    const at = cards.indexOf(card);
    const pair = shown.pairs[at];
    const moves = { j: at + 1, k: at - 1 };
    if (event.key in moves) {
      cards[Math.min(Math.max(moves[event.key], 0), cards.length - 1)].focus();
    } else if (event.key === "a" || event.key === "r") {
      decide(card, pair, event.key === "a" ? "accept" : "reject");
    } else {
      return;
    }
    event.preventDefault();
  });
  const accepted = all.pairs.filter((p) => p.decision === "accept").length;
  view.append(h("h1", {}, "Match cuts"),
    h("p", { class: "muted" }, `${all.pairs.length} ranked pairs, ${accepted} accepted. ` +
      "Keys: j / k next / previous pair, a accept, r reject."),
    filters(params, titles),
    h("div", { class: "row" }, h("div", {}, h("label", { for: "reviewer" }, "Reviewer (kept with each decision)"), reviewer),
      h("a", { href: url("/matchcut/timeline.otio"), download: "matchcuts.otio" }, "Export accepted as OpenTimelineIO")),
    cards.length ? gallery : notice(all.pairs.length ? "No pair matches these filters."
      : "No match cut yet: `reelgraph matchcut find FILES`."),
    shown.pairs.length === LIMIT ? h("p", { class: "muted" }, `The best ${LIMIT} shown; narrow the filters.`) : null);
}
