// Every page of the UI, in navigation order. Adding a page: write pages/NAME.js exporting
// `async function render(view, params)`, then add one line here. `hidden` pages are reached
// by links only; `navAs` highlights another page's tab.
export const PAGES = [
  { route: "search", title: "Search", load: () => import("./search.js") },
  { route: "node", title: "Node", hidden: true, navAs: "search", load: () => import("./node.js") },
  { route: "lineage", title: "Lineage", load: () => import("./lineage.js") },
  { route: "runs", title: "Runs", load: () => import("./runs.js") },
  { route: "models", title: "Models", load: () => import("./models.js") },
  { route: "features", title: "Features", load: () => import("./features.js") },
  { route: "media", title: "Media", load: () => import("./media.js") },
  { route: "recommend", title: "Recommendations", load: () => import("./recommend.js") },
  { route: "incidents", title: "Incidents", load: () => import("./incidents.js") },
  { route: "monitors", title: "Monitors", load: () => import("./monitors.js") },
  { route: "replay", title: "Replay", navAs: "incidents", hidden: true, load: () => import("./replay.js") },
  { route: "matchcut", title: "Match cuts", load: () => import("./matchcut.js") },
];
