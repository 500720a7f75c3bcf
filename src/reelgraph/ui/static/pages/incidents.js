// RecSysOps incidents: the list (status filter, severity, affected nodes) and one incident
// (timeline, verdict and evidence, root-cause candidates, hotfixes, and the actions: roll
// back, block an item, switch a canvas to a fallback, invalidate nearline answers, diagnose,
// resolve with the review). Writes ask for the API token.
import { api } from "../api.js";
import { errorBox, h, href, kv, link, nodeLink, notice, section, table, timeS, value } from "../dom.js";

const STATUSES = ["open", "mitigated", "resolved"];
const CANVASES = ["*", "homepage", "related", "category", "search", "notifications"];
// The review resolving an incident walks (ops/resolution.py REVIEW); the server checks it.
const REVIEW = ["could it have been detected sooner or predicted?", "is the check now automatic?",
  "was everything needed to decide at hand?", "was the hotfix a couple of clicks?"];
const WHO_KEY = "reelgraph.who";

const status = (s) => h("span", { class: `incident-${s}` }, s);
const severity = (s) => h("span", { class: `severity-${s}` }, s);
const affected = (uris) => uris.map((uri) => h("div", {}, nodeLink(uri), " ",
  h("a", { href: href("lineage", { uri }), class: "muted" }, "lineage")));

async function list(view, params) {
  const chosen = params.get("status") || "";
  const filter = h("select", { id: "status", onchange: () => {
    location.hash = href("incidents", { status: filter.value });
  } }, h("option", { value: "" }, "any status"),
  STATUSES.map((s) => h("option", { value: s, selected: s === chosen }, s)));
  const found = await api.get("/ops/incidents", { status: chosen || null });
  view.append(h("h1", {}, "Incidents"),
    h("div", { class: "row" }, h("div", {}, h("label", { for: "status" }, "Status"), filter),
      h("p", {}, link("monitors", {}, "Monitors"), " · ", link("replay", {}, "Replay a request"))),
    found.incidents.length ? h("div", { class: "card" }, table([
      { label: "incident", cell: (i) => link("incidents", { name: i.uri.split("/").pop() }, i.uri.split("/").pop()) },
      { label: "title", cell: (i) => i.title },
      { label: "status", cell: (i) => status(i.status) },
      { label: "severity", cell: (i) => severity(i.severity) },
      { label: "opened", cell: (i) => timeS(i.opened_at) },
      { label: "owner", cell: (i) => i.owner || "—" },
      { label: "verdict", cell: (i) => i.verdict || "—" },
      { label: "affects", cell: (i) => affected(i.affects) },
    ], found.incidents.slice().reverse(), "newest first"))
      : notice(chosen ? `No ${chosen} incident.` : "No incident yet: failing checks open them."));
}

function diagnosisOf(incident) {
  const events = incident.timeline.filter((e) => e.kind === "diagnosis");
  return events.length ? events[events.length - 1].detail : null;
}

function diagnosisView(found) {
  if (!found) return h("p", { class: "muted" }, "Not diagnosed yet: press Diagnose.");
  return [
    kv({ verdict: h("strong", { id: "verdict" }, found.verdict),
      window: found.window ? `${timeS(found.window[0])} → ${timeS(found.window[1])}` : "—" }),
    h("h3", {}, "Evidence"),
    found.evidence.length ? h("ul", { id: "evidence" }, found.evidence.map((e) => h("li", {}, e)))
      : h("p", { class: "muted" }, "No evidence recorded."),
    h("h3", {}, "Root-cause candidates"),
    found.candidates.length ? table([
      { label: "node", cell: (c) => nodeLink(c.uri) },
      { label: "why", cell: (c) => c.reason },
      { label: "score", cell: (c) => value(c.score), num: true },
    ], found.candidates) : h("p", { class: "muted" }, "No candidate named."),
  ];
}

const describe = (detail) => Object.entries(detail || {})
  .filter(([k]) => !["candidates", "evidence", "answers"].includes(k))
  .map(([k, v]) => `${k}: ${value(v)}`).join(", ");

