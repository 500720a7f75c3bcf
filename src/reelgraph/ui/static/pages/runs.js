// Flow runs: a filtered list, and one run's steps with status, timings, logs, parameters and
// artifacts. Runs start (and resume) from the CLI, Python or a worker: the API is read-only
// for runs, so the page shows the resume command rather than a button.
import { api } from "../api.js";
import { bytes, duration, h, href, kv, link, notice, section, table, time } from "../dom.js";

const STATUSES = ["", "running", "succeeded", "failed"];
const seconds = (start, end) => (start && end ? (end - start) / 1e6 : null);
const status = (s) => h("span", { class: `status-${s}` }, s);

function filters(params) {
  const flow = h("input", { id: "flow", type: "text", value: params.get("flow") || "" });
  const state = h("select", { id: "status" }, STATUSES.map((s) =>
    h("option", { value: s, selected: (params.get("status") || "") === s }, s || "any")));
  return h("form", { class: "card row", onsubmit: (e) => {
    e.preventDefault();
    location.hash = href("runs", { flow: flow.value.trim(), status: state.value });
  } },
  h("div", {}, h("label", { for: "flow" }, "Flow"), flow),
  h("div", {}, h("label", { for: "status" }, "Status"), state),
  h("button", { type: "submit", class: "primary" }, "Filter"));
}

async function list(view, params) {
  const found = await api.get("/runs", { flow: params.get("flow"), status: params.get("status"),
    limit: 200 });
  view.append(h("h1", {}, "Runs"), filters(params), found.runs.length ? h("div", { class: "card" },
    table([
      { label: "run", cell: (r) => link("runs", { id: r.id }, r.id) },
      { label: "flow", cell: (r) => `${r.namespace}/${r.flow}` },
      { label: "status", cell: (r) => status(r.status) },
      { label: "started", cell: (r) => time(r.started_at) },
      { label: "took", cell: (r) => duration(seconds(r.started_at, r.ended_at)), num: true },
      { label: "executor", cell: (r) => r.executor },
      { label: "trigger", cell: (r) => r.trigger || "—" },
    ], found.runs)) : notice("No run matches these filters."));
}

function steps(run) {
  const counts = {};
  for (const t of run.tasks) counts[t.step] = (counts[t.step] || 0) + 1;
  const names = Object.keys(run.steps);
  return h("div", { class: "steps", role: "list", "aria-label": "Steps in order" },
    names.map((name, i) => [
      i ? h("span", { class: "arrow", "aria-hidden": "true" }, "→") : null,
      h("div", { class: `step ${run.steps[name]}`, role: "listitem" }, h("strong", {}, name),
        h("div", {}, status(run.steps[name])),
        counts[name] > 1 ? h("div", { class: "muted" }, `${counts[name]} tasks`) : null),
    ]));
}

function timeline(run) {
  const start = run.started_at;
  const span = Math.max((run.ended_at || Math.max(...run.tasks.map((t) => t.ended_at || 0))) -
    start, 1);
  const bar = (t) => {
    if (!t.started_at) return "—";
    const left = ((t.started_at - start) / span) * 100;
    const width = (((t.ended_at || t.started_at) - t.started_at) / span) * 100;
    return h("div", { style: "position:relative;width:260px" },
      h("div", { class: "bar", style: `margin-left:${left.toFixed(1)}%;width:${width.toFixed(1)}%` }));
  };
  return table([
    { label: "step", cell: (t) => t.step + (t.index === null ? "" : `[${t.index}]`) },
    { label: "status", cell: (t) => status(t.status) },
    { label: "attempts", cell: (t) => t.attempts, num: true },
    { label: "started", cell: (t) => time(t.started_at) },
    { label: "took", cell: (t) => duration(seconds(t.started_at, t.ended_at)), num: true },
    { label: "timeline", cell: bar },
  ], run.tasks);
}

function artifacts(run) {
  const stored = run.tasks.filter((t) => t.artifact);
  if (!stored.length) return h("p", { class: "muted" }, "No step stored a value.");
  return table([
    { label: "step", cell: (t) => t.step + (t.index === null ? "" : `[${t.index}]`) },
    { label: "type", cell: (t) => t.artifact.type },
    { label: "format", cell: (t) => t.artifact.format },
    { label: "size", cell: (t) => bytes(t.artifact.size), num: true },
    { label: "digest", cell: (t) => h("code", { title: t.artifact.digest }, t.artifact.digest.slice(0, 12)) },
    { label: "reused from", cell: (t) => (t.reused_from ? link("runs", { id: t.reused_from }, t.reused_from) : "—") },
  ], stored);
}

function logs(found) {
  return found.tasks.map((t) => h("details", { open: t.status === "failed" },
    h("summary", {}, `${t.step}${t.index === null ? "" : `[${t.index}]`} · ${t.status}`),
    h("pre", {}, t.log || "(no output)"),
    t.error ? h("pre", { class: "bad" }, t.traceback || t.error) : null));
}

async function detail(view, id) {
  const path = `/runs/${encodeURIComponent(id)}`;
  const [run, found] = await Promise.all([api.get(path), api.get(`${path}/logs`)]);
  const resume = `reelgraph runs resume ${run.id}`;
  view.append(
    h("h1", {}, `Run ${run.id}`),
    h("p", {}, link("runs", {}, "All runs"), " · ", link("runs", { flow: run.flow }, `Runs of ${run.flow}`)),
    h("div", { class: "grid2" },
      section("Run", kv({ flow: `${run.namespace}/${run.flow}`, status: status(run.status),
        started: time(run.started_at), ended: time(run.ended_at),
        took: duration(seconds(run.started_at, run.ended_at)), executor: run.executor,
        trigger: run.trigger, "resume of": run.resume_of ? link("runs", { id: run.resume_of }, run.resume_of) : "—",
        source: run.source, "code hash": run.code_hash, "git commit": run.git_commit,
        seed: run.seed }), run.error ? h("pre", { class: "bad" }, run.error) : null),
      section("Parameters", Object.keys(run.params).length ? kv(run.params) :
        h("p", { class: "muted" }, "none"))),
    section("Steps", steps(run)),
    section("Timings", timeline(run)),
    section("Artifacts", artifacts(run)),
    section("Logs", logs(found)),
    section("Resume", h("p", {}, run.status === "failed"
      ? "Resume reruns the failed steps and reuses the finished ones. Runs start from the CLI, " +
        "Python or a worker (the API does not start runs); on a machine with the flow's code:"
      : "This run did not fail; a resume would reuse every step. From the CLI:"),
    h("pre", {}, resume)));
}

export async function render(view, params) {
  const id = params.get("id");
  return id ? detail(view, id) : list(view, params);
}
