// Media: the assets, and one asset's shots as a strip of thumbnails over its timeline, its
// annotation tracks per type, and frame scrubbing (a slider over canonical frames).
import { api, url } from "../api.js";
import { bytes, debounce, fill, h, kv, link, nodeLink, notice, section, table } from "../dom.js";

const shaOf = (uri) => uri.split("/").pop();
const seconds = (ns) => `${(ns / 1e9).toFixed(3)} s`;

async function list(view) {
  const found = await api.get("/media");
  view.append(h("h1", {}, "Media"), found.assets.length ? h("div", { class: "card" }, table([
    { label: "file", cell: (a) => link("media", { asset: shaOf(a.uri), namespace: a.namespace }, a.file_name) },
    { label: "namespace", cell: (a) => a.namespace },
    { label: "duration", cell: (a) => `${a.duration_s.toFixed(2)} s`, num: true },
    { label: "size", cell: (a) => (a.width ? `${a.width}×${a.height}` : "audio"), num: true },
    { label: "fps", cell: (a) => (a.fps ? a.fps.toFixed(2) : "—"), num: true },
    { label: "codec", cell: (a) => a.codec || "—" },
    { label: "shots", cell: (a) => a.shots ?? "not ingested", num: true },
    { label: "bytes", cell: (a) => bytes(a.size_bytes), num: true },
  ], found.assets)) : notice("No media asset is registered yet (`reelgraph media add FILE`)."));
}

// Everything on the timeline is placed in percent of the asset's duration.
function placer(asset) {
  const start = asset.start_ns;
  const span = Math.max(asset.duration_ns, 1);
  return (ns) => Math.min(100, Math.max(0, ((ns - start) / span) * 100));
}

function strip(shots, where, frameUrl, seek) {
  return h("div", { class: "strip", role: "group", "aria-label": "Shots on the timeline" },
    shots.map((s) => h("button", {
      type: "button", title: `shot ${s.index}: ${seconds(s.start_ns)} – ${seconds(s.end_ns)}`,
      "aria-label": `Shot ${s.index}, from ${seconds(s.start_ns)}`,
      style: `left:${where(s.start_ns)}%;width:${where(s.end_ns) - where(s.start_ns)}%;` +
        `background-image:url("${frameUrl(Math.floor((s.start_ns + s.end_ns) / 2), 90)}")`,
      onclick: () => seek(s.start_ns) })),
    h("div", { class: "playhead" }));
}

function tracks(annotations, where) {
  const byType = new Map();
  for (const a of annotations) byType.set(a.type, [...(byType.get(a.type) || []), a]);
  if (!byType.size) return h("p", { class: "muted" }, "No annotation on this asset.");
  return [...byType].map(([type, rows]) => h("div", {},
    h("div", { class: "muted" }, `${type} (${rows.length})`),
    h("div", { class: "track", role: "img", "aria-label": `${rows.length} ${type} annotations` },
      rows.map((a) => h("span", {
        title: `${a.label || type} ${seconds(a.start_ns)} – ${seconds(a.end_ns)}` +
          (a.confidence === null ? "" : ` (${a.confidence.toFixed(2)})`),
        style: `left:${where(a.start_ns)}%;width:${Math.max(where(a.end_ns) - where(a.start_ns), 0.3)}%` })),
      h("div", { class: "playhead" }))));
}

async function detail(view, sha, namespace) {
  const path = `/media/${encodeURIComponent(sha)}`;
  const asset = await api.get(path, { namespace });
  const where = placer(asset);
  const frameUrl = (at, size) => url(`${path}/frame.png`, { at_ns: at, size, namespace });
  const step = asset.fps ? Math.round(1e9 / asset.fps) : 1e8;
  const slider = h("input", { id: "scrub", type: "range", min: asset.start_ns,
    max: asset.start_ns + Math.max(asset.duration_ns - step, 0), step, value: asset.start_ns,
    style: "width:100%" });
  const frame = h("img", { class: "frame", alt: "The frame at the chosen time",
    src: frameUrl(asset.start_ns, 360) });
  const clock = h("span", { "aria-live": "polite" }, seconds(asset.start_ns));
  const timeline = h("div");
  const show = debounce(() => { frame.src = frameUrl(Number(slider.value), 360); }, 60);
  const move = () => {
    const at = Number(slider.value);
    clock.textContent = seconds(at);
    for (const head of view.querySelectorAll(".playhead")) head.style.left = `${where(at)}%`;
    show();
  };
  const seek = (ns) => { slider.value = ns; move(); };
  slider.addEventListener("input", move);

  view.append(
    h("h1", {}, asset.file_name),
    h("p", {}, link("media", {}, "All media"), " · ", nodeLink(asset.uri, "Graph node"), " · ",
      h("a", { href: url(`${path}/contact-sheet`, { namespace }) }, "Contact sheet (PNG)")),
    h("div", { class: "grid-media" },
      section("Frame", frame, h("label", { for: "scrub" }, "Time (drag, or use the arrow keys)"),
        slider, h("div", {}, clock)),
      section("Asset", kv({ uri: asset.uri, duration: seconds(asset.duration_ns),
        size: asset.width ? `${asset.width}×${asset.height}` : "audio only",
        fps: asset.fps, codec: asset.codec, container: asset.container,
        bytes: bytes(asset.size_bytes), "audio streams": asset.audio_streams,
        "annotation sets": asset.annotation_sets.length }))),
    section("Timeline", timeline));
  await fill(timeline, async () => {
    const [shots, annotations] = await Promise.all([api.get(`${path}/shots`, { namespace }),
      api.get(`${path}/annotations`, { namespace, limit: 5000 })]);
    return [h("h3", {}, `Shots (${shots.shots.length})`), strip(shots.shots, where, frameUrl, seek),
      h("h3", {}, "Annotation tracks"), tracks(annotations.annotations, where)];
  });
  move();
}

export async function render(view, params) {
  const sha = params.get("asset");
  return sha ? detail(view, sha, params.get("namespace") || "studio") : list(view);
}