function actionsCard(name, incident, run) {
  const who = h("input", { id: "who", type: "text", value: sessionStorage.getItem(WHO_KEY) || "oncall" });
  const item = h("input", { id: "block-item", type: "text", size: 10, placeholder: "item id" });
  const canvas = h("select", { id: "block-canvas" }, CANVASES.map((c) => h("option", { value: c }, c)));
  const hours = h("input", { id: "block-hours", type: "number", min: "0", step: "any", size: 6,
    placeholder: "never" });
  const whoIs = () => {
    sessionStorage.setItem(WHO_KEY, who.value.trim());
    return who.value.trim();
  };
  const closed = incident.status === "resolved";
  const button = (label, onclick, primary = false) => h("button", { type: "button",
    class: primary ? "primary" : null, disabled: closed, onclick }, label);
  const answers = REVIEW.map((q, i) => h("div", {}, h("label", { for: `review-${i}` }, q),
    h("textarea", { id: `review-${i}`, rows: 2, cols: 60 })));
  return section("Actions",
    closed ? notice("This incident is resolved.") : null,
    h("div", { class: "row" }, h("div", {}, h("label", { for: "who" }, "Your name (kept in the audit)"), who)),
    h("div", { class: "row actions-row" },
      button("Diagnose", () => run("Diagnose", "Diagnosed", () => api.post(`/ops/incidents/${name}/diagnose`, {}, { write: true }))),
      button("Roll back", () => run("Roll back", "Rolled back", async () => {
        const done = await api.post("/ops/rollback", { who: whoIs(), incident: incident.uri }, { write: true });
        return `the model is back at v${done.version}`;
      }), true)),
    h("div", { class: "row actions-row" },
      h("div", {}, h("label", { for: "block-item" }, "Item"), item),
      h("div", {}, h("label", { for: "block-canvas" }, "Canvas"), canvas),
      h("div", {}, h("label", { for: "block-hours" }, "Expires in (hours)"), hours),
      button("Block item", () => run("Block item", "Blocked", async () => {
        const rule = await api.post("/ops/rules", { item: item.value.trim(), canvas: canvas.value,
          action: "block", who: whoIs(), incident: incident.uri,
          expires_in_s: hours.value ? Number(hours.value) * 3600 : null }, { write: true });
        return `rule ${rule.id}: block ${rule.item} on ${rule.canvas}`;
      }))),
    switchRow(incident, whoIs, button, run),
    invalidateRow(incident, whoIs, button, run),
    h("details", {}, h("summary", {}, "Resolve with review"), answers,
      button("Resolve", () => run("Resolve with review", "Resolved", () => api.post(`/ops/incidents/${name}/resolve`,
        { who: whoIs(), answers: Object.fromEntries(REVIEW.map((q, i) => [q, answers[i].querySelector("textarea").value])) },
        { write: true })), true)));
}

function switchRow(incident, whoIs, button, run) {
  const canvas = h("select", { id: "switch-canvas" }, CANVASES.map((c) => h("option", { value: c }, c)));
  const to = h("select", { id: "switch-to" }, ["fallback", "nearline-only"].map((e) => h("option", { value: e }, e)));
  const hours = h("input", { id: "switch-hours", type: "number", min: "0", step: "any", size: 6, value: "1" });
  return h("div", { class: "row actions-row" },
    h("div", {}, h("label", { for: "switch-canvas" }, "Canvas"), canvas),
    h("div", {}, h("label", { for: "switch-to" }, "Serve from"), to),
    h("div", {}, h("label", { for: "switch-hours" }, "For (hours)"), hours),
    button("Switch canvas", () => run("Switch canvas", "Switched", async () => {
      const done = await api.post("/ops/switches", { canvas: canvas.value, environment: to.value,
        expires_in_s: Number(hours.value) * 3600, who: whoIs(), incident: incident.uri }, { write: true });
      return `switch ${done.id}: ${done.canvas} served from ${done.environment}`;
    })));
}

