// RecSysOps monitors: what each watches and who owns it, each signal's check series as a
// small plot (failed checks in red), and the monitor's alerts. The check series comes from
// GET /ops/checks where the server has it; otherwise the plots show the alerts' values and
// say so.
import { api } from "../api.js";
import { sparkline } from "../chart.js";
import { errorBox, h, link, nodeLink, notice, section, table, timeS, value } from "../dom.js";

const LIMIT = 500; // checks per monitor

// {signal: [{x, y, bad}]}, and where the points came from.
async function series(monitor, alerts) {
  try {
    const found = await api.get("/ops/checks", { monitor: monitor.uri, limit: LIMIT });
    return { from: "checks", bySignal: group(found.checks.map((c) => ({ signal: c.signal,
      x: c.at, y: c.value, bad: !c.passed }))) };
  } catch (err) {
    if (!err?.missingRoute) throw err;
  }
  return { from: "alerts", bySignal: group(alerts.map((a) => ({ signal: a.signal, x: a.at,
    y: a.value, bad: true }))) };
}

function group(points) {
  const out = {};
  for (const p of points) (out[p.signal] ||= []).push(p);
  return out;
}

function plots(found) {
  const signals = Object.keys(found.bySignal).sort();
  if (!signals.length) {
    return h("p", { class: "muted" }, found.from === "checks" ? "No check has run yet."
      : "No alert yet.");
  }
  return h("div", { class: "plots" }, signals.map((signal) => h("figure", { class: "plot",
    "data-signal": signal }, sparkline(found.bySignal[signal], { label: signal }),
  h("figcaption", {}, signal))));
}

async function card(monitor, alerts) {
  const found = await series(monitor, alerts);
  return section(monitor.uri.split("/").pop(),
    table([{ label: "monitor", cell: (m) => nodeLink(m.uri) },
      { label: "kind", cell: (m) => m.kind },
      { label: "watches", cell: (m) => m.watches.map((w) => h("div", {}, nodeLink(w))) },
      { label: "owner", cell: (m) => m.owner },
      { label: "window", cell: (m) => `${value(m.window_s / 3600)} h` },
      { label: "reference", cell: (m) => (m.learned ? "learned" : "not learned yet") }], [monitor]),
    h("h3", {}, found.from === "checks" ? "Checks" : "Alert values"),
    found.from === "alerts" ? h("p", { class: "muted series-note" },
      "This server does not serve the check series (GET /api/v1/ops/checks), so only the " +
      "values that raised alerts are plotted.") : null,
    plots(found),
    h("h3", {}, `Alerts (${alerts.length})`),
    alerts.length ? table([
      { label: "at", cell: (a) => timeS(a.at) },
      { label: "signal", cell: (a) => a.signal },
      { label: "value", cell: (a) => value(a.value), num: true },
      { label: "severity", cell: (a) => h("span", { class: `severity-${a.severity}` }, a.severity) },
      { label: "incident", cell: (a) => (a.incident
        ? link("incidents", { name: a.incident.split("/").pop() }, a.incident.split("/").pop()) : "—") },
      { label: "message", cell: (a) => a.message },
    ], alerts) : h("p", { class: "muted" }, "None."));
}

// A monitor as the ops API lists it, from its graph node (when the listing fails).
async function fromGraph(uri) {
  const { node, edges } = await api.get("/graph/node", { uri });
  const p = node.properties || {};
  return { uri, kind: p.kind || "—", owner: node.owner, window_s: p.window_s ?? 86400,
    learned: Boolean(p.reference),
    watches: edges.filter((e) => e.kind === "monitors" && e.direction === "out").map((e) => e.node) };
}

// The ops listing; if the server fails to list them (a monitor node it cannot read), the
// monitors that raised alerts, read from the graph, with the server's error above them.
async function monitorList(alerts) {
  try {
    return { monitors: (await api.get("/ops/monitors")).monitors, failure: null };
  } catch (err) {
    if (err?.status !== 500) throw err;
    const uris = [...new Set(alerts.map((a) => a.monitor))];
    return { monitors: await Promise.all(uris.map(fromGraph)), failure: err };
  }
}

export async function render(view) {
  const alerts = await api.get("/ops/alerts", { limit: 1000 });
  const monitors = await monitorList(alerts.alerts);
  view.append(h("h1", {}, "Monitors"),
    h("p", {}, link("incidents", {}, "Incidents"), " · ", link("replay", {}, "Replay a request")),
    monitors.failure ? [errorBox(monitors.failure), h("p", { class: "muted", id: "partial" },
      "Showing only the monitors that raised alerts, read from the graph.")] : null);
  if (!monitors.monitors.length) {
    view.append(notice("No monitor yet (`reelgraph ops monitors`)."));
    return;
  }
  view.append(await Promise.all(monitors.monitors.map((m) => card(m,
    alerts.alerts.filter((a) => a.monitor === m.uri)))));
}
