// RecSysOps monitors: what each watches and who owns it, each signal's check series
// (GET /ops/checks) as a small plot with failed checks in red, and the monitor's alerts.
import { api } from "../api.js";
import { sparkline } from "../chart.js";
import { h, link, nodeLink, notice, section, table, timeS, value } from "../dom.js";

const LIMIT = 500; // checks per monitor

// {signal: [{x, y, bad}]}
async function series(monitor) {
  const found = await api.get("/ops/checks", { monitor: monitor.uri, limit: LIMIT });
  return group(found.checks.map((c) => ({ signal: c.signal, x: c.at, y: c.value, bad: !c.passed })));
}

function group(points) {
  const out = {};
  for (const p of points) (out[p.signal] ||= []).push(p);
  return out;
}

function plots(bySignal) {
  const signals = Object.keys(bySignal).sort();
  if (!signals.length) return h("p", { class: "muted" }, "No check has run yet.");
  return h("div", { class: "plots" }, signals.map((signal) => h("figure", { class: "plot",
    "data-signal": signal }, sparkline(bySignal[signal], { label: signal }),
  h("figcaption", {}, signal))));
}

async function card(monitor, alerts) {
  const bySignal = await series(monitor);
  return section(monitor.uri.split("/").pop(),
    table([{ label: "monitor", cell: (m) => nodeLink(m.uri) },
      { label: "kind", cell: (m) => m.kind },
      { label: "watches", cell: (m) => m.watches.map((w) => h("div", {}, nodeLink(w))) },
      { label: "owner", cell: (m) => m.owner },
      { label: "window", cell: (m) => `${value(m.window_s / 3600)} h` },
      { label: "reference", cell: (m) => (m.learned ? "learned" : "not learned yet") }], [monitor]),
    h("h3", {}, "Checks"),
    plots(bySignal),
    h("h3", {}, `Alerts (${alerts.length})`),
    alerts.length ? table([
      { label: "at", cell: (a) => timeS(a.at) },
      { label: "signal", cell: (a) => a.signal, token: true },
      { label: "value", cell: (a) => value(a.value), num: true },
      { label: "severity", cell: (a) => h("span", { class: `severity-${a.severity}` }, a.severity),
        token: true },
      { label: "incident", cell: (a) => (a.incident
        ? link("incidents", { name: a.incident.split("/").pop() }, a.incident.split("/").pop()) : "—"),
        token: true },
      { label: "message", cell: (a) => a.message },
    ], alerts) : h("p", { class: "muted" }, "None."));
}

export async function render(view) {
  const alerts = await api.get("/ops/alerts", { limit: 1000 });
  const { monitors } = await api.get("/ops/monitors");
  view.append(h("h1", {}, "Monitors"),
    h("p", {}, link("incidents", {}, "Incidents"), " · ", link("replay", {}, "Replay a request")));
  if (!monitors.length) {
    view.append(notice("No monitor yet (`reelgraph ops monitors`)."));
    return;
  }
  view.append(await Promise.all(monitors.map((m) => card(m,
    alerts.alerts.filter((a) => a.monitor === m.uri)))));
}