function invalidateRow(incident, whoIs, button, run) {
  const canvas = h("select", { id: "invalidate-canvas" }, ["category", "notifications"].map((c) => h("option", { value: c }, c)));
  const users = h("input", { id: "invalidate-users", type: "text", size: 14, placeholder: "all members" });
  return h("div", { class: "row actions-row" },
    h("div", {}, h("label", { for: "invalidate-canvas" }, "Nearline canvas"), canvas),
    h("div", {}, h("label", { for: "invalidate-users" }, "Members (comma-separated)"), users),
    button("Invalidate and recompute", () => run("Invalidate nearline", "Invalidated", async () => {
      const chosen = users.value.split(",").map((u) => u.trim()).filter(Boolean);
      const done = await api.post("/ops/nearline/invalidate", { canvases: [canvas.value], users: chosen,
        who: whoIs(), incident: incident.uri }, { write: true });
      return `invalidation ${done.id}: ${done.removed} answer(s) removed, recomputing`;
    })));
}

async function detail(view, params) {
  const name = params.get("name");
  const [incident, alerts] = await Promise.all([api.get(`/ops/incidents/${encodeURIComponent(name)}`),
    api.get("/ops/alerts", { limit: 1000 })]);
  const outcome = h("div", { id: "outcome", "aria-live": "polite" });

  async function run(verb, done, action) {
    outcome.replaceChildren(h("p", { class: "muted" }, "Working…"));
    let said;
    try {
      said = await action();
    } catch (err) {
      outcome.replaceChildren(err?.missingRoute ? notice(`"${verb}" is not available from this ` +
        "server yet: its API has no such endpoint. Nothing was changed.") : errorBox(err));
      return;
    }
    view.replaceChildren();
    await detail(view, params);
    view.querySelector("#outcome").replaceChildren(
      notice(typeof said === "string" ? `${done}: ${said}.` : `${done}.`));
  }

  const mine = alerts.alerts.filter((a) => a.incident === incident.uri);
  const hotfixes = incident.timeline.filter((e) => e.kind === "hotfix");
  view.append(
    h("h1", {}, `Incident ${name}: ${incident.title}`),
    h("p", {}, link("incidents", {}, "All incidents")),
    outcome,
    h("div", { class: "grid2" },
      section("Incident", kv({ status: status(incident.status), severity: severity(incident.severity),
        owner: incident.owner || "—", opened: timeS(incident.opened_at),
        mitigated: timeS(incident.mitigated_at), resolved: timeS(incident.resolved_at),
        affects: h("div", {}, affected(incident.affects)) })),
      section("Verdict", diagnosisView(diagnosisOf(incident)))),
    actionsCard(name, incident, run),
    section("Hotfixes applied", hotfixes.length ? table([
      { label: "at", cell: (e) => timeS(e.at), token: true },
      { label: "who", cell: (e) => e.who, token: true },
      { label: "hotfix", cell: (e) => describe(e.detail) },
    ], hotfixes) : h("p", { class: "muted", id: "no-hotfix" }, "None yet.")),
    section("Timeline", table([
      { label: "at", cell: (e) => timeS(e.at), token: true },
      { label: "event", cell: (e) => e.kind, token: true },
      { label: "who", cell: (e) => e.who, token: true },
      { label: "detail", cell: (e) => describe(e.detail) },
    ], incident.timeline)),
    section(`Alerts (${mine.length})`, mine.length ? table([
      { label: "at", cell: (a) => timeS(a.at), token: true },
      { label: "monitor", cell: (a) => nodeLink(a.monitor) },
      { label: "signal", cell: (a) => a.signal, token: true },
      { label: "value", cell: (a) => value(a.value), num: true },
      { label: "severity", cell: (a) => severity(a.severity), token: true },
      { label: "message", cell: (a) => a.message },
    ], mine) : h("p", { class: "muted" }, "No alert among the latest 1000.")),
    incident.review ? section("Review", kv(incident.review)) : null);
}

export async function render(view, params) {
  return params.get("name") ? detail(view, params) : list(view, params);
}
